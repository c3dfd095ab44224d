"""A project with online scoring, a real ``releasegate worker`` process, and a queue per
test (a SQLite file, or a uniquely named queue on the shared Redis, flushed after)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from releasegate.bootstrap.online import open_jobs
from releasegate.online import RecordingService
from releasegate.online.sampling import ScoringPlan
from releasegate.project import Project, load_project
from releasegate.queue import JobQueue
from releasegate.store.database import Database, open_database

REDIS_URL = os.environ.get("RELEASEGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CLI = [sys.executable, "-c", "from releasegate.cli import main; main()"]

CHECKS = [{"type": "contains", "value": "refund"}, {"type": "max-words", "value": 50}]


def redis_reachable() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError:
        return False
    return True


@dataclass
class Stack:
    """A database, a queue and a project configured to score the feature ``chat``."""

    root: Path
    db_url: str
    queue: str
    queue_name: str
    config: Path

    @property
    def project(self) -> Project:
        return load_project(self.config)

    def database(self) -> Database:
        return open_database(self.db_url)

    def jobs(self) -> JobQueue:
        return open_jobs(self.queue, online=self.project.config.online)

    def recording(self, database: Database, jobs: JobQueue) -> RecordingService:
        plan = ScoringPlan(self.project.config.online.features)
        return RecordingService(database.uow(), sampler=plan, enqueue=jobs.enqueue_scoring)


def write_config(root: Path, *, queue: str, queue_name: str, **feature: Any) -> Path:
    chat: dict[str, Any] = {"checks": CHECKS, "sample": {"canary": 1.0, "incumbent": 1.0}}
    chat.update(feature.pop("chat", {}))
    doc: dict[str, Any] = {
        "version": 1,
        "providers": feature.pop("providers", {}),
        "pricing": feature.pop("pricing", {}),
        "online": {
            "queue": queue,
            "queue_name": queue_name,
            "analysis_interval_s": 1,
            "sweep_after_s": 2,
            "features": {"chat": chat},
        },
    }
    path = root / "releasegate.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def make_stack(db_url: str, tmp_path: Path, **feature: Any) -> Stack:
    """A SQLite database gets the embedded queue (a file); PostgreSQL gets Redis."""
    name = f"rg-test-{uuid.uuid4().hex[:10]}"
    if db_url.startswith("sqlite"):
        queue = str(tmp_path / "queue.sqlite")
    else:
        if not redis_reachable():
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"Redis unreachable at {REDIS_URL}")
            pytest.skip(f"Redis unreachable at {REDIS_URL}")
        queue = REDIS_URL
    config = write_config(tmp_path, queue=queue, queue_name=name, **feature)
    return Stack(tmp_path, db_url, queue, name, config)


@contextmanager
def flushed(stack: Stack) -> Iterator[None]:
    """Flush the test's queue afterwards (its Redis keys)."""
    try:
        yield
    finally:
        stack.jobs().huey.flush()


@contextmanager
def worker(
    stack: Stack, *, workers: int = 2, log: str = "worker.log", extra: tuple[str, ...] = ()
) -> Iterator[subprocess.Popen[bytes]]:
    """``releasegate worker`` in a subprocess, stopped with SIGINT (then killed)."""
    out = (stack.root / log).open("ab")
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "src")}
    proc = subprocess.Popen(
        [
            *CLI,
            "worker",
            "-c",
            str(stack.config),
            "--db",
            stack.db_url,
            "-w",
            str(workers),
            "-v",
            *extra,
        ],
        cwd=stack.root,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.close()


def wait_for(
    what: str, check: Callable[[], bool], *, timeout: float = 180.0, log: Path | None = None
) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` (with the worker's log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    pytest.fail(f"timed out waiting for {what}\n{tail}")


def record_batch(rec: RecordingService, records: list[dict[str, Any]]) -> None:
    for start in range(0, len(records), 200):
        rec.record_json({"records": records[start : start + 200]})
