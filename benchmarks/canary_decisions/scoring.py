"""Online scoring throughput of ``releasegate worker`` with deterministic checks.

Records N interactions (every one sampled) of a feature whose online checks are
deterministic (contains, regex, is-json, max-words), then starts a real ``releasegate
worker`` process and measures how many interactions it scores per second: end to end
(from the worker's start to an empty backlog, start-up included) and steady (between
the first and the last stored score). Each interaction is one job: read it, run its
checks, store one row per check and its overall score and add the score to the
canary's statistics, in one transaction. Usage:

    python benchmarks/canary_decisions/scoring.py [--n 3000] [--workers 2 4]
        [--pg URL] [--redis URL]

SQLite runs with the embedded queue (a SQLite file); PostgreSQL with Redis. The
PostgreSQL database and the Redis queue are created for the run and removed after.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from releasegate.canary.records import OVERALL
from releasegate.control.deployments import DeploymentService
from releasegate.deploy.model import utcnow
from releasegate.online import RecordingService
from releasegate.online.sampling import ScoringPlan
from releasegate.project import load_project
from releasegate.queue import JobQueue, open_huey
from releasegate.store.database import open_database
from releasegate.store.repositories import from_db
from releasegate.store.schema import scores

CLI = [sys.executable, "-c", "from releasegate.cli import main; main()"]
CHECKS = [
    {"type": "contains", "value": "refund"},
    {"type": "regex", "value": "\\\\d+ days"},
    {"type": "not-is-json"},
    {"type": "max-words", "value": 60},
]


@contextmanager
def _pg_database(server: str) -> Iterator[str]:
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"rg_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _project(root: Path, queue: str, name: str) -> Path:
    doc: dict[str, Any] = {
        "version": 1,
        "online": {
            "queue": queue,
            "queue_name": name,
            "analysis_interval_s": 3600,
            "features": {"chat": {"checks": CHECKS, "sample": {"canary": 1, "incumbent": 1}}},
        },
    }
    path = root / "releasegate.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _backlog(db: Any) -> int:
    uow = db.uow(write=False)
    with uow:
        return int(uow.scores.counts(utcnow()).backlog)


def measure(db_url: str, queue: str, n: int, workers: int, root: Path) -> dict[str, Any]:
    name = f"rg-bench-{uuid.uuid4().hex[:8]}"
    config = _project(root, queue, name)
    db = open_database(db_url, create=True, auto_upgrade=True)
    huey = open_huey(queue, name=name)
    try:
        svc = DeploymentService(db.uow())
        for v in ("v1", "v2"):
            svc.register("chat", v, prompt=f"p@{v}", model="m", actor="bench")
            svc.approve("chat", v, actor="bench")
        svc.promote("chat", "v1", actor="bench")
        svc.canary("chat", "v2", actor="bench", share=0.5)
        jobs = JobQueue(huey)
        plan = ScoringPlan(load_project(config).config.online.features)
        rec = RecordingService(db.uow(), sampler=plan, enqueue=jobs.enqueue_scoring)
        for start in range(0, n, 200):
            batch = [
                {
                    "feature": "chat",
                    "request_id": f"{name}-{i}",
                    "version": "v2" if i % 2 else "v1",
                    "prompt": [{"role": "user", "content": f"where is my refund {i}?"}],
                    "response": f"Your refund arrives in {i % 9 + 1} days." if i % 5 else "No.",
                    "latency_ms": 120.0,
                    "cost_usd": 0.001,
                }
                for i in range(start, min(n, start + 200))
            ]
            rec.record_json({"records": batch})
        assert _backlog(db) == n
        log = (root / f"worker-{workers}.log").open("wb")
        began = time.perf_counter()
        proc = subprocess.Popen(
            [*CLI, "worker", "-c", str(config), "--db", db_url, "-w", str(workers)],
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            while _backlog(db) > 0:
                if proc.poll() is not None:
                    raise RuntimeError(f"the worker stopped: see {log.name}")
                time.sleep(0.1)
            elapsed = time.perf_counter() - began
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
            log.close()
        with db.engine.connect() as conn:
            first, last = conn.execute(
                sa.select(sa.func.min(scores.c.created_at), sa.func.max(scores.c.created_at)).where(
                    scores.c.check_type == OVERALL
                )
            ).one()
        steady = (from_db(last) - from_db(first)).total_seconds()  # type: ignore[operator]
        return {
            "interactions": n,
            "workers": workers,
            "end_to_end_per_s": round(n / elapsed, 1),
            "steady_per_s": round((n - 1) / steady, 1) if steady > 0 else None,
            "seconds": round(elapsed, 2),
        }
    finally:
        huey.flush()
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "RELEASEGATE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    rows = []
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            url = f"sqlite:///{root / 'releasegate.db'}"
            row = measure(url, str(root / "queue.sqlite"), args.n, workers, root)
            rows.append({"backend": "SQLite + SqliteHuey", **row})
            print(json.dumps(rows[-1]), flush=True)
        if args.skip_pg:
            continue
        with tempfile.TemporaryDirectory() as tmp, _pg_database(args.pg) as url:
            row = measure(url, args.redis, args.n, workers, Path(tmp))
            rows.append({"backend": "PostgreSQL + RedisHuey", **row})
            print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
