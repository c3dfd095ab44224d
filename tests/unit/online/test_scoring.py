"""Online scoring on the in-memory unit of work: sampling, the overall score, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from releasegate.canary.records import OVERALL, REQUESTS
from releasegate.config import FeatureScoring
from releasegate.control.deployments import DeploymentService
from releasegate.online import RecordingService
from releasegate.online.sampling import ScoringPlan, sample_unit
from releasegate.online.scoring import (
    FeatureChecks,
    ScoringService,
    check_keys,
    interaction_sample,
    overall_score,
)
from releasegate.ports import Interaction
from releasegate.scorers import AssertSpec, CheckBuilder, Sample, Score, ScoreStatus
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CHECKS = [
    {"type": "contains", "value": "refund"},
    {"type": "max-words", "value": 5, "weight": 2},
    {"type": "is-json", "weight": 0},  # informational: never in the overall score
    {"type": "grounded"},  # needs context: not applicable without it
]


class Grounded:
    """A plugin-style check that needs retrieved context."""

    name = "grounded"
    requires = frozenset({"context"})
    default_threshold = 0.5
    expensive = False

    async def score(self, sample: Sample) -> Score:
        return Score(1.0 if sample.output in " ".join(sample.context) else 0.0)


def interaction(request_id: str, **extra: Any) -> Interaction:
    fields: dict[str, Any] = {"feature": "chat", "arm": "incumbent", "at": T0, "content_hash": ""}
    return Interaction(request_id=request_id, **{**fields, **extra})


def test_sampling_is_fixed_by_the_request_id_and_close_to_the_rate() -> None:
    plan = ScoringPlan(
        {"chat": FeatureScoring(checks=CHECKS, sample={"canary": 1, "incumbent": 0.2})}
    )
    ids = [f"req-{i}" for i in range(5000)]
    first = [plan(interaction(r)) for r in ids]
    assert first == [plan(interaction(r)) for r in ids]  # a retry decides the same
    assert 0.18 < sum(first) / len(first) < 0.22
    assert all(plan(interaction(r, arm="canary")) for r in ids[:200])
    assert min(sample_unit(r) for r in ids) >= 0.0 and max(sample_unit(r) for r in ids) < 1.0
    assert not plan(interaction("x", feature="other"))  # not configured: never scored


def test_filters_errors_always_and_metadata() -> None:
    cfg = FeatureScoring(
        checks=CHECKS,
        sample={"incumbent": 0.0},
        filters={"errors": "always", "metadata": {"tier": "gold"}},
    )
    plan = ScoringPlan({"chat": cfg})
    gold = {"tier": "gold"}
    assert plan(interaction("e", error="boom", metadata=gold))
    assert not plan(interaction("ok", metadata=gold))  # rate 0
    assert not plan(interaction("e2", error="boom", metadata={"tier": "free"}))
    never = ScoringPlan({"chat": FeatureScoring(checks=CHECKS, sample={"incumbent": 1.0},
                                                 filters={"errors": "never"})})  # fmt: skip
    assert not never(interaction("e", error="boom")) and never(interaction("fine"))
    fallback = ScoringPlan({"chat": FeatureScoring(checks=CHECKS, sample={"incumbent": 1.0})})
    assert fallback(interaction("f", arm="fallback"))  # the incumbent's rate


def test_the_overall_score_is_the_weighted_mean_of_measured_weighted_checks() -> None:
    specs = [AssertSpec.model_validate(c) for c in CHECKS]
    scores = [Score(1.0), Score(0.25), Score(0.0), Score.not_applicable("needs context")]
    assert overall_score(specs, scores) == pytest.approx((1.0 + 2 * 0.25) / 3)
    unmeasured = [Score.unmeasured("x"), Score.unmeasured("y"), Score(1.0), Score(1.0)]
    assert overall_score(specs, unmeasured) == pytest.approx(1.0)
    assert overall_score(specs[:2], [Score.unmeasured("x"), Score.not_applicable("n")]) is None
    assert overall_score(specs, scores, failed=True) == 0.0  # a failed request scores 0
    assert check_keys([*specs, specs[0]]) == [
        "contains", "max-words", "is-json", "grounded", "contains#2",
    ]  # fmt: skip


def test_the_sample_of_an_interaction_takes_the_last_user_message() -> None:
    i = interaction(
        "r",
        prompt=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "?"},
            {"role": "user", "content": [{"type": "text", "text": "refund please"}]},
        ],
        response="ok",
        context=["policy"],
        metadata={"tier": "gold"},
    )
    s = interaction_sample(i)
    assert (s.input, s.output, s.context, s.id) == ("refund please", "ok", ("policy",), "r")


def _world() -> tuple[MemoryData, ScoringService]:
    data = MemoryData()
    svc = DeploymentService(InMemoryUnitOfWork(data))
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    svc.canary("chat", "v2", actor="t", share=0.5)
    specs = [AssertSpec.model_validate(c) for c in CHECKS]
    builder = CheckBuilder()
    checks = FeatureChecks(specs, [*(builder.build(s) for s in specs[:3]), Grounded()])
    scoring = ScoringService(
        lambda: InMemoryUnitOfWork(data),
        lambda f: checks if f == "chat" else None,
        clock=lambda: T0,
    )
    return data, scoring


def test_an_interaction_is_scored_once_and_its_arm_learns_it_once() -> None:
    data, scoring = _world()
    plan = ScoringPlan(
        {"chat": FeatureScoring(checks=CHECKS, sample={"canary": 1, "incumbent": 1})}
    )
    queued: list[int] = []
    recording = RecordingService(
        InMemoryUnitOfWork(data), clock=lambda: T0, sampler=plan, enqueue=queued.extend
    )
    recording.record_json(
        {
            "records": [
                {"feature": "chat", "request_id": "a", "version": "v2", "response": "a refund"},
                {"feature": "chat", "request_id": "b", "version": "v1", "response": "no"},
                {"feature": "other", "request_id": "c", "response": "x"},
            ]
        }
    )
    assert len(queued) == 2  # "other" has no online checks
    try:
        assert [scoring.score(i) for i in queued] == ["scored", "scored"]
        assert [scoring.score(i) for i in queued] == ["already scored"] * 2  # redelivered
    finally:
        scoring.close()
    with InMemoryUnitOfWork(data) as uow:
        rows = {s.check: s for s in uow.scores.for_interaction(queued[0])}
        counts = uow.scores.counts(T0)
    assert rows[OVERALL].value == pytest.approx(1.0) and rows[OVERALL].status == "measured"
    assert rows["grounded"].status == ScoreStatus.NOT_APPLICABLE.value
    assert (counts.backlog, counts.scored_total) == (0, 2)
    canary_id = next(d for d in data.deployments.values() if d.version == "v2").id
    stats = {k: v for (d, k), v in data.arm_stats.items() if d == canary_id}
    assert stats[(0, "canary", OVERALL)].scored == 1
    assert stats[(0, "canary", OVERALL)].score_sum == pytest.approx(1.0)
    assert stats[(0, "incumbent", OVERALL)].score_sum == pytest.approx(2 / 3)  # "no": 0, 1
    assert stats[(0, "canary", REQUESTS)].count == 1
    assert stats[(0, "canary", "contains")].passes == 1


def test_an_unconfigured_or_missing_interaction_is_left_alone() -> None:
    data, scoring = _world()
    with InMemoryUnitOfWork(data) as uow:
        uow.interactions.add_many([interaction("z", feature="other", score_due=True)])
        uow.commit()
    assert scoring.score(1_000_000) == "not found"
    other = next(iter(data.interactions))
    assert scoring.score(other) == "not configured"
    with InMemoryUnitOfWork(data) as uow:
        assert uow.scores.unscored(before=datetime(2030, 1, 1, tzinfo=UTC)) == [other]
    scoring.close()


def test_retention_purges_interactions_with_their_scores_and_feedback() -> None:
    data, scoring = _world()
    with InMemoryUnitOfWork(data) as uow:
        uow.interactions.add_many(
            [interaction("old", response="refund", score_due=True),
             interaction("new", response="refund", at=datetime(2026, 4, 1, tzinfo=UTC))]
        )  # fmt: skip
        uow.commit()
    old = next(i for i, x in data.interactions.items() if x.request_id == "old")
    assert scoring.score(old) == "scored"
    scoring.close()
    with InMemoryUnitOfWork(data) as uow:
        assert uow.interactions.purge(datetime(2026, 3, 15, tzinfo=UTC)) == 1
        uow.commit()
    assert [i.request_id for i in data.interactions.values()] == ["new"]
    assert not data.scores
