"""Online scoring end to end on a real queue: interactions recorded by the recording
service are scored by a real ``releasegate worker`` process, once each, on SQLite with
the embedded queue and on PostgreSQL with Redis."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest

from releasegate.canary.records import OVERALL, REQUESTS
from releasegate.control.deployments import DeploymentService
from releasegate.control.router import Router
from releasegate.deploy.model import utcnow
from releasegate.store.database import Database
from tests.e2e.deploy._cli import free_port, run
from tests.integration.online._worker import (
    Stack,
    flushed,
    make_stack,
    record_batch,
    wait_for,
    worker,
)


def _deploy(database: Database, *, share: float = 0.5) -> None:
    svc = DeploymentService(database.uow())
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    svc.canary("chat", "v2", actor="t", share=share)


def _records(database: Database, n: int, *, prefix: str = "r") -> list[dict[str, object]]:
    router = Router(lambda: database.uow(write=False), ttl_s=0.0)
    out: list[dict[str, object]] = []
    for i in range(n):
        route = router.route("chat", f"user-{prefix}-{i}")
        out.append(
            {
                "feature": "chat",
                "request_id": f"{prefix}-{i}",
                "version": route.version,
                "arm": route.arm,
                "prompt": [{"role": "user", "content": f"question {i}"}],
                "response": "a refund is on its way" if i % 3 else "no",
                "latency_ms": 100.0 + i % 7,
                "cost_usd": 0.001,
                **({"error": "upstream timeout"} if i % 25 == 0 else {}),
            }
        )
    return out


def _counts(database: Database) -> tuple[int, int]:
    uow = database.uow(write=False)
    with uow:
        c = uow.scores.counts(utcnow())
    return c.backlog, c.scored_total


def _arm_scored(database: Database) -> dict[str, int]:
    svc = DeploymentService(database.uow())
    canary = svc.get("chat", "v2")
    uow = database.uow(write=False)
    with uow:
        rows = uow.arm_stats.for_deployment(canary.id or 0)
    return {
        f"{arm}/{check or 'requests'}": s.scored if check else s.count
        for (_, arm, check), s in rows.items()
        if check in (REQUESTS, OVERALL)
    }


def _due(database: Database) -> list[int]:
    uow = database.uow(write=False)
    with uow:
        return sorted(
            i.id or 0 for i in uow.interactions.for_feature("chat", limit=100_000) if i.score_due
        )


@pytest.fixture
def stack(database_url: str, tmp_path: Path) -> Stack:
    return make_stack(database_url, tmp_path, chat={"sample": {"canary": 1.0, "incumbent": 0.5}})


def test_recorded_interactions_are_scored_once_by_a_worker_process(stack: Stack) -> None:
    database = stack.database()
    jobs = stack.jobs()
    with flushed(stack):
        _deploy(database)
        records = _records(database, 120)
        record_batch(stack.recording(database, jobs), records)
        due = _due(database)
        assert 60 < len(due) < 120  # every canary request, about half the incumbent's
        assert _counts(database) == (len(due), 0)
        port = free_port()
        with worker(stack, extra=("--metrics-port", str(port))) as proc:
            wait_for("the backlog to be scored", lambda: _counts(database)[0] == 0,
                     log=stack.root / "worker.log")  # fmt: skip
            assert proc.poll() is None
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            assert "releasegate_scoring_backlog 0.0" in metrics
            assert f"releasegate_scored_total {float(len(due))}" in metrics
            assert "releasegate_scoring_oldest_unscored_age_seconds 0.0" in metrics
            arms = _arm_scored(database)
            # a redelivered job scores nothing and adds nothing
            jobs.enqueue_scoring(due)
            wait_for("the redelivered jobs", lambda: jobs.pending() == 0)
            status = run("online", "status", "--json", "--db", stack.db_url)
        assert status.returncode == 0, status.stderr
        body = json.loads(status.stdout)
        assert (body["backlog"], body["scored_total"]) == (0, len(due))
        assert body["oldest_unscored_age_s"] is None
        assert _counts(database) == (0, len(due))
        assert _arm_scored(database) == arms
        # the requests of both arms were counted when recorded; each scored one once
        assert arms["canary/requests"] + arms["incumbent/requests"] == len(records)
        assert arms["canary/overall"] + arms["incumbent/overall"] == len(due)
        uow = database.uow(write=False)
        with uow:
            scores = uow.scores.for_interaction(due[0])
        assert [s.check for s in scores] == [OVERALL, "contains", "max-words"]
    database.close()


def test_a_worker_killed_mid_job_loses_nothing_and_scores_nothing_twice(stack: Stack) -> None:
    database = stack.database()
    jobs = stack.jobs()
    log = stack.root / "worker.log"
    with flushed(stack):
        _deploy(database, share=1.0)  # every request on the canary: all of them sampled
        record_batch(stack.recording(database, jobs), _records(database, 1500, prefix="k"))
        due = _due(database)
        assert len(due) == 1500
        with worker(stack, workers=4) as proc:
            wait_for("the first scores", lambda: _counts(database)[1] >= 100, log=log)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        killed_at = _counts(database)
        assert killed_at[0] > 0, "the worker finished before it was killed"
        with worker(stack, workers=4, log="worker2.log"):
            wait_for("every sampled interaction to be scored",
                     lambda: _counts(database)[0] == 0, log=stack.root / "worker2.log")  # fmt: skip
        assert _counts(database) == (0, 1500)
        assert _arm_scored(database)["canary/overall"] == 1500  # each added exactly once
    database.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_judge_check_scores_through_a_real_http_server(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.openai_server import FakeOpenAIServer

    with FakeOpenAIServer.run_in_thread(reply='{"reason": "polite", "score": 0.75}') as server:
        monkeypatch.setenv("JUDGE_KEY", "sk-test")
        stack = make_stack(
            database_url,
            tmp_path,
            providers={
                "judge": {
                    "type": "openai",
                    "model": "judge-1",
                    "base_url": server.base_url,
                    "api_key_env": "JUDGE_KEY",
                }
            },
            pricing={"judge-1": {"input_per_mtok": 1000.0, "output_per_mtok": 1000.0}},
            chat={
                "checks": [{"type": "llm-judge", "value": "The answer is polite."}],
                "judge": "judge",
            },
        )
        database = stack.database()
        _deploy(database)
        record_batch(stack.recording(database, stack.jobs()), _records(database, 6, prefix="j"))
        with worker(stack):
            wait_for("the judge's scores", lambda: _counts(database) == (0, 6),
                     log=stack.root / "worker.log")  # fmt: skip
        assert server.count == 6
        uow = database.uow(write=False)
        with uow:
            counts = uow.scores.counts(utcnow())
            rows = [uow.scores.for_interaction(i) for i in _due(database)]
        errored = [r for r in rows if r[0].value == 0.0]  # request 0 failed: it scores 0
        assert len(errored) == 1
        assert all(r[0].value == pytest.approx(0.75) for r in rows if r not in errored)
        assert all(r[1].value == pytest.approx(0.75) and r[1].cost_usd > 0 for r in rows)
        assert counts.judge_cost_usd == pytest.approx(sum(r[0].cost_usd for r in rows))
        assert counts.judge_cost_usd > 0
        database.close()
