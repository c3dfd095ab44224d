"""Rollout plans: staged traffic shares with gates between stages.

A plan is pure data. Whether a stage may advance is decided by :meth:`RolloutPlan.can_advance`
from the numbers the caller measured (samples seen, time in stage, manual approval); the
online canary analysis feeds it and decides on quality separately.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from releasegate.errors import UsageError

__all__ = ["PRESETS", "RolloutPlan", "Stage", "StageCheck", "preset"]


class Stage(BaseModel):
    """One step of a rollout.

    Attributes:
        share: Fraction of units routed to the candidate, in (0, 1]. A shadow stage uses
            share 0: the candidate answers every request but its answer is never served.
        min_samples: Scored requests on the candidate before the stage may advance.
        min_duration_s: Seconds the stage must last before it may advance.
        manual_approval: A human must approve before this stage starts.
        shadow: The candidate runs in shadow mode during this stage.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    share: float = Field(ge=0.0, le=1.0)
    min_samples: int = Field(default=0, ge=0)
    min_duration_s: float = Field(default=0.0, ge=0.0)
    manual_approval: bool = False
    shadow: bool = False

    @model_validator(mode="after")
    def _shadow_or_share(self) -> Stage:
        if self.shadow and self.share != 0.0:
            raise ValueError("a shadow stage serves no traffic: its share must be 0")
        if not self.shadow and self.share == 0.0:
            raise ValueError("a non-shadow stage needs a share above 0")
        return self


class StageCheck(BaseModel):
    """Why a stage may or may not advance."""

    model_config = ConfigDict(frozen=True)

    ready: bool
    reasons: list[str] = Field(default_factory=list)


class RolloutPlan(BaseModel):
    """An ordered list of stages with non-decreasing shares.

    Attributes:
        name: Preset name or ``"custom"``.
        stages: The stages, the last of which is normally share 1.0.
        requires_budgets: The feature must have token budgets configured (high volume).
        requires_breakers: The feature's upstreams must have circuit breakers configured.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "custom"
    stages: tuple[Stage, ...] = Field(min_length=1)
    requires_budgets: bool = False
    requires_breakers: bool = False

    @model_validator(mode="after")
    def _monotone(self) -> RolloutPlan:
        # A falling share would move sticky units back to the incumbent mid-rollout.
        shares = [s.share for s in self.stages]
        if any(b < a for a, b in itertools.pairwise(shares)):
            raise ValueError(f"stage shares must not decrease, got {shares}")
        return self

    @property
    def shadow(self) -> bool:
        """True when the plan starts with a shadow stage."""
        return self.stages[0].shadow

    def stage(self, index: int) -> Stage:
        """The stage at ``index``, with a clear error when out of range."""
        if not 0 <= index < len(self.stages):
            raise UsageError(f"plan {self.name!r} has no stage {index} (0..{len(self.stages) - 1})")
        return self.stages[index]

    def is_last(self, index: int) -> bool:
        return index >= len(self.stages) - 1

    def can_advance(
        self,
        index: int,
        *,
        samples: int,
        elapsed: timedelta,
        approved: bool = False,
    ) -> StageCheck:
        """Whether the rollout may leave stage ``index`` for the next one.

        Args:
            index: Current stage.
            samples: Scored requests the candidate received in this stage.
            elapsed: Time spent in this stage.
            approved: A human approved the next stage (needed only when it asks for it).
        """
        current = self.stage(index)
        reasons: list[str] = []
        if samples < current.min_samples:
            reasons.append(f"{samples} of {current.min_samples} samples")
        if elapsed.total_seconds() < current.min_duration_s:
            reasons.append(
                f"{elapsed.total_seconds():.0f}s of {current.min_duration_s:.0f}s in stage"
            )
        if not self.is_last(index) and self.stages[index + 1].manual_approval and not approved:
            reasons.append(f"stage {index + 1} needs manual approval")
        return StageCheck(ready=not reasons, reasons=reasons)

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


_HOUR = 3600.0
_DAY = 24 * _HOUR


def _plan(name: str, *stages: Stage, budgets: bool = False, breakers: bool = False) -> RolloutPlan:
    return RolloutPlan(
        name=name, stages=stages, requires_budgets=budgets, requires_breakers=breakers
    )


PRESETS: dict[str, RolloutPlan] = {
    # The default: 5 -> 25 -> 50 -> 100 % with a modest evidence floor per stage.
    "default": _plan(
        "default",
        Stage(share=0.05, min_samples=100, min_duration_s=_HOUR),
        Stage(share=0.25, min_samples=200, min_duration_s=_HOUR),
        Stage(share=0.50, min_samples=200, min_duration_s=_HOUR),
        Stage(share=1.00),
    ),
    # Internal tool: the audience is forgiving, one stage then done.
    "internal-tool": _plan(
        "internal-tool",
        Stage(share=0.20, min_samples=30, min_duration_s=15 * 60),
        Stage(share=1.00),
    ),
    # Customer-facing: start small and let it soak for days.
    "customer-facing": _plan(
        "customer-facing",
        Stage(share=0.05, min_samples=500, min_duration_s=_DAY),
        Stage(share=0.25, min_samples=1000, min_duration_s=_DAY),
        Stage(share=0.50, min_samples=1000, min_duration_s=_DAY),
        Stage(share=1.00),
    ),
    # High volume: many samples arrive fast; cost and upstream failures are the risk.
    "high-volume": _plan(
        "high-volume",
        Stage(share=0.01, min_samples=2000, min_duration_s=30 * 60),
        Stage(share=0.10, min_samples=5000, min_duration_s=_HOUR),
        Stage(share=0.50, min_samples=5000, min_duration_s=_HOUR),
        Stage(share=1.00),
        budgets=True,
        breakers=True,
    ),
    # Regulated: shadow first, then 1 %, and a human signs off before every stage.
    "regulated": _plan(
        "regulated",
        Stage(share=0.0, shadow=True, min_samples=500, min_duration_s=_DAY),
        Stage(share=0.01, manual_approval=True, min_samples=500, min_duration_s=_DAY),
        Stage(share=0.10, manual_approval=True, min_samples=1000, min_duration_s=_DAY),
        Stage(share=0.50, manual_approval=True, min_samples=1000, min_duration_s=_DAY),
        Stage(share=1.00, manual_approval=True),
    ),
}


def preset(name: str) -> RolloutPlan:
    """The named preset plan.

    Raises:
        UsageError: for an unknown name, listing the known ones.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise UsageError(
            f"unknown rollout plan {name!r} (known: {', '.join(sorted(PRESETS))})"
        ) from None
