"""Recording while the feature's deployments change: every record is stored exactly once
and counted, with several writers at once (as several gateways' record writers), on
SQLite and PostgreSQL.

A deployment change (canary, promotion, rollback) locks the feature's deployment rows;
a record batch references the same rows (its interactions' and the canary statistics'
foreign keys). On PostgreSQL a ``FOR UPDATE`` lock blocked those references, and a
writer holding one on the canary's row deadlocked with a promotion taking the rows in
turn; two writers adding to the canary statistics in different orders deadlocked too.
The store refused such a batch for a transient reason: it was retried, so nothing was
lost, but the writers stalled in backoff while a change ran.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from releasegate.control.deployments import DeploymentService
from releasegate.online.recording import RecordingService
from releasegate.online.store_writer import StoreWriter
from releasegate.store.database import Database, open_database
from releasegate.store.schema import arm_stats, interactions

VERSIONS = [f"v{i}" for i in range(1, 41)]
ARMS: list[str | None] = ["incumbent", "canary", "fallback", None]


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """``chat``: v1 active, v2 a 50 % canary, v3..v40 approved and waiting."""
    database = open_database(database_url)
    svc = DeploymentService(database.uow())
    for v in VERSIONS:
        svc.register("chat", v, prompt="chat@1.0.0", model=f"m-{v}", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    svc.canary("chat", "v2", actor="t", share=0.5)
    yield database
    database.close()


def record(rid: str, rng: random.Random) -> dict[str, Any]:
    """One record of a mixed shape: any arm (or none: derived), a registered version,
    an unknown one or none, sometimes an error or a retry's duplicate."""
    version = rng.choice([*VERSIONS[:12], "nope", None])
    out: dict[str, Any] = {
        "feature": "chat",
        "request_id": rid,
        "response": f"answer {rid}",
        "latency_ms": rng.uniform(1, 400),
        "cost_usd": 0.001,
    }
    arm = rng.choice(ARMS)
    if arm is not None:
        out["arm"] = arm
    if version is not None:
        out["version"] = version
    if rng.random() < 0.1:
        out["error"] = "upstream timed out"
    return out


def change_forever(db: Database, stop: threading.Event) -> list[str]:
    """Canary, promote, abort, roll back, ... through v3..v40 until ``stop``; returns
    what was done."""
    svc = DeploymentService(db.uow())
    done: list[str] = []
    steps = iter(VERSIONS[2:])
    current = "v2"  # the running canary
    while not stop.is_set():
        nxt = next(steps, None)
        if nxt is None:
            break
        kind = len(done) % 3
        if kind == 0:
            svc.promote("chat", current, actor="t")
            done.append(f"promote {current}")
        elif kind == 1:
            svc.rollback("chat", actor="t", reason="abort")
            done.append(f"abort {current}")
        else:
            svc.promote("chat", current, actor="t")
            svc.rollback("chat", actor="t", reason="restore the previous version")
            done.append(f"promote and roll back {current}")
        svc.canary("chat", nxt, actor="t", share=0.5)
        current = nxt
        time.sleep(0.01)
    return done


def stored_ids(db: Database) -> dict[str, int]:
    query = sa.select(interactions.c.request_id, sa.func.count()).group_by(
        interactions.c.request_id
    )
    with db.engine.connect() as conn:
        return {str(r): int(n) for r, n in conn.execute(query)}


@pytest.mark.parametrize("writers", [1, 3])
def test_every_record_is_stored_once_while_the_feature_changes(db: Database, writers: int) -> None:
    per_writer = 400
    databases = [open_database(db.url) for _ in range(writers)]
    pool = [
        StoreWriter(lambda d=d: RecordingService(d.uow()), batch=25, interval_s=0.01)  # type: ignore[misc]
        for d in databases
    ]
    stop = threading.Event()
    done: list[str] = []
    failed: list[BaseException] = []

    def change() -> None:
        try:
            done.extend(change_forever(db, stop))
        except Exception as exc:  # reported below: a change must never fail here
            failed.append(exc)

    changer = threading.Thread(target=change)
    changer.start()
    sent: list[str] = []

    def submit(w: int) -> None:
        rng = random.Random(w)
        for i in range(per_writer):
            rid = f"w{w}-{i}"
            rec = record(rid, rng)
            pool[w].submit(rec)
            if i % 7 == 0:  # a retried record: the same content again
                pool[w].submit(rec)
            sent.append(rid)
            if i % 25 == 0:
                time.sleep(0.01)

    try:
        submitters = [threading.Thread(target=submit, args=(w,)) for w in range(writers)]
        for t in submitters:
            t.start()
        for t in submitters:
            t.join()
        assert all(w.flush(120) for w in pool)
    finally:
        stop.set()
        changer.join()
        for w in pool:
            w.close()
        for d in databases:
            d.close()
    assert failed == []
    assert len(done) >= 2, done  # the feature did change while the records were written
    counts = stored_ids(db)
    assert sorted(counts) == sorted(sent)
    assert set(counts.values()) == {1}
    stats = [w.stats() for w in pool]
    retried = sum(1 for i in range(per_writer) if i % 7 == 0) * writers
    assert sum(s.written for s in stats) == len(sent) + retried
    assert [(s.dropped, s.rejected, s.queued) for s in stats] == [(0, 0, 0)] * writers
    # No batch was refused for a deadlock with a change or with another writer.
    assert [s.failed_attempts for s in stats] == [0] * writers
    # Each counted request was added to its canary's statistics once.
    with db.engine.connect() as conn:
        counted = conn.execute(
            sa.select(sa.func.count()).where(interactions.c.canary_id.is_not(None))
        ).scalar_one()
        added = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(arm_stats.c.count), 0)).where(
                arm_stats.c.check_type == ""
            )
        ).scalar_one()
    assert counted > 0 and int(added) == int(counted)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_change_in_progress_does_not_hold_up_recording(db: Database) -> None:
    """A deployment change holding the feature's rows (its transaction still open) does
    not make a record batch wait for it. (PostgreSQL: SQLite has no row locks, and its
    write transactions take turns by design.)"""
    svc = RecordingService(db.uow())
    change = db.uow()
    with change:
        change.deployments.for_feature("chat", lock=True)  # as promote/rollback/canary do
        batch = [
            {"feature": "chat", "request_id": f"held-{i}", "version": v, "arm": arm}
            for i, (v, arm) in enumerate([("v1", "incumbent"), ("v2", "canary"), ("v2", None)])
        ]
        result: list[int] = []
        worker = threading.Thread(
            target=lambda: result.append(svc.record_json({"records": batch}).created),
            daemon=True,
        )
        worker.start()
        worker.join(30)
        held = worker.is_alive()
        change.rollback()
        worker.join(30)
        assert not held, "the record batch waited for the deployment change"
    assert result == [3]
    assert set(stored_ids(db)) == {"held-0", "held-1", "held-2"}
