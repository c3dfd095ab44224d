"""Dashboard page times on a SQLite store with a million recorded interactions.

Usage::

    python benchmarks/dashboard_pages/bench_dashboard.py [--rows N] [--db PATH]

Builds (or reuses, with ``--db`` pointing at an existing file) a store with ``N``
interactions of three features (two versions each, a canary running on one), 20 % of
them sampled for online scoring and most of those scored (overall, faithfulness and
repetition rows), 1 % failed, 0.5 % answered by a fallback, 5,000 ratings; then serves
every dashboard page in process (Starlette's test client, so the figures are the
server's time: queries and rendering, no network) and prints the median and the worst
of five requests per page, after one warm-up request.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import random
import sqlite3
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from starlette.testclient import TestClient

from releasegate.bootstrap import ControlPlaneParts
from releasegate.dashboard import create_dashboard
from releasegate.deploy.tokens import Scope
from releasegate.store.database import Database, open_database
from releasegate.store.schema import feedback, interactions, scores

FEATURES = ("support-chat", "search", "summarize")
T0 = datetime(2030, 5, 1, tzinfo=UTC)


def build(path: Path, rows: int) -> None:
    database = open_database(f"sqlite:///{path}", create=True)
    try:
        build_on(database, rows)
    finally:
        database.close()


def build_on(database: Database, rows: int) -> None:
    """Seed ``rows`` interactions (and their scores and ratings) into an empty store."""
    parts = ControlPlaneParts.on_database(database)
    svc = parts.deployments()
    for f in FEATURES:
        for v in ("v1", "v2"):
            svc.register(f, v, prompt=f"{f}@1.0.{v[1]}", model="gpt-4o-mini", actor="bench")
            svc.approve(f, v, actor="bench")
        svc.promote(f, "v1", actor="bench")
    svc.canary("support-chat", "v2", actor="bench", share=0.1)
    rng = random.Random(7)
    engine = database.engine
    chunk = 20_000
    next_id = 1
    fb_left = 5000
    for start in range(0, rows, chunk):
        recs, scs, fbs = [], [], []
        for n in range(start, min(rows, start + chunk)):
            f = FEATURES[n % 3]
            v = "v2" if rng.random() < 0.1 else "v1"
            due = rng.random() < 0.2
            recs.append(
                {
                    "id": next_id,
                    "request_id": f"req-{n:08d}",
                    "feature": f,
                    "version": v,
                    "arm": "canary" if v == "v2" else "incumbent",
                    "prompt": [{"role": "user", "content": f"question {n}"}],
                    "response": f"answer {n} " * 8,
                    "latency_ms": rng.uniform(200, 1500),
                    "prompt_tokens": 120,
                    "completion_tokens": 40,
                    "cost_usd": 0.0005,
                    "error": "upstream timeout" if rng.random() < 0.01 else None,
                    "fallback_used": False,
                    "fallback_depth": 1 if rng.random() < 0.005 else 0,
                    "shadow": False,
                    "created_at": T0 + timedelta(seconds=n),
                    "content_hash": hashlib.sha256(str(n).encode()).hexdigest(),
                    "score_due": due,
                }
            )
            if due and n < rows - 2000:  # the newest due ones wait in the backlog
                for check, value in (
                    ("overall", rng.random()),
                    ("faithfulness", 0.2 if rng.random() < 0.08 else 0.95),
                    ("repetition", 1.0),
                ):
                    at = T0 + timedelta(seconds=n)
                    scs.append({"interaction_id": next_id, "check_type": check,
                                "value": value, "status": "measured", "reason": "why",
                                "created_at": at, "cost_usd": 0.0})  # fmt: skip
            if fb_left and rng.random() < 0.005:
                fb_left -= 1
                fbs.append({"request_id": f"req-{n:08d}", "interaction_id": next_id,
                            "rating": rng.choice([0.0, 1.0]), "scale": "thumbs",
                            "created_at": T0 + timedelta(seconds=n)})  # fmt: skip
            next_id += 1
        with engine.begin() as conn:
            conn.execute(sa.insert(interactions), recs)
            if scs:
                conn.execute(sa.insert(scores), scs)
            if fbs:
                conn.execute(sa.insert(feedback), fbs)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))


PAGES = (
    ("overview", "/"),
    ("feature (rates per version)", "/features/support-chat"),
    ("explorer, newest page", "/interactions"),
    ("explorer, feature", "/interactions?feature=search"),
    ("explorer, feature + version", "/interactions?feature=support-chat&version=v2"),
    ("explorer, errors only", "/interactions?errors=1"),
    ("explorer, fallbacks of a feature", "/interactions?feature=search&fallbacks=1"),
    ("explorer, faithfulness <= 0.5", "/interactions?check=faithfulness&score_max=0.5"),
    ("explorer, overall score 0.2-0.3", "/interactions?score_min=0.2&score_max=0.3"),
    ("explorer, negative feedback", "/interactions?feedback=negative"),
    ("explorer, deep page (before=1000)", "/interactions?before=1000"),
    ("interaction", "/interactions/req-00000042"),
    ("eval reports", "/evals"),
)


def measure(path: Path) -> list[tuple[str, float, float]]:
    database = open_database(f"sqlite:///{path}")
    try:
        parts = ControlPlaneParts.on_database(database)
        name = f"bench-{int(time.time())}"
        secret = parts.tokens().create(name, Scope.READ, actor="bench").secret
        client = TestClient(create_dashboard(parts), base_url="http://127.0.0.1")
        client.get(f"/login?token={secret}")
        out = []
        for label, url in PAGES:
            assert client.get(url).status_code == 200, url
            times = []
            for _ in range(5):
                t = time.perf_counter()
                r = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200
            out.append((label, statistics.median(times), max(times)))
        return out
    finally:
        database.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--db", type=Path, default=Path("dashboard-bench.db"))
    args = ap.parse_args()
    if not args.db.exists():
        t = time.perf_counter()
        build(args.db, args.rows)
        print(f"built {args.rows:,} interactions in {time.perf_counter() - t:.0f} s", flush=True)
    print(f"python {sys.version.split()[0]}, {platform.machine()}, SQLite {sqlite3.sqlite_version}")
    print(f"{'page':40} {'median ms':>10} {'max ms':>8}")
    for label, med, worst in measure(args.db):
        print(f"{label:40} {med:10.1f} {worst:8.1f}")


if __name__ == "__main__":
    main()
