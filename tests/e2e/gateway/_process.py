"""Start real ``releasegate serve --gateway`` processes on a project made for the test."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from releasegate.control.deployments import DeploymentService
from releasegate.store.database import open_database
from tests.e2e.deploy._cli import CLI, free_port

__all__ = ["PROMPT", "PROMPT2", "Served", "make_project", "serve"]

PROMPT = {
    "name": "chat",
    "version": "1.0.0",
    "model": "m-1",
    "system": "You are v1.",
    "template": "Q: {{ input }}",
}
PROMPT2 = {
    **PROMPT,
    "name": "chat2",
    "model": "m-2",
    "system": "You are v2.",
    "template": "{{ input }}!",
}


def make_project(root: Path, config: dict[str, Any], *, faq_model: str = "m-3") -> str:
    """Write ``config`` and two prompts under ``root``, register feature ``chat`` (v1
    active, v2 a 30% canary) and ``faq`` (one active version on ``faq_model``) in a
    new SQLite database; returns its URL."""
    (root / "prompts").mkdir(exist_ok=True)
    (root / "prompts" / "chat.yaml").write_text(yaml.safe_dump(PROMPT))
    (root / "prompts" / "chat2.yaml").write_text(yaml.safe_dump(PROMPT2))
    (root / "releasegate.yaml").write_text(yaml.safe_dump(config))
    db_url = f"sqlite:///{root / 'rg.sqlite'}"
    db = open_database(db_url, create=True)
    db.upgrade()
    svc = DeploymentService(db.uow())
    svc.register("chat", "v1", prompt="chat@1.0.0", model="m-1", actor="t")
    svc.approve("chat", "v1", actor="t")
    svc.promote("chat", "v1", actor="t")
    svc.register("chat", "v2", prompt="chat2@1.0.0", model="m-2", actor="t")
    svc.approve("chat", "v2", actor="t")
    svc.canary("chat", "v2", actor="t", share=0.3)
    svc.register("faq", "f1", prompt="chat@1.0.0", model=faq_model, actor="t")
    svc.approve("faq", "f1", actor="t")
    svc.promote("faq", "f1", actor="t")
    db.close()
    return db_url


@dataclass
class Served:
    """One running gateway (possibly several worker processes behind one port)."""

    url: str
    log: Path
    proc: subprocess.Popen[bytes]

    def metrics(self) -> str:
        return httpx.get(self.url + "/metrics").text

    def breaker(self, upstream: str) -> str:
        """``releasegate_gateway_breaker_state`` of ``upstream`` ("0.0", "1.0", "2.0")."""
        pattern = rf'releasegate_gateway_breaker_state\{{upstream="{upstream}"\}} (\S+)'
        match = re.search(pattern, self.metrics())
        return match.group(1) if match else "absent"


@contextmanager
def serve(
    root: Path,
    db_url: str,
    *args: str,
    name: str = "gateway",
    config: Path | None = None,
    env: Mapping[str, str | None] | None = None,
) -> Iterator[Served]:
    """Run ``releasegate serve --gateway`` for the project in ``root`` (its
    ``releasegate.yaml``, or ``config``) until ready; ``env`` sets (or, with None,
    removes) variables of the process's environment."""
    port = free_port()
    log = root / f"{name}.log"
    changes: dict[str, str | None] = {"RELEASEGATE_GATEWAY_CONFIG": None, **(env or {})}
    environ = {k: v for k, v in {**os.environ, **changes}.items() if v is not None}
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                *(*CLI, "serve", "--gateway", "--port", str(port), "--db", db_url),
                *("--config", str(config or root / "releasegate.yaml"), *args),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=root,
            env=environ,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(900):
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"gateway exited: {log.read_text()}")
            time.sleep(0.1)
        else:
            pytest.fail(f"gateway did not become ready: {log.read_text()}")
        yield Served(url, log, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
