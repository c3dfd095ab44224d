"""The evaluation report: a versioned, documented JSON document.

``schema_version`` changes only when a field is removed or changes meaning; readers
refuse unknown versions. See ``docs/report-schema.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from releasegate.errors import ReportFormatError

__all__ = [
    "SCHEMA_VERSION",
    "SIMULATED_TARGETS",
    "CaseResult",
    "CheckResult",
    "EvalReport",
    "GateResult",
    "Identity",
    "RuleResult",
    "SliceStats",
    "Summary",
    "TokenTotals",
    "TurnResult",
]

SCHEMA_VERSION = 1

#: Provider types whose answers no model produced in the run, and what a report says of them.
SIMULATED_TARGETS: dict[str, str] = {
    "scripted": "scripted (canned answers; cost and latency are simulated)",
    "replay": "replayed (recorded answers, no model was called; cost and latency are as recorded)",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _scrub(text: str | None) -> str | None:
    """Replace lone surrogates (which some JSON APIs return) with U+FFFD, so that every
    report serialises; a model's output must never make the report unwritable."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    return text


class CheckResult(_Model):
    """One check on one output."""

    type: str
    status: Literal["measured", "unmeasured", "not_applicable"]
    value: float | None = None
    passed: bool | None = None
    weight: float = 1.0
    threshold: float | None = None
    reason: str = ""
    judge_tokens: int = 0
    judge_cost_usd: float = 0.0
    #: where the check was written: ``assert[i]`` (its position in the case's own list)
    #: or ``defaults.assert[i]`` (from the dataset's defaults); ``None`` in older reports
    label: str | None = None

    @field_validator("reason")
    @classmethod
    def _clean_reason(cls, v: str) -> str:
        return _scrub(v) or ""


class TurnResult(_Model):
    """One user turn of a multi-turn case: what was said, answered and graded."""

    index: int
    input: str | dict[str, Any]
    output: str | None = None
    score: float | None = None
    passed: bool = False
    error: str | None = None
    #: the turn's own checks (labelled ``turns[i].assert[j]``)
    checks: list[CheckResult] = Field(default_factory=list)
    tool_calls: list[Any] | None = None
    #: the turn's assistant and ``tool`` messages in order, tool rounds included (the
    #: final reply last); None in reports written before it was kept
    messages: list[Any] | None = None

    @field_validator("output", "error")
    @classmethod
    def _clean_text(cls, v: str | None) -> str | None:
        return _scrub(v)


class CaseResult(_Model):
    """One (case, repeat) evaluation."""

    id: str
    repeat: int = 0
    input: str | dict[str, Any]
    output: str | None = None
    score: float | None = None
    passed: bool = False
    error: str | None = None
    latency_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    cached: bool = False
    tags: list[str] = Field(default_factory=list)
    weight: float = 1.0
    checks: list[CheckResult] = Field(default_factory=list)
    #: the function calls the model made, as received: ``{"id", "type": "function",
    #: "function": {"name", "arguments": "<JSON text>"}}`` (malformed entries kept as
    #: they came); ``None`` for a text answer
    tool_calls: list[Any] | None = None
    #: the messages sent, in order (system, few-shot, history, last user turn), for a
    #: case that carries a conversation history; ``None`` for a single-turn case
    messages: list[Any] | None = None
    #: a multi-turn case's turns, in order (turns never sent after a stop are left
    #: out); ``None`` for a single-turn case
    turns: list[TurnResult] | None = None

    @field_validator("output", "error")
    @classmethod
    def _clean_text(cls, v: str | None) -> str | None:
        return _scrub(v)


class SliceStats(_Model):
    """Aggregate of one slice (a tag or a check type)."""

    n: int
    mean_score: float | None
    pass_rate: float | None
    n_unmeasured: int = 0


class TokenTotals(_Model):
    prompt: int = 0
    completion: int = 0
    total: int = 0


class Summary(_Model):
    """Headline numbers of a run."""

    n_cases: int
    n_results: int
    n_passed: int
    n_failed: int
    n_errors: int
    n_unmeasured: int
    n_not_applicable: int
    mean_score: float | None
    std: float | None
    p10: float | None
    p50: float | None
    p90: float | None
    pass_rate: float | None
    latency_mean_ms: float | None
    latency_p95_ms: float | None
    tokens: TokenTotals
    cost_usd: float
    judge_tokens: int = 0
    judge_cost_usd: float = 0.0
    by_tag: dict[str, SliceStats] = Field(default_factory=dict)
    by_check: dict[str, SliceStats] = Field(default_factory=dict)
    n_cached: int = 0
    #: results of weight 0 (or with only weight-0 checks): reported, never counted
    n_informational: int = 0
    #: results per verdict (passed, failed, error, unmeasured, not_applicable,
    #: informational); see ``releasegate.results.verdicts``
    verdicts: dict[str, int] = Field(default_factory=dict)


class Identity(_Model):
    """What was evaluated, exactly enough to reproduce or attribute a regression."""

    suite: str
    prompt_name: str | None = None
    prompt_version: str | None = None
    prompt_hash: str | None = None
    model: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    provider: str | None = None
    base_url: str | None = None
    datasets: list[str] = Field(default_factory=list)
    dataset_hash: str | None = None
    judge_model: str | None = None
    repeat: int = 1
    case_threshold: float | None = None
    tool_version: str
    #: what answered when no model did: ``"scripted (canned answers; cost and latency are
    #: simulated)"`` or ``"replayed (...)"``; ``None`` for a real model. Derived from
    #: ``provider`` when not given.
    target: str | None = None

    @model_validator(mode="after")
    def _simulated_target(self) -> Identity:
        if self.target is None and self.provider in SIMULATED_TARGETS:
            self.target = SIMULATED_TARGETS[self.provider]
        return self


class RuleResult(_Model):
    """One gate rule: its name, the measured value, the threshold and the verdict."""

    rule: str
    passed: bool
    actual: float | None = None
    threshold: float | None = None
    message: str = ""
    #: true for a rule the configuration did not set: a default that applied
    default: bool = False


class GateResult(_Model):
    """The gate's verdict, its rules, and the configuration and defaults it ran under."""

    passed: bool
    rules: list[RuleResult] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    #: the suite's gate configuration (every key, defaults filled in) the run was gated
    #: under; ``releasegate compare`` applies its regression rules when given no other.
    #: ``None`` in reports written before it was recorded.
    config: dict[str, Any] | None = None
    #: one sentence per default that applied, e.g. the rule "every case must pass its
    #: case threshold" of a suite without a gate
    defaults: list[str] = Field(default_factory=list)


class EvalReport(_Model):
    """A complete offline evaluation report."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    started_at: str
    finished_at: str
    duration_s: float
    identity: Identity
    summary: Summary
    gate: GateResult | None = None
    status: Literal["complete", "stopped", "interrupted", "failed"] = "complete"
    stop_reason: str | None = None
    #: the baseline comparison (``releasegate.comparison`` document) when one was made
    comparison: dict[str, Any] | None = None
    #: emergency overrides used for this run, e.g. a mixed text+model change
    overrides: list[str] = Field(default_factory=list)
    #: where the time went: ``setup_s`` (loading, providers), ``cases_s`` (calls and
    #: scoring); ``duration_s`` also covers closing and the summary
    timings: dict[str, float] = Field(default_factory=dict)
    cases: list[CaseResult] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when the gate passed (or no gate was set) and the run completed."""
        return self.status == "complete" and (self.gate is None or self.gate.passed)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text (the documented, versioned schema)."""
        return self.model_dump_json(indent=indent)

    def write(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, text: str, *, source: str = "<report>") -> EvalReport:
        """Parse a report, refusing corrupt files and unknown schema versions."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReportFormatError(
                f"{source}: not a JSON report (line {exc.lineno}: {exc.msg})"
            ) from exc
        if not isinstance(data, dict) or "schema_version" not in data:
            raise ReportFormatError(f"{source}: not a releasegate report (no schema_version)")
        if data["schema_version"] != SCHEMA_VERSION:
            raise ReportFormatError(
                f"{source}: unknown report schema_version {data['schema_version']!r}; "
                f"this releasegate reads version {SCHEMA_VERSION}"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ReportFormatError(f"{source}: invalid report at {loc}: {first['msg']}") from exc

    @classmethod
    def load(cls, path: str | Path) -> EvalReport:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ReportFormatError(f"{p}: cannot read report: {exc.strerror}") from exc
        return cls.from_json(text, source=str(p))
