"""The result of a baseline comparison (:func:`releasegate.evals.comparison.compare_reports`).

A :class:`Comparison` is a versioned JSON document of its own (``kind`` and
``schema_version``), written by ``releasegate compare --format json``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from releasegate.results.report import Identity, RuleResult

__all__ = [
    "ALPHA",
    "COMPARISON_SCHEMA_VERSION",
    "CaseFlip",
    "CaseTurns",
    "Comparison",
    "IntervalOut",
    "McNemarOut",
    "OverallDelta",
    "ResourceDelta",
    "SliceDelta",
    "TurnDelta",
]

COMPARISON_SCHEMA_VERSION = 1
ALPHA = 0.05  # family-wise error rate for slice tests; 95% intervals elsewhere


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IntervalOut(_Model):
    """A confidence interval for the mean difference."""

    method: Literal["bootstrap", "paired-t"]
    confidence: float
    low: float
    high: float


class OverallDelta(_Model):
    """The headline paired difference over all paired cases."""

    n: int
    base_mean: float
    head_mean: float
    delta: float
    bootstrap: IntervalOut
    t: IntervalOut | None
    p_value: float | None = Field(description="Paired t test of 'no difference'")
    sd_diff: float | None
    mde: float | None = Field(description="Minimum detectable effect, alpha 0.05, power 0.8")


class SliceDelta(_Model):
    """The paired difference within one tag or one check type."""

    kind: Literal["tag", "check"]
    name: str
    n: int
    base_mean: float
    head_mean: float
    delta: float
    low: float | None
    high: float | None
    p_value: float | None
    p_holm: float | None = Field(description="Holm-adjusted across slices of the same kind")

    @property
    def significant_drop(self) -> bool:
        return self.delta < 0 and self.p_holm is not None and self.p_holm < ALPHA


class McNemarOut(_Model):
    pass_to_fail: int
    fail_to_pass: int
    p_exact: float
    p_mid: float


class CaseFlip(_Model):
    """A case whose pass/fail verdict changed between base and head."""

    id: str
    base_score: float
    head_score: float
    base_pass_share: float
    head_pass_share: float
    tags: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list, description="Head's failed-check reasons")
    output: str | None = None
    messages: list[Any] | None = Field(
        default=None, description="Head's conversation as sent, for a case with history"
    )
    tool_calls: list[Any] | None = Field(default=None, description="Head's tool calls")


class TurnDelta(_Model):
    """One turn of a multi-turn case, paired by its index across the two reports.

    Scores are means over the case's repeats that reached the turn (``None``: none
    scored it, or that report has no such turn); a pass share is the share of those
    repeats whose turn passed (``None`` when that report has no such turn). A turn only
    one report has (its turn count changed) has ``in_base`` or ``in_head`` false.
    """

    index: int = Field(description="0-based turn index")
    base_score: float | None
    head_score: float | None
    base_pass_share: float | None
    head_pass_share: float | None
    delta: float | None = Field(description="head_score - base_score; null without both")
    in_base: bool = Field(default=True, description="Base has this turn")
    in_head: bool = Field(default=True, description="Head has this turn")
    head_input: str | dict[str, Any] | None = Field(
        default=None, description="Head's user message at this turn"
    )
    head_output: str | None = Field(default=None, description="Head's reply at this turn")
    head_tool_calls: list[Any] | None = Field(
        default=None, description="Head's tool calls at this turn"
    )
    base_input: str | dict[str, Any] | None = Field(
        default=None, description="Base's user message at this turn (a turn head lacks)"
    )
    head_messages: list[Any] | None = Field(
        default=None,
        description="Head's assistant and tool messages at this turn, in order (tool "
        "rounds included); null in reports that did not keep them",
    )


class CaseTurns(_Model):
    """A multi-turn case whose turns changed between base and head.

    Turns are paired by id and index; every turn either side has is listed, a turn only
    one side reached (or has) marked by ``in_base``/``in_head`` and never paired with
    another.
    """

    id: str
    base_turns: int = Field(description="Most turns a base repeat of the case reached")
    head_turns: int = Field(description="Most turns a head repeat of the case reached")
    turns: list[TurnDelta] = Field(
        default_factory=list, description="Every turn either side has, in order"
    )

    @property
    def count_changed(self) -> bool:
        return self.base_turns != self.head_turns


class ResourceDelta(_Model):
    """Cost or latency at base and head, over the paired cases."""

    base: float | None
    head: float | None
    change: float | None = Field(description="Relative change, e.g. 0.5 = +50%")


class Comparison(_Model):
    """Everything the baseline comparison found; serialises to JSON."""

    kind: Literal["releasegate.comparison"] = "releasegate.comparison"
    schema_version: int = COMPARISON_SCHEMA_VERSION
    base: Identity
    head: Identity
    base_run_id: str
    head_run_id: str
    seed: int
    n_paired: int
    n_base_only: int
    n_head_only: int
    n_unscored: int = Field(description="Paired ids without a usable score on either side")
    base_only_ids: list[str] = Field(default_factory=list)
    head_only_ids: list[str] = Field(default_factory=list)
    overall: OverallDelta
    base_pass_rate: float
    head_pass_rate: float
    mcnemar: McNemarOut
    newly_failing: list[CaseFlip] = Field(default_factory=list)
    newly_passing: list[CaseFlip] = Field(default_factory=list)
    by_tag: list[SliceDelta] = Field(default_factory=list)
    by_check: list[SliceDelta] = Field(default_factory=list)
    cost_per_case_usd: ResourceDelta
    latency_mean_ms: ResourceDelta
    latency_p95_ms: ResourceDelta
    turn_changes: list[CaseTurns] = Field(
        default_factory=list,
        description="Multi-turn cases whose turn count changed or a paired turn's score "
        "or pass share moved (turns paired by case id and turn index)",
    )
    flaky_base: list[str] = Field(default_factory=list)
    flaky_head: list[str] = Field(default_factory=list)
    rules: list[RuleResult] = Field(default_factory=list)
    rule_source: Literal["flags", "suite", "report", "default"] | None = Field(
        default=None,
        description="Where the rules came from: command-line flags, a suite of the config, "
        "the gate recorded in the head report, or the default; null without rules",
    )
    rules_from: str | None = Field(
        default=None, description="One sentence naming the rule source and any default applied"
    )
    warnings: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no regression rule failed."""
        return all(r.passed for r in self.rules)

    def to_json(self, *, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)
