"""The scale-out stack of the fault tests: a private PostgreSQL and Redis (which the
tests stop and kill), mock upstreams, a project, and ``releasegate serve --gateway`` and
``releasegate worker`` processes.

The feature ``chat`` has ``v1`` active (model ``m-1``, prompt ``chat@1.0.0``) and ``v2``
on a 50% canary (model ``m-2``, prompt ``chat2@1.0.0``); both models are served by the
provider ``main`` (the mock upstream ``primary``), the fallback model ``m-b`` by
``backup``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

from releasegate.control.deployments import DeploymentService
from releasegate.control.router import Router
from releasegate.store import create_engine
from releasegate.store.database import Database, open_database
from tests.e2e.deploy._cli import run
from tests.integration.online._worker import CLI, Stack
from tests.support.openai_server import FakeOpenAIServer
from tests.support.servers import PostgresServer, RedisServer, free_port

PROMPTS = {
    "chat": {
        "name": "chat",
        "version": "1.0.0",
        "model": "m-1",
        "system": "You are v1.",
        "template": "Q: {{ input }}",
    },
    "chat2": {
        "name": "chat2",
        "version": "1.0.0",
        "model": "m-2",
        "system": "You are v2.",
        "template": "{{ input }}!",
    },
}


@dataclass
class Scale:
    """Servers, upstreams and a migrated, deployed database for one test."""

    root: Path
    pg: PostgresServer
    redis: RedisServer
    primary: FakeOpenAIServer
    backup: FakeOpenAIServer
    queue_name: str = field(default_factory=lambda: f"rg-scale-{uuid.uuid4().hex[:8]}")

    @property
    def db_url(self) -> str:
        return self.pg.url

    def database(self) -> Database:
        return open_database(self.db_url)

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        """Rows of one read query on the store (a new connection each time)."""
        engine = create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(sa.text(query))]
        finally:
            engine.dispose()

    def config(
        self,
        name: str,
        *,
        gateway: dict[str, Any] | None = None,
        online: dict[str, Any] | None = None,
        providers: dict[str, Any] | None = None,
    ) -> Path:
        """Write ``<name>.yaml``: the mock upstreams as providers, the prompts, and
        these ``gateway:`` and ``online:`` sections."""
        doc: dict[str, Any] = {
            "version": 1,
            "providers": {
                "main": {"type": "openai", "base_url": self.primary.base_url, "model": "m-1"},
                "backup": {"type": "openai", "base_url": self.backup.base_url, "model": "m-b"},
                **(providers or {}),
            },
            "prompts": "prompts/",
            "gateway": {"default_provider": "main", **(gateway or {})},
        }
        if online is not None:
            doc["online"] = {
                "queue": self.redis.url,
                "queue_name": self.queue_name,
                "analysis_interval_s": 1,
                "sweep_after_s": 2,
                **online,
            }
        path = self.root / f"{name}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    def judged_config(self, name: str, judge_url: str) -> Path:
        """A config whose feature ``chat`` is scored online by one ``llm-judge`` check
        calling the judge at ``judge_url`` (an OpenAI base URL; key in ``JUDGE_KEY``)."""
        return self.config(
            name,
            providers={
                "judge": {
                    "type": "openai",
                    "base_url": judge_url,
                    "model": "judge-1",
                    "api_key_env": "JUDGE_KEY",
                    "max_retries": 0,
                }
            },
            online={
                "features": {
                    "chat": {
                        "checks": [{"type": "llm-judge", "value": "The answer is helpful."}],
                        "judge": "judge",
                        "sample": {"canary": 1.0, "incumbent": 1.0},
                    }
                }
            },
        )

    def stack(self, config: Path) -> Stack:
        """The worker helpers' view of this stack with ``config``."""
        return Stack(self.root, self.db_url, self.redis.url, self.queue_name, config)


@contextmanager
def scale_stack(root: Path) -> Iterator[Scale]:
    """Start everything; stop everything on exit."""
    with (
        PostgresServer.running() as pg,
        RedisServer.running() as redis,
        FakeOpenAIServer.run_in_thread(record=False) as primary,
        FakeOpenAIServer.run_in_thread(record=False) as backup,
    ):
        (root / "prompts").mkdir()
        for name, prompt in PROMPTS.items():
            (root / "prompts" / f"{name}.yaml").write_text(yaml.safe_dump(prompt))
        # The schema is created as an operator would: `releasegate db upgrade`.
        migrated = run("db", "upgrade", "--db", pg.url)
        assert migrated.returncode == 0, migrated.stderr
        db = open_database(pg.url)
        try:
            svc = DeploymentService(db.uow())
            svc.register("chat", "v1", prompt="chat@1.0.0", model="m-1", actor="t")
            svc.approve("chat", "v1", actor="t")
            svc.promote("chat", "v1", actor="t")
            svc.register("chat", "v2", prompt="chat2@1.0.0", model="m-2", actor="t")
            svc.approve("chat", "v2", actor="t")
            svc.canary("chat", "v2", actor="t", share=0.5)
        finally:
            db.close()
        yield Scale(root, pg, redis, primary, backup)


@dataclass
class GatewayProcess:
    """One ``releasegate serve --gateway`` process."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """SIGKILL it: no shutdown, no flush."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def metric(self, name: str, labels: str = "") -> float:
        """The value of one series on ``/metrics`` (0 when absent)."""
        want = f"{name}{{{labels}}} " if labels else f"{name} "
        for line in httpx.get(self.url + "/metrics", timeout=10).text.splitlines():
            if line.startswith(want):
                return float(line.split()[-1])
        return 0.0


@contextmanager
def gateway_process(scale: Scale, config: Path, name: str = "gateway") -> Iterator[GatewayProcess]:
    """``releasegate serve --gateway`` on a free port, ready; stopped on exit."""
    port = free_port()
    log = scale.root / f"{name}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                *CLI,
                *("serve", "--gateway", "--port", str(port)),
                *("--db", scale.db_url, "--config", str(config)),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=scale.root,
            env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "src")},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{name} to be ready", lambda: _ready(url, proc, log), timeout=60)
        yield GatewayProcess(url, proc, log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> bool:
    if proc.poll() is not None:
        pytest.fail(f"the gateway exited: {log.read_text(errors='replace')[-3000:]}")
    try:
        return httpx.get(url + "/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(
    what: str, check: Callable[[], bool], *, timeout: float = 60.0, log: Path | None = None
) -> None:
    """Poll ``check`` every 0.1 s until it holds; fail naming ``what`` (and a log's tail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{tail}")


@dataclass(frozen=True)
class Answer:
    """What the gateway answered one request."""

    status: int
    version: str | None
    request_id: str | None
    text: str


def ask(client: httpx.Client, url: str, unit: str, text: str = "hi") -> Answer:
    """One chat request for ``unit`` (no SDK: a refusal is data here, not an exception)."""
    r = client.post(
        url + "/v1/chat/completions",
        json={"model": "chat", "messages": [{"role": "user", "content": text}]},
        headers={"X-Releasegate-Unit": unit},
        timeout=30,
    )
    content = r.json()["choices"][0]["message"]["content"] if r.status_code == 200 else r.text
    return Answer(
        r.status_code,
        r.headers.get("x-releasegate-version"),
        r.headers.get("x-request-id"),
        content,
    )


def chat_records(database: Database, n: int, prefix: str) -> list[dict[str, object]]:
    """``n`` interaction records of ``chat``, each on the version its unit is routed to."""
    router = Router(lambda: database.uow(write=False))
    out: list[dict[str, object]] = []
    for i in range(n):
        route = router.route("chat", f"user-{i}")
        out.append(
            {
                "feature": "chat",
                "request_id": f"{prefix}-{i}",
                "version": route.version,
                "arm": route.arm,
                "prompt": [{"role": "user", "content": f"question {i}"}],
                "response": f"answer {i}",
            }
        )
    return out


def stored_request_ids(scale: Scale) -> set[str]:
    """Request ids of every stored interaction."""
    return {r[0] for r in scale.sql("SELECT request_id FROM interactions")}


def score_rows_per_interaction(scale: Scale) -> dict[str, int]:
    """Request id -> score rows, for every interaction due a score."""
    rows = scale.sql(
        "SELECT i.request_id, COUNT(s.id) FROM interactions i "
        "LEFT JOIN scores s ON s.interaction_id = i.id "
        "WHERE i.score_due GROUP BY i.request_id"
    )
    return {rid: int(n) for rid, n in rows}


def backlog(scale: Scale) -> int:
    """Interactions due a score with no ``overall`` score yet."""
    rows = scale.sql(
        "SELECT COUNT(*) FROM interactions i WHERE i.score_due AND NOT EXISTS "
        "(SELECT 1 FROM scores s WHERE s.interaction_id = i.id AND s.check_type = 'overall')"
    )
    return int(rows[0][0])
