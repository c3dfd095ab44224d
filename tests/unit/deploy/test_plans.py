from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from releasegate.deploy.plans import PRESETS, RolloutPlan, Stage, preset
from releasegate.errors import UsageError


def test_default_plan_is_5_25_50_100() -> None:
    assert [s.share for s in preset("default").stages] == [0.05, 0.25, 0.5, 1.0]


def test_presets_match_their_risk_profiles() -> None:
    assert PRESETS["internal-tool"].stages[0].share == 0.2
    assert PRESETS["high-volume"].requires_budgets and PRESETS["high-volume"].requires_breakers
    regulated = PRESETS["regulated"]
    assert regulated.shadow and regulated.stages[1].share == 0.01
    assert all(s.manual_approval for s in regulated.stages[1:])
    cf = PRESETS["customer-facing"]
    assert cf.stages[0].share == 0.05 and cf.stages[0].min_duration_s >= 86400


def test_can_advance_reports_every_missing_condition() -> None:
    plan = PRESETS["regulated"]
    check = plan.can_advance(0, samples=10, elapsed=timedelta(hours=1))
    assert not check.ready
    assert len(check.reasons) == 3  # samples, duration, manual approval of stage 1
    ok = plan.can_advance(0, samples=500, elapsed=timedelta(days=2), approved=True)
    assert ok.ready and ok.reasons == []


def test_invalid_plans_are_refused() -> None:
    with pytest.raises(ValidationError, match="must not decrease"):
        RolloutPlan(stages=(Stage(share=0.5), Stage(share=0.1)))
    with pytest.raises(ValidationError, match="shadow"):
        Stage(share=0.1, shadow=True)
    with pytest.raises(ValidationError, match="above 0"):
        Stage(share=0.0)
    with pytest.raises(UsageError, match="known: customer-facing"):
        preset("yolo")
    with pytest.raises(UsageError, match="no stage 9"):
        preset("default").stage(9)
