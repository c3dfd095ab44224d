"""Arm statistics fed at record time: the assigned arm, once per request, with feedback."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from releasegate.canary.observations import ArmStats
from releasegate.canary.records import OVERALL, REQUESTS
from releasegate.control.deployments import DeploymentService
from releasegate.deploy.model import Deployment
from releasegate.online import FeedbackService, RecordingService
from releasegate.online.arm_facts import request_part, score_facts, score_part
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def data() -> MemoryData:
    return with_canary()


def with_canary() -> MemoryData:
    data = MemoryData()
    svc = DeploymentService(InMemoryUnitOfWork(data))
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    svc.canary("chat", "v2", actor="t", share=0.2)
    return data


def canary(data: MemoryData) -> Deployment:
    found = DeploymentService(InMemoryUnitOfWork(data)).status("chat").canary
    assert found is not None
    return found


def rows(data: MemoryData) -> dict[tuple[int, str, str], ArmStats]:
    dep = canary(data)
    return {k: v for (d, k), v in data.arm_stats.items() if d == dep.id}


def rec(request_id: str, **extra: Any) -> dict[str, Any]:
    return {"feature": "chat", "request_id": request_id, "response": "hi", **extra}


def record(data: MemoryData, *records: dict[str, Any]) -> None:
    RecordingService(InMemoryUnitOfWork(data), clock=lambda: T0).record_json(
        {"records": list(records)}
    )


def test_requests_count_for_their_assigned_arm_once(data: MemoryData) -> None:
    batch = [
        rec("c1", version="v2", latency_ms=120.0, cost_usd=0.002),
        rec("c2", version="v2", error="timeout", latency_ms=3000.0),
        # assigned to the canary, answered by the incumbent's model after a fallback
        rec("c3", version="v2", served_version="v1", fallback_depth=1, error=None),
        rec("i1", version="v1", latency_ms=100.0, cost_usd=0.001),
        rec("f1", arm="fallback"),  # no deployment: outside the comparison
    ]
    record(data, *batch)
    record(data, *batch)  # a retried batch writes nothing and adds nothing
    got = rows(data)
    assert set(got) == {(0, "canary", REQUESTS), (0, "incumbent", REQUESTS)}
    can, inc = got[(0, "canary", REQUESTS)], got[(0, "incumbent", REQUESTS)]
    assert (can.count, can.errors, can.latency_n, can.cost_n) == (3, 1, 2, 3)
    assert can.cost_sum == pytest.approx(0.002)
    assert (inc.count, inc.errors, inc.scored) == (1, 0, 0)
    stored = InMemoryUnitOfWork(data)
    with stored as uow:
        by_id = uow.interactions.by_request_ids(["c3", "f1"])
    assert by_id["c3"].canary_id == canary(data).id and by_id["c3"].canary_stage == 0
    assert by_id["f1"].canary_id is None


def test_without_a_canary_nothing_is_counted() -> None:
    data = MemoryData()
    record(data, rec("a", version="v1"))
    assert not data.arm_stats
    assert next(iter(data.interactions.values())).canary_id is None


def test_feedback_joins_the_arm_now_or_when_its_interaction_arrives(data: MemoryData) -> None:
    give = FeedbackService(InMemoryUnitOfWork(data), clock=lambda: T0).give_json
    give({"feedback": [{"request_id": "late", "rating": "down"}]})  # before the record
    record(data, rec("late", version="v2"), rec("i1", version="v1"))
    give({"feedback": [{"request_id": "i1", "rating": 5}, {"request_id": "i1", "rating": 2}]})
    got = rows(data)
    can, inc = got[(0, "canary", REQUESTS)], got[(0, "incumbent", REQUESTS)]
    assert (can.feedback_n, can.feedback_negative) == (1, 1)
    assert (inc.feedback_n, inc.feedback_negative) == (2, 1)


def test_the_split_rule_keeps_requests_and_scores_apart() -> None:
    both = ArmStats(count=2, errors=1, scored=1, score_sum=0.5, score_sumsq=0.25, passes=1)
    assert request_part(both).scored == 0 and request_part(both).count == 2
    assert score_part(both).count == 0 and score_part(both).scored == 1
    one = score_facts(0.4)
    assert (one.scored, one.passes, one.count, one.score_sum) == (1, 0, 0, 0.4)
    assert score_facts(0.5).passes == 1
    assert OVERALL == "overall"


def _mixed_batch(seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    batch = [
        rec(
            f"r{i}",
            version=rng.choice(["v1", "v2"]),
            latency_ms=rng.choice([5.0, 50.0, 500.0, 5000.0]),
            cost_usd=0.001,
            **({"error": "timeout"} if i % 5 == 0 else {}),
        )
        for i in range(40)
    ]
    rng.shuffle(batch)
    return batch


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_a_batch_adds_its_sums_once_per_row_in_one_fixed_order(seed: int) -> None:
    """Whatever the order of its records, a batch adds one sum per row, rows sorted (so
    concurrent writers wait for rows in the same order), equal to adding them one by one."""
    summed, single = MemoryData(), MemoryData()
    for target in (summed, single):
        svc = DeploymentService(InMemoryUnitOfWork(target))
        for v in ("v1", "v2"):
            svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
            svc.approve("chat", v, actor="t")
        svc.promote("chat", "v1", actor="t")
        svc.canary("chat", "v2", actor="t", share=0.5)
    batch = _mixed_batch(seed)
    record(summed, *batch)
    for r in batch:
        record(single, r)
    order = list(summed.arm_stats)
    assert order == sorted(order) and len(order) == 2  # incumbent and canary rows
    assert summed.arm_stats == single.arm_stats


def test_a_batch_adds_what_its_records_add_one_by_one() -> None:
    """A batch's statistics are summed and added once per row: the same totals as one
    record at a time, feedback joined in the same batch included."""
    records = [
        rec(
            f"r{i}",
            version="v2" if i % 3 else "v1",
            arm=None if i % 4 else ("canary" if i % 3 else "incumbent"),
            latency_ms=5.0 + 37.5 * i,
            cost_usd=0.0007 * i,
            error="boom" if i % 7 == 0 else None,
        )
        for i in range(60)
    ]
    batched, single = with_canary(), with_canary()
    for data in (batched, single):
        FeedbackService(InMemoryUnitOfWork(data), clock=lambda: T0).give_json(
            {"feedback": [{"request_id": "r5", "rating": "down"}]}
        )
    record(batched, *records)
    for r in records:
        record(single, r)
    got, want = rows(batched), rows(single)
    assert got.keys() == want.keys() and got
    for key, stats in want.items():
        a, b = got[key], stats
        assert (a.count, a.errors, a.cost_n, a.feedback_n, a.feedback_negative) == (
            b.count,
            b.errors,
            b.cost_n,
            b.feedback_n,
            b.feedback_negative,
        )
        assert dict(a.latency) == dict(b.latency)
        assert math.isclose(a.cost_sum, b.cost_sum) and math.isclose(a.cost_sumsq, b.cost_sumsq)
    assert sum(s.feedback_n for s in got.values()) == 1
