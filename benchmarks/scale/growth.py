"""How the canary analysis and the dashboard pages grow with the recorded interactions.

For each size N, a fresh store (SQLite file, or a new database on a PostgreSQL server)
is seeded in bulk with SQL inserts by the dashboard benchmark's builder (three
features, a canary on ``support-chat``, 20 % scored, errors, fallbacks, ratings), and
the canary's arm statistics are added for the canary feature's interactions, as
recording and scoring would have kept them. Then:

- ``CanaryService.analyze("support-chat")`` (a dry run: decisions stored, not applied)
  is timed, median and worst of five after a warm-up;
- the dashboard's overview, feature and explorer pages are served in process
  (Starlette's test client) and timed the same way.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from benchmarks.dashboard_pages.bench_dashboard import build_on
from releasegate.bootstrap import ControlPlaneParts
from releasegate.canary.observations import Observation
from releasegate.canary.records import OVERALL, REQUESTS
from releasegate.control.deployments import DeploymentService
from releasegate.dashboard import create_dashboard
from releasegate.deploy.tokens import Scope
from releasegate.online.canary_service import CanaryService
from releasegate.store.database import Database, open_database
from releasegate.store.schema import interactions

FEATURE = "support-chat"
PAGES = (
    ("overview", "/"),
    ("feature", f"/features/{FEATURE}"),
    ("explorer", "/interactions"),
    ("explorer, feature + version", f"/interactions?feature={FEATURE}&version=v2"),
)
REPEATS = 5


@dataclass
class GrowthResult:
    """One store at one size: seconds to seed, and ``{what: (median ms, max ms)}``."""

    store: str
    rows: int
    seed_s: float
    timings: dict[str, tuple[float, float]]

    def to_json(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "rows": self.rows,
            "seed_s": round(self.seed_s, 2),
            "ms": {
                k: {"median": round(m, 2), "max": round(w, 2)} for k, (m, w) in self.timings.items()
            },
        }


@contextmanager
def sqlite_store(folder: Path, rows: int) -> Iterator[str]:
    """A new SQLite file's URL (the file is deleted on exit)."""
    path = folder / f"growth-{rows}.sqlite"
    try:
        yield f"sqlite:///{path}"
    finally:
        for p in folder.glob(f"{path.name}*"):
            p.unlink(missing_ok=True)


@contextmanager
def postgres_store(server_url: str) -> Iterator[str]:
    """A new database on the PostgreSQL server at ``server_url`` (dropped on exit)."""
    name = f"rg_growth_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        try:
            yield server_url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


def seed(database: Database, rows: int) -> None:
    """Bulk-insert ``rows`` interactions and the canary's arm statistics."""
    build_on(database, rows)
    engine = database.engine
    if engine.dialect.name == "postgresql":  # ids were given explicitly
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('interactions', 'id'), "
                    "(SELECT COALESCE(MAX(id), 1) FROM interactions))"
                )
            )
    with engine.connect() as conn:
        counts = dict(
            conn.execute(
                sa.select(interactions.c.arm, sa.func.count())
                .where(interactions.c.feature == FEATURE)
                .group_by(interactions.c.arm)
            ).all()
        )
    deployments = DeploymentService(database.uow())
    canary = deployments.get(FEATURE, "v2")
    service = CanaryService(database.uow(), deployments, apply=False)
    rng = random.Random(11)
    for arm, n in counts.items():
        for start in range(0, int(n), 50_000):
            size = min(50_000, int(n) - start)
            obs = [
                Observation(
                    score=rng.random() if rng.random() < 0.2 else None,
                    error=rng.random() < 0.01,
                    latency_ms=rng.uniform(200, 1500),
                    cost_usd=0.0005,
                )
                for _ in range(size)
            ]
            service.observe(canary, arm, obs, check=REQUESTS)
            service.observe(canary, arm, obs, check=OVERALL)


def _time(fn: Callable[[], object]) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), max(times)


def measure(database: Database) -> dict[str, tuple[float, float]]:
    """Median and worst ms of the analysis and of each page."""
    out: dict[str, tuple[float, float]] = {}

    def analyze() -> None:
        service = CanaryService(database.uow(), DeploymentService(database.uow()), apply=False)
        assert service.analyze(FEATURE) is not None

    out["canary analysis"] = _time(analyze)
    parts = ControlPlaneParts.on_database(database)
    secret = (
        parts.tokens().create(f"bench-{uuid.uuid4().hex[:6]}", Scope.READ, actor="bench").secret
    )
    client = TestClient(create_dashboard(parts), base_url="http://127.0.0.1")
    client.get(f"/login?token={secret}")
    for label, url in PAGES:

        def page(url: str = url) -> None:
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)

        out[f"page: {label}"] = _time(page)
    return out


def run_size(store: str, url: str, rows: int) -> GrowthResult:
    """Seed a new store at ``url`` with ``rows`` interactions and time it."""
    database = open_database(url, auto_upgrade=True)
    try:
        t = time.perf_counter()
        seed(database, rows)
        seed_s = time.perf_counter() - t
        return GrowthResult(store, rows, seed_s, measure(database))
    finally:
        database.close()
