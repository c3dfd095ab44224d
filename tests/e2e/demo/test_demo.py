"""`releasegate demo --quick`, the installed command on the real bundled model: the
story's outcomes are read back from the store it leaves behind, and every process it
started is gone when it exits."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from releasegate.bootstrap import open_control
from releasegate.deploy.model import utcnow
from releasegate.deploy.status import Status

pytestmark = pytest.mark.slow

pytest.importorskip("llama_cpp", reason="needs the local extra")

FEATURE = "review-sentiment"
CLI = [sys.executable, "-m", "releasegate"]


def _closed(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) != 0


def _run_until_serving(
    directory: Path,
) -> tuple[subprocess.Popen[str], list[str], threading.Thread]:
    """Start the quick demo with --keep-serving; its output (read on a thread, which
    ends with the process) holds the serving line when this returns."""
    proc = subprocess.Popen(
        [*CLI, "demo", "--quick", "--keep-serving", "--dir", str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("Serving until Ctrl-C"):
                done.set()
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    done.wait(1000)
    return proc, lines, reader


@pytest.mark.timeout(1200)
def test_the_quick_demo_plays_the_whole_story(tmp_path: Path) -> None:
    directory = tmp_path / "demo"
    proc, lines, reader = _run_until_serving(directory)
    out = "".join(lines)
    try:
        assert proc.poll() is None, out[-4000:]
        # the dashboard's sign-in link signs in; the feature page shows the rollout
        link = re.search(r"sign in: +(http://127\.0\.0\.1:\d+)/login\?token=(rg_\S+)", out)
        assert link is not None
        with httpx.Client(base_url=link.group(1), follow_redirects=True) as client:
            page = client.get("/login", params={"token": link.group(2)})
            assert page.status_code == 200
            feature = client.get(f"/features/{FEATURE}")
            assert feature.status_code == 200 and "v3" in feature.text
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
        reader.join(10)
        assert proc.stdout is not None
        proc.stdout.close()
    out = "".join(lines)
    assert code == 0, out[-4000:]
    for step in ("1. Set up", "2. v1", "3. v2", "4. v3", "5. Canary", "6. What happened"):
        assert step in out
    assert "approval of v2 refused" in out and "now fails" in out

    db = f"sqlite:///{directory / '.releasegate' / 'releasegate.db'}"
    with open_control(db) as parts:
        deps = {d.version: d for d in parts.deployments().status(FEATURE).deployments}
        history = parts.deployments().history(FEATURE)
        v1, v2, v3 = deps["v1"], deps["v2"], deps["v3"]
        # v2: blocked by the gate, never served
        assert v2.status is Status.REJECTED
        assert v2.eval_summary and v2.eval_summary["gate_passed"] is False
        assert not any(e.version == "v2" and e.action == "canary" for e in history)
        # v3: passed its gate, went through a canary, and the analysis ended it
        assert v3.eval_summary and v3.eval_summary["gate_passed"] is True
        assert any(e.version == "v3" and e.action == "canary" for e in history)
        assert v3.status in (Status.ACTIVE, Status.ROLLED_BACK), v3.status
        assert v3.id is not None
        with parts.read_uow_factory() as uow:
            decisions = uow.decisions.for_deployment(v3.id, limit=1000)
            counts = uow.scores.counts(utcnow())
        final = "promote" if v3.status is Status.ACTIVE else "rollback"
        assert any(d.action == final and d.applied == "applied" for d in decisions)
        assert (v1.status is Status.SUPERSEDED) == (v3.status is Status.ACTIVE)
        # the worker scored real requests of both arms
        arms = parts.canary().status(FEATURE).arms
        assert arms["canary"].scored > 0 and arms["incumbent"].scored > 0
        assert counts.scored_total >= arms["canary"].scored + arms["incumbent"].scored
    outcome = "v3 was promoted" if v3.status is Status.ACTIVE else "v3 was rolled back"
    assert outcome in out

    for v, passed in (("v1", True), ("v2", False), ("v3", True)):
        report = json.loads((directory / "reports" / f"{v}.json").read_text())
        assert report["gate"]["passed"] is passed
        assert all(c["output"] is not None for c in report["cases"])  # the model answered
    assert sorted(p.name for p in (directory / "logs").iterdir()) == [
        "gateway.log",
        "model-server.log",
        "worker.log",
    ]
    # every server the demo started is stopped
    ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", out)]
    assert len(set(ports)) >= 3
    assert all(_closed(p) for p in set(ports))
