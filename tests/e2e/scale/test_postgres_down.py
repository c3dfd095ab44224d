"""PostgreSQL stopped for ten seconds under gateway traffic."""

from __future__ import annotations

import threading
import time

import httpx

from tests.e2e.scale._stack import Answer, Scale, ask, gateway_process, stored_request_ids, wait_for

UNITS = [f"user-{i}" for i in range(20)]
OUTAGE_S = 10.0


def _traffic(url: str, stop: threading.Event, out: list[tuple[str, Answer]]) -> None:
    with httpx.Client() as client:
        i = 0
        while not stop.is_set():
            unit = UNITS[i % len(UNITS)]
            out.append((unit, ask(client, url, unit)))
            i += 1
            time.sleep(0.05)


def test_the_gateway_serves_through_a_database_outage(scale: Scale) -> None:
    """While PostgreSQL is down the gateway keeps answering every request from its last
    known routing (each unit on the version it had). The records of those requests are
    held in the gateway's buffer (10,000 records, far above this test's traffic) and
    written once PostgreSQL is back: requests in == records out, with nothing dropped."""
    config = scale.config("e", gateway={"redis_url": scale.redis.url})
    answers: list[tuple[str, Answer]] = []
    stop = threading.Event()
    with gateway_process(scale, config) as g:
        with httpx.Client() as client:
            versions = {unit: ask(client, g.url, unit).version for unit in UNITS}
        assert set(versions.values()) == {"v1", "v2"}
        traffic = threading.Thread(target=_traffic, args=(g.url, stop, answers))
        traffic.start()
        try:
            time.sleep(0.5)
            scale.pg.stop()
            at_stop = len(answers)
            time.sleep(OUTAGE_S)  # twice the router's 5 s cache: routing is read again
            at_start = len(answers)
            scale.pg.start()
            time.sleep(0.5)
        finally:
            stop.set()
            traffic.join()
        assert at_start - at_stop > len(UNITS)  # every unit was asked during the outage
        assert {a.status for _, a in answers} == {200}
        assert all(a.version == versions[unit] for unit, a in answers)
        sent = len(UNITS) + len(answers)
        wait_for("every request's record to be written after recovery",
                 lambda: len(stored_request_ids(scale)) == sent, timeout=60, log=g.log)  # fmt: skip
        assert g.metric("releasegate_gateway_records_dropped") == 0
        assert {a.request_id for _, a in answers} <= stored_request_ids(scale)
