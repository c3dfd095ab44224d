"""Dashboard unit fixtures: control-plane parts on the in-memory store, with a feature
in canary, stored decisions and arm statistics."""

from __future__ import annotations

from datetime import timedelta

import pytest

from releasegate.bootstrap import ControlPlaneParts
from releasegate.canary.observations import Observation
from releasegate.canary.records import StoredDecision
from releasegate.deploy.plans import preset
from tests.support.control import T0, CountingSalts, StepClock


def decision(dep_id: int, minutes: int, action: str, diff: float, **signals: str) -> StoredDecision:
    return StoredDecision(
        deployment_id=dep_id,
        decided_at=T0 + timedelta(minutes=minutes),
        action=action,
        stage=0,
        reasons=(f"{action} because of {diff:+.3f}",),
        stats={
            "quality.diff": diff,
            "quality.lower": diff - 0.05,
            "quality.upper": diff + 0.05,
            "quality.margin": 0.02,
        },
        signals=dict(signals),
    )


@pytest.fixture
def parts() -> ControlPlaneParts:
    """``chat``: v1 active, v2 in canary (default plan) with two decisions and stats;
    ``docs``: v1 active only."""
    p = ControlPlaneParts.in_memory(clock=StepClock(), salts=CountingSalts())
    svc = p.deployments()
    for feature in ("chat", "docs"):
        for v in ("v1", "v2"):
            svc.register(feature, v, prompt=f"p@1.0.{v[1]}", model="m", actor="t")
            svc.approve(feature, v, actor="t")
        svc.promote(feature, "v1", actor="t")
    dep = svc.canary("chat", "v2", actor="t", plan=preset("default"), reason="try v2")
    assert dep.id is not None
    canary = p.canary()
    for arm, score in (("incumbent", 0.8), ("canary", 0.7)):
        obs = [Observation(score=score, latency_ms=100.0 + i) for i in range(10)]
        for check in ("", "overall", "faithfulness"):  # as recording and scoring add them
            canary.observe(dep, arm, obs, check=check)
    with p.uow_factory() as uow:
        uow.decisions.add(decision(dep.id, 1, "continue", 0.01, quality="inconclusive"))
        uow.decisions.add(decision(dep.id, 2, "hold", -0.02, srm="fail", quality="pass"))
        uow.commit()
    return p
