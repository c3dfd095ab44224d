"""The interaction write path on SQLite and PostgreSQL: a batch insert gives each record
its own id, a taken request id refuses the whole batch, a recorded batch adds the same
arm statistics as the in-memory store, and a known schema revision opens the store
without the full migration check."""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from releasegate.control.deployments import DeploymentService
from releasegate.errors import ConfigError
from releasegate.online import RecordingService
from releasegate.ports import DuplicateKey, Interaction, UnitOfWork
from releasegate.store import create_engine, downgrade
from releasegate.store.database import open_database
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData
from releasegate.store.migrate import current_revision, head_revision
from releasegate.store.schema import interactions

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _interaction(i: int, prefix: str = "r") -> Interaction:
    return Interaction(
        request_id=f"{prefix}-{i}",
        feature="chat",
        arm="incumbent",
        at=T0 + timedelta(seconds=i),
        content_hash=hashlib.sha256(str(i).encode()).hexdigest(),
        prompt=[{"role": "user", "content": f"q{i}"}],
        metadata={"i": i},
    )


@pytest.mark.parametrize("n", [1, 7, 1201])
def test_a_batch_insert_gives_each_record_the_id_of_its_row(database_url: str, n: int) -> None:
    db = open_database(database_url)
    try:
        with db.uow() as uow:
            uow.interactions.add_many([_interaction(i, "old") for i in range(3)])
            uow.commit()
        batch = [_interaction(i) for i in reversed(range(n))]  # ids need not follow order
        with db.uow() as uow:
            uow.interactions.add_many(batch)
            uow.commit()
        with db.engine.connect() as conn:
            query = sa.select(interactions.c.request_id, interactions.c.id)
            rows = {rid: new_id for rid, new_id in conn.execute(query)}
        assert [r.id for r in batch] == [rows[r.request_id] for r in batch]
        assert len({r.id for r in batch}) == n
    finally:
        db.close()


@pytest.mark.parametrize("taken", ["stored", "twice in the batch"])
def test_a_taken_request_id_refuses_the_whole_batch(database_url: str, taken: str) -> None:
    db = open_database(database_url)
    try:
        with db.uow() as uow:
            uow.interactions.add_many([_interaction(0)])
            uow.commit()
        batch = [_interaction(i, "new") for i in range(5)]
        batch.append(_interaction(0) if taken == "stored" else _interaction(3, "new"))
        with db.uow() as uow, pytest.raises(DuplicateKey):
            uow.interactions.add_many(batch)
        with db.uow(write=False) as uow:
            assert uow.interactions.count() == 1
    finally:
        db.close()


def _with_canary(uow_factory: Any) -> None:
    svc = DeploymentService(uow_factory())
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    svc.canary("chat", "v2", actor="t", share=0.2)


def _arm_rows(uow: UnitOfWork) -> dict[Any, Any]:
    with uow:
        canary = next(d for d in uow.deployments.for_feature("chat") if d.version == "v2")
        assert canary.id is not None
        return uow.arm_stats.for_deployment(canary.id)


def test_a_recorded_batch_adds_the_statistics_the_memory_store_adds(database_url: str) -> None:
    records = [
        {
            "feature": "chat",
            "request_id": f"r{i}",
            "version": "v2" if i % 3 else "v1",
            "latency_ms": 3.0 + 41.0 * i,
            "cost_usd": 0.0003 * i,
            **({"error": "boom"} if i % 7 == 0 else {}),
        }
        for i in range(120)
    ]
    db = open_database(database_url)
    memory = MemoryData()
    try:
        _with_canary(db.uow)
        _with_canary(lambda: InMemoryUnitOfWork(memory))
        for start in (0, 50):  # two batches: the second adds to rows the first created
            chunk = {"records": records[start : start + 50 if start == 0 else None]}
            RecordingService(db.uow(), clock=lambda: T0).record_json(chunk)
            RecordingService(InMemoryUnitOfWork(memory), clock=lambda: T0).record_json(chunk)
        got, want = _arm_rows(db.uow()), _arm_rows(InMemoryUnitOfWork(memory))
    finally:
        db.close()
    assert got.keys() == want.keys() and got
    for key, stats in want.items():
        a = got[key]
        assert (a.count, a.errors, a.cost_n, dict(a.latency)) == (
            stats.count,
            stats.errors,
            stats.cost_n,
            dict(stats.latency),
        )
        assert math.isclose(a.cost_sum, stats.cost_sum, rel_tol=1e-9)


def test_a_known_revision_opens_the_store_and_another_runs_the_full_check(
    database_url: str,
) -> None:
    db = open_database(database_url, create=False, expect_revision=head_revision())
    db.close()
    db = open_database(database_url, create=False, expect_revision="0000_elsewhere")
    db.close()  # the full check ran and found the schema at its head
    engine = create_engine(database_url)
    try:
        downgrade(engine, "-1")
        with pytest.raises(ConfigError, match="db upgrade"):
            open_database(database_url, auto_upgrade=False, expect_revision=head_revision())
    finally:
        from releasegate.store import upgrade

        upgrade(engine)
        engine.dispose()


def test_the_shipped_head_revision_is_the_migrations_head() -> None:
    from releasegate.store.engine import HEAD_REVISION

    assert head_revision() == HEAD_REVISION


def test_opening_a_current_database_never_loads_alembic(database_url: str) -> None:
    # A serving process (the gateway, its record writer) opens a database at the head:
    # one query, and Alembic with Mako and Pygments (about 16 MB) stays out of memory.
    script = (
        "import sys\n"
        "from releasegate.store.database import open_database\n"
        f"db = open_database({database_url!r}, create=False)\n"
        "db.uow(write=False)\n"
        "db.close()\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('alembic', 'mako', 'pygments') or m == 'releasegate.store.migrate')\n"
        "print(loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_a_database_behind_the_head_is_still_checked_in_full(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        downgrade(engine, "-1")
        with pytest.raises(ConfigError, match="db upgrade"):
            open_database(database_url, auto_upgrade=False)
        if database_url.startswith("sqlite"):  # SQLite upgrades itself by default
            open_database(database_url).close()
            assert current_revision(engine) == head_revision()
    finally:
        from releasegate.store import upgrade

        upgrade(engine)
        engine.dispose()
