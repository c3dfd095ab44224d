"""PostgreSQL stopped for ten seconds under gateway traffic."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.e2e.scale._stack import (
    Answer,
    Scale,
    ask,
    backlog,
    chat_records,
    gateway_process,
    score_rows_per_interaction,
    stored_request_ids,
    wait_for,
)
from tests.integration.online._worker import record_batch, worker
from tests.support.openai_server import FakeOpenAIServer

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


def test_scoring_jobs_that_fail_on_a_database_outage_are_retried(
    scale: Scale, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scoring jobs that cannot store their scores because PostgreSQL went away are
    retried by the worker, which keeps running; once the database is back every
    interaction is scored, each exactly once."""
    monkeypatch.setenv("JUDGE_KEY", "sk-test")
    n, threads = 8, 4
    with FakeOpenAIServer.run_in_thread(
        reply='{"reason": "fine", "score": 0.75}', record=False
    ) as judge:
        judge.hang_next(2.0, times=threads)  # the first jobs are mid-call when it stops
        stack = scale.stack(scale.judged_config("outage", judge.base_url))
        database = scale.database()
        try:
            record_batch(stack.recording(database, stack.jobs()), chat_records(database, n, "o"))
        finally:
            database.close()
        log = scale.root / "worker.log"
        with worker(stack, workers=threads) as proc:
            wait_for("the first jobs to call the judge", lambda: judge.count == threads, log=log)
            scale.pg.stop()
            time.sleep(4.0)  # the judge answers; storing fails; the jobs wait to retry
            assert proc.poll() is None
            scale.pg.start()
            wait_for("every interaction to be scored", lambda: backlog(scale) == 0, log=log)
        assert score_rows_per_interaction(scale) == {f"o-{i}": 2 for i in range(n)}
        assert judge.count >= n + threads  # the failed jobs ran again
