"""Router benchmark: cached routing decisions and the cost of a cache miss.

Usage::

    python benchmarks/router/bench_router.py [--pg URL] [--decisions N]

Measures, in one run on the same machine:

* decisions per second of ``Router.route`` with a warm cache (one canary at 10 %),
* p50 / p99 latency of a single cached decision (``time.perf_counter_ns`` around each
  call, so the figures include ~50-100 ns of timer overhead),
* the same for the bare ``bucket()`` function, as the floor,
* the latency of a cache miss (``invalidate`` then ``route``: one read transaction)
  against a SQLite file and, with ``--pg``, PostgreSQL.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from releasegate.control import DeploymentService, Router
from releasegate.deploy import bucket
from releasegate.store import create_engine, downgrade, open_database


def _pct(samples: list[int], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000.0


def _latencies(fn: Callable[[str], object], keys: list[str]) -> list[int]:
    clock = time.perf_counter_ns
    out = []
    for k in keys:
        t0 = clock()
        fn(k)
        out.append(clock() - t0)
    return out


def _seed(url: str, feature: str) -> None:
    db = open_database(url, auto_upgrade=True)
    svc = DeploymentService(db.uow())
    for v, model in (("v1", "m-1"), ("v2", "m-2")):
        svc.register(feature, v, prompt=f"p@{v}", model=model, actor="bench")
        svc.approve(feature, v, actor="bench")
    svc.promote(feature, "v1", actor="bench")
    svc.canary(feature, "v2", actor="bench", share=0.10)
    db.close()


def bench_cached(url: str, n: int) -> dict[str, float]:
    _seed(url, "bench")
    db = open_database(url)
    router = Router(lambda: db.uow(write=False), ttl_s=3600.0)
    keys = [f"user-{i}" for i in range(n)]
    router.route("bench", "warm")
    t0 = time.perf_counter()
    for k in keys:
        router.route("bench", k)
    elapsed = time.perf_counter() - t0
    lat = _latencies(lambda k: router.route("bench", k), keys)
    raw = _latencies(lambda k: bucket("0123456789abcdef", k), keys)
    db.close()
    return {
        "decisions_per_s": n / elapsed,
        "route_p50_us": _pct(lat, 0.50),
        "route_p99_us": _pct(lat, 0.99),
        "bucket_p50_us": _pct(raw, 0.50),
        "bucket_p99_us": _pct(raw, 0.99),
    }


def bench_miss(url: str, n: int) -> dict[str, float]:
    feature = f"miss-{uuid.uuid4().hex[:6]}"
    _seed(url, feature)
    db = open_database(url)
    router = Router(lambda: db.uow(write=False), ttl_s=3600.0)
    router.route(feature, "warm")  # open the pool's connection first

    def miss(k: str) -> object:
        router.invalidate(feature)
        return router.route(feature, k)

    lat = _latencies(miss, [f"u{i}" for i in range(n)])
    db.close()
    return {
        "miss_p50_us": _pct(lat, 0.50),
        "miss_p99_us": _pct(lat, 0.99),
        "miss_mean_us": statistics.fmean(lat) / 1000.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--misses", type=int, default=2_000)
    parser.add_argument("--pg", help="PostgreSQL URL (a scratch database: tables are created)")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        cached = bench_cached(url, args.decisions)
        print("cached (SQLite-backed router, 10% canary):")
        for key, value in cached.items():
            print(f"  {key:16s} {value:12.2f}")
        print("cache miss, SQLite file:")
        for key, value in bench_miss(url, args.misses).items():
            print(f"  {key:16s} {value:12.1f}")
    if args.pg:
        print("cache miss, PostgreSQL:")
        for key, value in bench_miss(args.pg, args.misses).items():
            print(f"  {key:16s} {value:12.1f}")
        engine = create_engine(args.pg)
        downgrade(engine, "base")
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS releasegate_alembic_version"))
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
