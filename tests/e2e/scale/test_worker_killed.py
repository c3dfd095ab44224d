"""A ``releasegate worker`` killed with SIGKILL in the middle of its jobs."""

from __future__ import annotations

import signal

import pytest

from releasegate.canary.records import OVERALL
from releasegate.control.deployments import DeploymentService
from releasegate.control.router import Router
from releasegate.store.database import Database
from tests.e2e.scale._stack import Scale, backlog, score_rows_per_interaction, wait_for
from tests.integration.online._worker import record_batch, worker
from tests.support.openai_server import FakeOpenAIServer

N = 12


def _records(database: Database) -> list[dict[str, object]]:
    router = Router(lambda: database.uow(write=False))
    out: list[dict[str, object]] = []
    for i in range(N):
        route = router.route("chat", f"user-{i}")
        out.append(
            {
                "feature": "chat",
                "request_id": f"k-{i}",
                "version": route.version,
                "arm": route.arm,
                "prompt": [{"role": "user", "content": f"question {i}"}],
                "response": f"answer {i}",
            }
        )
    return out


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
    # A slow judge: each scoring job spends a second and a half waiting on it, so the
    # kill lands while jobs are in flight.
    with FakeOpenAIServer.run_in_thread(
        reply='{"reason": "fine", "score": 0.75}', delay_ms=1500, record=False
    ) as judge:
        config = scale.config(
            "worker",
            providers={
                "judge": {
                    "type": "openai",
                    "base_url": judge.base_url,
                    "model": "judge-1",
                    "api_key_env": "JUDGE_KEY",
                    "max_retries": 0,
                }
            },
            online={
                "features": {
                    "chat": {
                        "checks": [{"type": "llm-judge", "value": "The answer is helpful."}],
                        "judge": "judge",
                        "sample": {"canary": 1.0, "incumbent": 1.0},
                    }
                }
            },
        )
        stack = scale.stack(config)
        database = scale.database()
        try:
            record_batch(stack.recording(database, stack.jobs()), _records(database))
            assert backlog(scale) == N
            first = scale.root / "worker.log"
            with worker(stack, workers=4) as proc:
                wait_for("the judge to be asked by a second round of jobs",
                         lambda: judge.count > 4, log=first)  # fmt: skip
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            asked_before_kill = judge.count
            left = backlog(scale)
            assert left > 0, "the worker finished before it was killed"
            # some jobs had asked the judge and never stored their score
            assert N - left < asked_before_kill
            with worker(stack, workers=4, log="worker2.log"):
                wait_for("every interaction to be scored", lambda: backlog(scale) == 0,
                         log=scale.root / "worker2.log")  # fmt: skip
            rows = score_rows_per_interaction(scale)
            assert rows == {f"k-{i}": 2 for i in range(N)}  # overall + llm-judge, once each
            assert _scored_in_arm_stats(database) == N
            assert judge.count > N  # the killed worker's jobs were run again
        finally:
            database.close()
