"""The demo's summary says what the store says: promoted, rolled back (with the
decision's reason) or still waiting for evidence; never a promotion it did not see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.console import Console

from releasegate.bootstrap import ControlPlaneParts
from releasegate.canary.records import StoredDecision
from releasegate.demo._canary import Watch
from releasegate.demo._narrator import Narrator
from releasegate.demo._summary import summarize
from releasegate.demo._traffic import UserStats
from releasegate.deploy.model import utcnow
from releasegate.deploy.status import Status

F = "review-sentiment"


def _story(parts: ControlPlaneParts) -> int:
    dep = parts.deployments()
    for v in ("v1", "v2", "v3"):
        dep.register(F, v, prompt=f"p-{v}@1.0.0", model="m", actor="t")
    dep.approve(F, "v1", actor="t")
    dep.promote(F, "v1", actor="t")
    dep.reject(F, "v2", actor="t", reason="eval gate failed")
    dep.approve(F, "v3", actor="t")
    canary = dep.canary(F, "v3", actor="t", share=0.25)
    assert canary.id is not None
    return canary.id


def _decide(parts: ControlPlaneParts, dep_id: int, action: str, reason: str, applied: str) -> None:
    with parts.uow_factory() as uow:
        uow.decisions.add(
            StoredDecision(
                deployment_id=dep_id,
                decided_at=utcnow() + timedelta(seconds=1),
                action=action,
                stage=0,
                reasons=(reason, "Error rate: 0.00% vs 0.00% (e-value 1)."),
                stats={},
                signals={},
                applied=applied,
            )
        )
        uow.commit()


def _summary(parts: ControlPlaneParts, status: Status) -> tuple[str, str]:
    console = Console(record=True, width=200, force_terminal=False)
    watch = Watch(status=status, seconds=42.0, users=UserStats(sent=10))
    outcome = summarize(Narrator(console), parts, F, "v3", watch, dashboard_url="http://x")
    return outcome, console.export_text()


def test_a_rollback_is_reported_with_the_decisions_reason() -> None:
    parts = ControlPlaneParts.in_memory()
    dep_id = _story(parts)
    _decide(parts, dep_id, "continue", "Quality: 5 of 20 scored canary requests needed.", "")
    worse = "Quality is worse: mean score difference -0.3000, upper bound -0.1000 below 0."
    _decide(parts, dep_id, "rollback", worse, "applied")
    parts.deployments().rollback(F, actor="releasegate-canary", reason=worse)
    outcome, text = _summary(parts, Status.ROLLED_BACK)
    assert outcome == "rolled back"
    assert "v3 was rolled back after 42 s" in text and worse in text
    assert "promoted" not in text
    assert "2 analyses; 1 said 'continue'" in text


def test_a_canary_without_a_verdict_is_reported_as_waiting() -> None:
    parts = ControlPlaneParts.in_memory()
    dep_id = _story(parts)
    waiting = "Quality is not yet conclusive: difference -0.0500, lower bound -0.2127."
    _decide(parts, dep_id, "continue", waiting, "")
    outcome, text = _summary(parts, Status.CANARY)
    assert outcome == "still in canary"
    assert "still canary at 25%" in text and waiting in text
    assert "none moved the rollout" in text


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_every_version_is_listed_with_its_status(version: str) -> None:
    parts = ControlPlaneParts.in_memory()
    _story(parts)
    _, text = _summary(parts, Status.CANARY)
    expected = {"v1": "active", "v2": "rejected", "v3": "canary"}[version]
    assert any(version in line and expected in line for line in text.splitlines())


@pytest.mark.parametrize(
    ("status", "action", "says_not_counted"),
    [
        (Status.ACTIVE, "promote", True),
        (Status.ROLLED_BACK, "rollback", True),
        (Status.CANARY, "continue", False),
    ],
)
def test_signals_without_data_read_as_not_counted_once_decided(
    status: Status, action: str, says_not_counted: bool
) -> None:
    parts = ControlPlaneParts.in_memory()
    dep_id = _story(parts)
    with parts.uow_factory() as uow:
        uow.decisions.add(
            StoredDecision(
                deployment_id=dep_id,
                decided_at=utcnow() + timedelta(seconds=1),
                action=action,
                stage=0,
                reasons=(
                    "Quality is better: mean score difference 0.2, lower bound 0.1 above 0.",
                    "Waiting for feedback data: one arm has none yet.",
                    "Waiting for cost data: one arm has none yet.",
                    "Error rate: 0.00% vs 0.00% (e-value 1).",
                ),
                stats={},
                signals={},
                applied="applied" if action != "continue" else "",
            )
        )
        uow.commit()
    if status is Status.ACTIVE:
        parts.deployments().promote(F, "v3", actor="releasegate-canary")
    elif status is Status.ROLLED_BACK:
        parts.deployments().rollback(F, actor="releasegate-canary", reason="worse")
    _, text = _summary(parts, status)
    assert "Error rate: 0.00% vs 0.00%" in text
    if says_not_counted:
        assert "not counted in the decision (one arm had no data): feedback, cost" in text
        assert "Waiting for feedback data" not in text and "Waiting for cost" not in text
    else:
        assert "Waiting for feedback data" in text and "not counted" not in text
