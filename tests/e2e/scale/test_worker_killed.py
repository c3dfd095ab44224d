"""A ``releasegate worker`` killed with SIGKILL in the middle of its jobs."""

from __future__ import annotations

import signal

import pytest

from releasegate.canary.records import OVERALL
from releasegate.control.deployments import DeploymentService
from releasegate.store.database import Database
from tests.e2e.scale._stack import (
    Scale,
    backlog,
    chat_records,
    score_rows_per_interaction,
    wait_for,
)
from tests.integration.online._worker import record_batch, worker
from tests.support.openai_server import FakeOpenAIServer

N = 12
THREADS = 4
VERDICT = '{"reason": "fine", "score": 0.75}'


def _scored_in_arm_stats(database: Database) -> int:
    canary = DeploymentService(database.uow()).get("chat", "v2")
    with database.uow(write=False) as uow:
        rows = uow.arm_stats.for_deployment(canary.id or 0)
    return sum(s.scored for (_, _, check), s in rows.items() if check == OVERALL)


def test_a_killed_worker_s_jobs_are_retried_and_each_interaction_is_scored_once(
    scale: Scale, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs a worker held when it was SIGKILLed are run again by another worker, and
    every interaction ends with exactly one score per check (and one ``overall``),
    counted once in the canary's statistics."""
    monkeypatch.setenv("JUDGE_KEY", "sk-test")
    with FakeOpenAIServer.run_in_thread(reply=VERDICT, record=False) as judge:
        # The worker's four threads: their first four judge calls answer, the next four
        # hang, so the kill lands while four jobs are in flight; later calls answer.
        for _ in range(THREADS):
            judge.reply_next(VERDICT)
        judge.hang_next(60.0, times=THREADS)
        config = scale.judged_config("worker", judge.base_url)
        stack = scale.stack(config)
        database = scale.database()
        try:
            record_batch(stack.recording(database, stack.jobs()), chat_records(database, N, "k"))
            assert backlog(scale) == N
            first = scale.root / "worker.log"
            with worker(stack, workers=THREADS) as proc:
                wait_for("a second round of jobs to wait on the judge",
                         lambda: judge.count == 2 * THREADS, log=first)  # fmt: skip
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            # the first round was stored; the second had asked the judge, then died
            assert backlog(scale) == N - THREADS
            with worker(stack, workers=THREADS, log="worker2.log"):
                wait_for("every interaction to be scored", lambda: backlog(scale) == 0,
                         log=scale.root / "worker2.log")  # fmt: skip
            rows = score_rows_per_interaction(scale)
            assert rows == {f"k-{i}": 2 for i in range(N)}  # overall + llm-judge, once each
            assert _scored_in_arm_stats(database) == N
            assert judge.count >= N + THREADS  # the four killed jobs were run again
        finally:
            database.close()
