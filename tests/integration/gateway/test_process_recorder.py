"""The gateway's store recorder: records written to a real SQLite store by a real writer
process, its counters, a writer that dies, and requests refused before their feature."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from releasegate.control.deployments import DeploymentService
from releasegate.deploy.names import GATEWAY_FEATURE
from releasegate.gateway._spool import ProcessRecorder
from releasegate.gateway.recorder import RECORD_FIELDS
from releasegate.ports import Interaction
from releasegate.store.database import Database, open_database


def record(i: int, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
    base.update(
        feature="chat",
        assigned_version="v1",
        served_version="v1",
        served_model="m-1",
        arm="incumbent",
        unit_key=f"u-{i}",
        unit_key_random=False,
        request_id=f"req-{i}",
        stream=False,
        messages=[{"role": "user", "content": f"hello {i}, mail me at a@b.example"}],
        response={"content": f"answer {i}", "tool_calls": None, "finish_reason": "stop"},
        latency_ms=21.5,
        overhead_ms=1.25,
        prompt_tokens=3,
        completion_tokens=2,
        status=200,
        fallback_depth=0,
        shadow=False,
        time=1_760_000_000.0 + i,
    )
    base.update(extra)
    return base


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'rg.sqlite'}", create=True)
    database.upgrade()
    svc = DeploymentService(database.uow())
    svc.register("chat", "v1", prompt="chat@1.0.0", model="m-1", actor="t")
    svc.approve("chat", "v1", actor="t")
    svc.promote("chat", "v1", actor="t")
    yield database
    database.close()


def stored(db: Database, feature: str = "chat") -> list[Interaction]:
    with db.uow(write=False) as uow:
        return uow.interactions.for_feature(feature, limit=100_000)


def child_pid(rec: ProcessRecorder) -> int:
    child = rec._child
    assert child is not None
    return child.proc.pid


def test_every_record_reaches_the_store_redacted_with_counters(db: Database) -> None:
    rec = ProcessRecorder(db.url, {}, interval_s=0.01)
    try:
        for i in range(500):
            rec.submit(record(i))
        assert rec.flush(60)
        s = rec.stats()
        assert (s.submitted, s.written, s.dropped, s.rejected, s.queued) == (500, 500, 0, 0, 0)
    finally:
        rec.close()
    rows = stored(db)
    assert sorted(r.request_id for r in rows) == sorted(f"req-{i}" for i in range(500))
    one = next(r for r in rows if r.request_id == "req-7")
    assert one.prompt == [{"role": "user", "content": "hello 7, mail me at [EMAIL]"}]
    assert one.response == "answer 7" and one.version == "v1" and one.arm == "incumbent"
    assert one.metadata is not None and one.metadata["overhead_ms"] == 1.25


def test_close_writes_what_is_queued_and_later_records_are_counted(db: Database) -> None:
    rec = ProcessRecorder(db.url, {}, interval_s=5.0)  # nothing sent before close
    for i in range(50):
        rec.submit(record(i))
    rec.close()
    assert len(stored(db)) == 50
    rec.submit(record(99))
    s = rec.stats()
    assert (s.submitted, s.written, s.dropped) == (51, 50, 1)


def test_a_writer_that_dies_is_restarted_and_losses_are_counted(db: Database) -> None:
    rec = ProcessRecorder(db.url, {}, interval_s=0.01)
    try:
        for i in range(100):
            rec.submit(record(i))
        assert rec.flush(60)
        first = child_pid(rec)
        os.kill(first, signal.SIGKILL)
        time.sleep(0.2)
        for i in range(100, 300):
            rec.submit(record(i))
        assert rec.flush(60)
        assert child_pid(rec) != first
        s = rec.stats()
        assert s.submitted == 300 == s.written + s.dropped + s.rejected
        assert s.written >= 100 and s.rejected == 0
    finally:
        rec.close()
    assert len(stored(db)) == rec.stats().written


def test_records_the_store_refuses_are_kept_in_a_reduced_form(db: Database) -> None:
    rec = ProcessRecorder(db.url, {}, interval_s=0.01)
    try:
        rec.submit(record(1, error="x" * 10_000, status=502, error_stage="upstream"))
        rec.submit(record(2, messages=[{"role": "user", "content": "nul \x00 inside"}]))
        rec.submit(record(3))
        assert rec.flush(60)
        s = rec.stats()
        assert (s.written, s.rejected, s.salvaged) == (3, 0, 2)
    finally:
        rec.close()
    by_id = {r.request_id: r for r in stored(db)}
    assert set(by_id) == {"req-1", "req-2", "req-3"}
    assert by_id["req-1"].metadata and "record_refused" in by_id["req-1"].metadata
    for refused in (by_id["req-1"], by_id["req-2"]):
        # why this one record was refused: its fields, not a whole batch's "nothing was
        # recorded" (its reduced form was)
        why = str((refused.metadata or {})["record_refused"])
        assert "nothing was recorded" not in why, why
    assert "error" in str(by_id["req-1"].metadata["record_refused"])
    assert "prompt" in str(by_id["req-2"].metadata["record_refused"])
    assert by_id["req-1"].metadata["status"] == 502 and by_id["req-1"].error is not None
    assert by_id["req-2"].prompt is None and by_id["req-3"].prompt is not None


def test_requests_refused_before_their_feature_go_to_the_gateway_pseudo_feature(
    db: Database,
) -> None:
    rec = ProcessRecorder(db.url, {}, interval_s=0.01)
    refused = {
        "feature": None,
        "assigned_version": None,
        "served_version": None,
        "served_model": None,
        "arm": None,
        "messages": None,
        "response": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "fallback_depth": None,
        "status": 400,
        "error": "request body must be a JSON object",
        "error_stage": "request",
    }
    try:
        rec.submit(record(1, **refused))
        rec.submit(record(2, **{**refused, "feature": "no such/feature"}))
        assert rec.flush(60)
        assert rec.stats().written == 2
    finally:
        rec.close()
    rows = {r.request_id: r for r in stored(db, GATEWAY_FEATURE)}
    assert set(rows) == {"req-1", "req-2"}
    assert rows["req-1"].error == "request body must be a JSON object"
    assert rows["req-1"].metadata and rows["req-1"].metadata["status"] == 400
    assert rows["req-2"].metadata and rows["req-2"].metadata["requested_feature"] == (
        "no such/feature"
    )
    assert stored(db) == []  # nothing counted under a real feature


@pytest.mark.parametrize("failures", [1, 3])
def test_a_writer_started_while_the_store_cannot_be_opened_keeps_its_records(
    tmp_path: Path, failures: int
) -> None:
    """The store is not there when the writer starts (a gateway started, or a writer
    restarted, during an outage): the writer holds the records and writes them once the
    store opens, instead of exiting and losing them."""
    url = f"sqlite:///{tmp_path / 'later.sqlite'}"
    rec = ProcessRecorder(url, {}, interval_s=0.01)
    try:
        for i in range(40):
            rec.submit(record(i))
        deadline = time.monotonic() + 60
        while rec.stats().failed_attempts < failures and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rec.stats().failed_attempts >= failures
        pid = child_pid(rec)
        database = open_database(url, create=True)
        database.upgrade()
        svc = DeploymentService(database.uow())
        svc.register("chat", "v1", prompt="chat@1.0.0", model="m-1", actor="t")
        for i in range(40, 60):
            rec.submit(record(i))
        assert rec.flush(60)
        assert child_pid(rec) == pid  # the same writer: it never exited
        s = rec.stats()
        assert (s.submitted, s.written, s.dropped, s.rejected) == (60, 60, 0, 0)
    finally:
        rec.close()
    assert len(stored(database)) == 60
    database.close()


_WRITE_AND_LIST_MODULES = """
import gc, io, json, mmap, pickle, sys, tempfile
from releasegate.gateway._record_writer import STATS_SIZE, _run, frame, read_stats
url, rows_file = sys.argv[1:3]
spec = {"database_url": url, "online": {}, "records": 1000, "bytes": 10**7}
with open(rows_file, "rb") as f:
    rows = f.read()
data = frame(json.dumps(spec).encode()) + frame(rows) + frame(b"")
stats = tempfile.TemporaryFile()
stats.truncate(STATS_SIZE)
view = mmap.mmap(stats.fileno(), STATS_SIZE)
_run(io.BytesIO(data), view)
print(json.dumps({"stats": read_stats(view), "modules": sorted(sys.modules),
                  "gc": [gc.get_threshold()[0], gc.get_freeze_count()]}))
"""

# What a writer process never needs: the serving side, the migrations, the scorers, the
# control-plane services and what they pull in.
_NOT_IN_THE_WRITER = (
    "aiohttp",
    "alembic",
    "jinja2",
    "uvicorn",
    "releasegate.gateway.app",
    "releasegate.control.deployments",
    "releasegate.scorers",
    "releasegate.online.scoring",
    "releasegate.store.migrate",
)


@pytest.mark.parametrize("revision", ["current", "behind"])
def test_the_writer_loads_only_what_it_writes_with(
    db: Database, tmp_path: Path, revision: str
) -> None:
    """The writer process checks that the schema is at the shipped head with one query
    (the migrations stay unloaded); a database behind it gets the full check (SQLite:
    migrated). Its collector is tuned for a long-running process once it has started."""
    import json
    import subprocess
    import sys

    from releasegate.bootstrap.serving import YOUNG_THRESHOLD
    from releasegate.gateway._record_writer import records_payload
    from releasegate.store import create_engine, downgrade
    from releasegate.store.migrate import current_revision, head_revision

    if revision == "behind":
        engine = create_engine(db.url)
        downgrade(engine, "-1")
        engine.dispose()
    rows = tmp_path / "rows.pickle"
    rows.write_bytes(
        records_payload([tuple(record(i)[k] for k in RECORD_FIELDS) for i in range(30)])
    )
    out = subprocess.run(
        [sys.executable, "-c", _WRITE_AND_LIST_MODULES, db.url, str(rows)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["stats"]["written"] == 30 and result["stats"]["rejected"] == 0
    assert len(stored(db)) == 30
    assert result["gc"][0] == YOUNG_THRESHOLD and result["gc"][1] > 10_000
    loaded = set(result["modules"])
    if revision == "current":
        assert not loaded & set(_NOT_IN_THE_WRITER), sorted(loaded & set(_NOT_IN_THE_WRITER))
    else:
        assert current_revision(db.engine) == head_revision()
        assert "releasegate.store.migrate" in loaded  # the full check ran
    assert not loaded & (set(_NOT_IN_THE_WRITER) - {"alembic", "releasegate.store.migrate"})


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_during_an_outage_the_writer_holds_its_records_encoded(tmp_path: Path) -> None:
    """A store outage fills the writer's buffer with records kept as they came (pickled,
    decoded when written): 20,000 records with about 450 characters of prompt each grow
    the writer by much less than the same records held as dicts did (about 46 MB), and
    every one is written, whole, once the store is back."""
    url = f"sqlite:///{tmp_path / 'later.sqlite'}"
    rec = ProcessRecorder(url, {}, interval_s=0.01)
    n = 20_000
    text = "Please tell me about my order and the parcel that has not arrived yet. " * 6

    def big(i: int) -> dict[str, Any]:
        return record(i, messages=[{"role": "user", "content": f"{text} {i}"}])

    try:
        rec.submit(big(0))
        deadline = time.monotonic() + 60
        while rec.stats().failed_attempts < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rec.stats().failed_attempts >= 1  # the store is down; the writer is up
        pid = child_pid(rec)
        before = _rss_mb(pid)
        for i in range(1, n):
            rec.submit(big(i))
        child = rec._child
        assert child is not None
        while child.counters()["received"] < n and time.monotonic() < deadline + 60:
            time.sleep(0.05)
        assert child.counters()["received"] == n
        grown = _rss_mb(pid) - before
        assert grown < 30, f"the writer grew by {grown:.1f} MB holding {n} records"
        database = open_database(url, create=True)
        database.upgrade()
        assert rec.flush(120)
        s = rec.stats()
        assert (s.submitted, s.written, s.dropped, s.rejected) == (n, n, 0, 0)
    finally:
        rec.close()
    rows = {i.request_id: i for i in stored(database)}
    assert len(rows) == n
    assert rows["req-1234"].prompt == [{"role": "user", "content": f"{text} 1234"}]
    database.close()


def test_a_record_the_writer_cannot_read_is_counted_rejected(db: Database) -> None:
    rec = ProcessRecorder(str(db.url), {}, interval_s=0.01)
    try:
        for i in range(10):
            rec.submit(record(i, time="not a time") if i in (2, 5) else record(i))
        assert rec.flush(60)
        s = rec.stats()
    finally:
        rec.close()
    assert (s.submitted, s.written, s.rejected, s.dropped) == (10, 8, 2, 0)
    assert sorted(i.request_id for i in stored(db)) == sorted(
        f"req-{i}" for i in range(10) if i not in (2, 5)
    )
