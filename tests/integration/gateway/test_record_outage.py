"""Records ride out a PostgreSQL outage: buffered by the writer process, written once the
server is back, none lost and none doubled (a private server this test stops)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from releasegate.control.deployments import DeploymentService
from releasegate.gateway._spool import ProcessRecorder
from releasegate.store.database import open_database
from tests.integration.gateway.test_process_recorder import record
from tests.support.servers import PostgresServer


@pytest.fixture
def pg() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        db = open_database(server.url, auto_upgrade=True)
        svc = DeploymentService(db.uow())
        svc.register("chat", "v1", prompt="chat@1.0.0", model="m-1", actor="t")
        svc.approve("chat", "v1", actor="t")
        svc.promote("chat", "v1", actor="t")
        db.close()
        yield server
    finally:
        server.close()


def test_requests_in_equal_records_out_across_a_store_outage(pg: PostgresServer) -> None:
    rec = ProcessRecorder(pg.url, {}, interval_s=0.01)
    n = 0

    def send(seconds: float) -> None:
        nonlocal n
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rec.submit(record(n))
            n += 1
            time.sleep(0.004)

    try:
        send(1.5)
        assert rec.flush(60)  # the writer is up and writing before the outage
        pg.stop()
        send(5.0)  # the gateway keeps answering; the writer holds the records
        during = rec.stats()
        assert during.queued > 0 and during.dropped == 0
        pg.start()
        send(1.0)
        assert rec.flush(90)
        s = rec.stats()
    finally:
        rec.close()
    assert (s.submitted, s.written, s.dropped, s.rejected) == (n, n, 0, 0)
    assert s.failed_attempts >= 1
    db = open_database(pg.url)
    try:
        with db.uow(write=False) as uow:
            rows = uow.interactions.for_feature("chat", limit=100_000)
    finally:
        db.close()
    assert len(rows) == n == len({r.request_id for r in rows})
