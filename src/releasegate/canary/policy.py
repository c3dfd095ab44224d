"""The knobs of canary analysis: error rates, margins, tuning, stage and signal modes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from releasegate.errors import ConfigError

__all__ = ["GUARDRAILS", "SIGNALS", "CanaryPolicy", "Mode"]

Mode = Literal["enforce", "pause", "dry-run"]
#: Signals whose failure may roll back; they share the rollback alpha.
GUARDRAILS = ("quality", "errors", "feedback", "latency", "score_floor", "pass_floor")
#: Every signal with a mode (cost can only alert or hold, never roll back).
SIGNALS = (*GUARDRAILS, "cost")

_DEFAULT_SPLIT: Mapping[str, float] = MappingProxyType(
    {
        "quality": 0.4,
        "errors": 0.2,
        "feedback": 0.1,
        "latency": 0.1,
        "score_floor": 0.1,
        "pass_floor": 0.1,
    }
)


@dataclass(frozen=True, slots=True)
class CanaryPolicy:
    """How :func:`releasegate.analyze_canary` decides.

    Statistics:
        alpha: chance of a false rollback over the whole stage, however often the analysis
            runs; also the chance of wrongly showing non-inferiority (advancing) and of a
            false cost alert.
        alpha_split: share of ``alpha`` per guardrail (sums to at most 1).
        margin: non-inferiority margin on the mean score (absolute, score units): advance
            needs the difference ``canary - incumbent`` shown above ``-margin``.
        rollback_margin: roll back when the difference is shown below ``-rollback_margin``.
        error_margin: advancing needs the error rate shown at most this much (absolute)
            above the incumbent's (None: only the rollback test applies).
        min_samples: scored canary observations before any mean-based decision.
        n_star: canary observations at which the confidence sequence is tightest.
        prior_var: variance of the one pseudo-observation that regularises score variance.
        event_ratio, event_strength: prior of the event (error, feedback, slow) e-process.
    Definitions:
        pass_score: a score at or above it is a pass (for ``min_pass_rate``).
        negative_feedback_max: feedback at or below it is negative (thumbs -1/0/1: 0;
            1-5 ratings: 2).
        min_score, min_pass_rate: absolute floors on the canary's own online scores.
        cost_alert_share: alert when cost per request is shown up by more than this share.
        latency_tolerance: a canary request is "slow" above ``incumbent p95 * (1 + this)``.
    Stage:
        last_stage: advancing from this stage is a promotion.
        stage_index: index of the stage (reported only).
        elapsed_s, min_duration_s, max_duration_s: time in the stage and its bounds.
        on_timeout: at ``max_duration_s`` with an inconclusive result, ``"hold"`` for a
            person or ``"advance"`` when a final fixed-horizon bound on the difference is
            above ``-margin``.
        grace_period_s: how long "no data" continues before it holds.
        modes: per-signal ``enforce`` (acts), ``pause`` (holds instead) or ``dry-run``
            (reported, never acts). Missing signals enforce.
    Sample ratio:
        canary_share: configured share of units sent to the canary (None: no SRM check).
        units, requests: observed ``(incumbent, canary)`` counts; requests default to the
            observation counts.
        srm_p: p-value below which the ratio is a mismatch.

    Raises:
        ConfigError: a value out of range (names the field).
    """

    alpha: float = 0.05
    alpha_split: Mapping[str, float] = field(default_factory=lambda: dict(_DEFAULT_SPLIT))
    margin: float = 0.02
    rollback_margin: float = 0.0
    error_margin: float | None = 0.01
    min_samples: int = 100
    n_star: float = 500.0
    prior_var: float = 0.25
    event_ratio: float = 2.0
    event_strength: float = 20.0
    pass_score: float = 0.5
    negative_feedback_max: int = 0
    min_score: float | None = None
    min_pass_rate: float | None = None
    cost_alert_share: float | None = 0.25
    latency_tolerance: float = 0.2
    last_stage: bool = False
    stage_index: int = 0
    elapsed_s: float = 0.0
    min_duration_s: float = 0.0
    max_duration_s: float | None = None
    on_timeout: Literal["hold", "advance"] = "hold"
    grace_period_s: float = 600.0
    modes: Mapping[str, Mode] = field(default_factory=dict)
    canary_share: float | None = None
    units: tuple[int, int] | None = None
    requests: tuple[int, int] | None = None
    srm_p: float = 0.001

    def __post_init__(self) -> None:
        errors: list[str] = []

        def need(ok: bool, name: str, what: str) -> None:
            if not ok:
                errors.append(f"{name}: {what} (got {getattr(self, name)!r})")

        def num(x: object) -> bool:
            return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)

        need(num(self.alpha) and 0 < self.alpha < 1, "alpha", "must be in (0, 1)")
        split_ok = all(k in GUARDRAILS and num(v) and v >= 0 for k, v in self.alpha_split.items())
        need(
            split_ok and 0 < sum(self.alpha_split.values()) <= 1 + 1e-9,
            "alpha_split",
            f"keys among {', '.join(GUARDRAILS)}, shares >= 0 summing to at most 1",
        )
        for name in ("margin", "rollback_margin", "prior_var", "latency_tolerance"):
            need(num(getattr(self, name)) and getattr(self, name) >= 0, name, "must be >= 0")
        need(isinstance(self.min_samples, int) and self.min_samples >= 2, "min_samples", ">= 2")
        need(num(self.n_star) and self.n_star > 0, "n_star", "must be > 0")
        need(num(self.event_ratio) and self.event_ratio > 1, "event_ratio", "must be > 1")
        need(num(self.event_strength) and self.event_strength > 0, "event_strength", "> 0")
        need(num(self.pass_score) and 0 <= self.pass_score <= 1, "pass_score", "in [0, 1]")
        em = self.error_margin
        need(em is None or (num(em) and em > 0), "error_margin", "must be > 0")
        for name in ("min_score", "min_pass_rate"):
            v = getattr(self, name)
            need(v is None or (num(v) and 0 <= v <= 1), name, "must be in [0, 1]")
        c = self.cost_alert_share
        need(c is None or (num(c) and c >= 0), "cost_alert_share", "must be >= 0")
        for name in ("elapsed_s", "min_duration_s", "grace_period_s"):
            need(num(getattr(self, name)) and getattr(self, name) >= 0, name, "must be >= 0")
        mx = self.max_duration_s
        need(mx is None or (num(mx) and mx >= self.min_duration_s), "max_duration_s",
             "must be >= min_duration_s")  # fmt: skip
        need(self.on_timeout in ("hold", "advance"), "on_timeout", "'hold' or 'advance'")
        need(
            all(
                k in SIGNALS and v in ("enforce", "pause", "dry-run") for k, v in self.modes.items()
            ),
            "modes",
            f"signals among {', '.join(SIGNALS)} with enforce, pause or dry-run",
        )
        s = self.canary_share
        need(s is None or (num(s) and 0 < s < 1), "canary_share", "must be in (0, 1)")
        for name in ("units", "requests"):
            v = getattr(self, name)
            need(
                v is None or (len(v) == 2 and all(isinstance(x, int) and x >= 0 for x in v)),
                name,
                "must be (incumbent, canary) counts >= 0",
            )
        need(num(self.srm_p) and 0 < self.srm_p < 1, "srm_p", "must be in (0, 1)")
        if errors:
            raise ConfigError("canary policy: " + "; ".join(errors))

    def mode(self, signal: str) -> Mode:
        """The mode of ``signal`` (``enforce`` unless configured)."""
        return self.modes.get(signal, "enforce")

    def alpha_for(self, guardrail: str) -> float:
        """The share of ``alpha`` a guardrail may spend on a false rollback."""
        return self.alpha * float(self.alpha_split.get(guardrail, 0.0))
