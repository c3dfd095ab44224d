"""Eight OS processes promote different candidates and roll back at the same time."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

import pytest

from releasegate.control.deployments import DeploymentService
from releasegate.deploy.status import Status
from releasegate.errors import DeploymentError
from releasegate.store.database import open_database

pytestmark = pytest.mark.slow

WORKERS = 8
FEATURE = "race"


def _worker(url: str, index: int, barrier: Any, results: Any) -> None:
    db = open_database(url, check_schema=False)
    svc = DeploymentService(db.uow())
    done: list[tuple[str, str]] = []
    barrier.wait(timeout=60)
    try:
        svc.promote(FEATURE, f"c{index}", actor=f"w{index}", reason="race")
        done.append(("promote", f"c{index}"))
    except DeploymentError as exc:
        done.append(("promote-refused", str(exc)))
    try:
        serving = svc.rollback(FEATURE, actor=f"w{index}", reason="race")
        done.append(("rollback", serving.version if serving else ""))
    except DeploymentError as exc:
        done.append(("rollback-refused", str(exc)))
    db.close()
    results.put((index, done))


def test_concurrent_promotions_and_rollbacks_leave_one_active(database_url: str) -> None:
    db = open_database(database_url)
    svc = DeploymentService(db.uow())
    svc.register(FEATURE, "base", prompt="p@0", model="m", actor="setup")
    svc.approve(FEATURE, "base", actor="setup")
    svc.promote(FEATURE, "base", actor="setup")
    for i in range(WORKERS):
        svc.register(FEATURE, f"c{i}", prompt=f"p@{i + 1}", model="m", actor="setup")
        svc.approve(FEATURE, f"c{i}", actor="setup")
    setup_entries = len(svc.history(FEATURE))

    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(database_url, i, barrier, results))
        for i in range(WORKERS)
    ]
    for p in procs:
        p.start()
    outcomes = dict(results.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    state = svc.status(FEATURE)
    actives = [d for d in state.deployments if d.status is Status.ACTIVE]
    assert len(actives) == 1

    promotes = sum(a == "promote" for done in outcomes.values() for a, _ in done)
    rollbacks = sum(a == "rollback" for done in outcomes.values() for a, _ in done)
    assert promotes == WORKERS  # every candidate was approved: each promotion must succeed
    assert rollbacks >= 1

    log = svc.history(FEATURE)[setup_entries:]
    assert sum(e.action == "promote" for e in log) == promotes
    assert sum(e.action == "rollback" for e in log) == rollbacks
    assert sum(e.action == "restore" for e in log) == rollbacks
    assert {e.actor for e in log} <= {f"w{i}" for i in range(WORKERS)}

    # Replaying the log from the setup state must reproduce the final state exactly: every
    # entry starts from the status the previous one left, so the log is a serial history.
    replay = {d.version: Status.APPROVED for d in state.deployments}
    replay["base"] = Status.ACTIVE
    for e in log:
        assert e.version is not None
        assert replay[e.version].value == e.from_status, e
        replay[e.version] = Status(str(e.to_status))
        assert sum(s is Status.ACTIVE for s in replay.values()) <= 1
    assert replay == {d.version: d.status for d in state.deployments}
    db.close()
