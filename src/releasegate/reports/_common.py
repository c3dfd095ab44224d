"""Helpers shared by the report renderers: verdicts, case outcomes, number formats.

Every renderer shows the same facts, so the decisions about *what* a report says (which
cases count as failing, how they are ordered, how a number is written) live here and the
renderers only decide *how* it looks.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from releasegate.results.report import CaseResult, CheckResult, EvalReport, Identity, RuleResult
from releasegate.results.verdicts import CaseVerdict, case_verdict, counts

__all__ = [
    "OUTCOME_LABELS",
    "Outcome",
    "Verdict",
    "case_label",
    "case_outcome",
    "check_name",
    "failing_checks",
    "failure_summary",
    "fmt_cost",
    "fmt_int",
    "fmt_ms",
    "fmt_num",
    "fmt_pct",
    "fmt_score",
    "has_repeats",
    "identity_parts",
    "informational_checks",
    "input_text",
    "not_gated_note",
    "outcome_counts",
    "printable",
    "rule_actual",
    "short_hash",
    "tool_call_lines",
    "truncate",
    "verdict",
    "worst_failures",
]

Outcome = CaseVerdict
"""A result's verdict, as :func:`releasegate.results.verdicts.case_verdict` decides it."""

OUTCOME_LABELS: dict[Outcome, str] = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "unmeasured": "unmeasured",
    "not_applicable": "not applicable",
    "informational": "informational",
}

# C0 controls except tab and newline, DEL, C1 controls, lone surrogates and the two
# non-characters: XML 1.0 forbids most of them, terminals execute some (ESC sequences
# can clear a screen or rewrite a CI log line), and none of them is readable anyway.
# Bidirectional overrides are escaped as well: they make text display in an order other
# than the one it is read in ("Trojan Source"), which is how a reviewer gets misled.
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with control characters replaced by visible ``\\xNN`` escapes.

    Carriage returns are escaped too: a bare ``\\r`` would let an output overwrite the
    line before it in a terminal or CI log.
    """
    return _UNPRINTABLE.sub(_escape_char, text)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    note = f"… [{len(text) - limit:,} more characters]"
    return text[: max(0, limit)] + note


def tool_call_lines(tool_calls: list[Any] | None) -> list[str]:
    """One line per tool call of a result: ``name(arguments)`` with the arguments as
    the model sent them, or ``tool_calls[i]: <the entry as JSON>`` for an entry that
    has no function name. Not escaped: each renderer escapes for its format."""
    lines: list[str] = []
    for i, entry in enumerate(tool_calls or ()):
        function = entry.get("function") if isinstance(entry, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str) and name:
            args = function.get("arguments") if isinstance(function, dict) else None
            shown = args if isinstance(args, str) else _compact(args)
            lines.append(f"{name}({shown})")
        else:
            lines.append(f"tool_calls[{i}]: {_compact(entry)}")
    return lines


def conversation_lines(messages: list[Any] | None) -> list[str]:
    """One line per message of a result's conversation: ``[role] text``; an assistant
    turn's tool calls as ``[assistant] -> name(arguments)``, a tool result as
    ``[tool id] text``. Not escaped: each renderer escapes for its format."""
    lines: list[str] = []
    for entry in messages or ():
        if not isinstance(entry, dict):
            lines.append(f"[?] {_compact(entry)}")
            continue
        role = str(entry.get("role", "?"))
        if role == "tool" and entry.get("tool_call_id"):
            role = f"tool {entry['tool_call_id']}"
        content = entry.get("content")
        if isinstance(content, str):
            lines.append(f"[{role}] {content}")
        elif content is not None:
            lines.append(f"[{role}] {_compact(content)}")
        for call in tool_call_lines(entry.get("tool_calls")):
            lines.append(f"[{role}] -> {call}")
    return lines


def _compact(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    except ValueError:  # a circular structure cannot come from JSON; be safe anyway
        return repr(value)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The one-word result of a run and how each renderer decorates it."""

    label: str  # PASS, FAIL, STOPPED, INTERRUPTED, RUN FAILED
    emoji: str
    style: str  # a rich style name
    detail: str  # one sentence explaining the label


def verdict(report: EvalReport) -> Verdict:
    """The run's verdict: the run status first, then the gate."""
    if report.status == "stopped":
        why = report.stop_reason or "no reason recorded"
        return Verdict("STOPPED", "⏹️", "bold yellow", f"The run stopped early: {why}.")
    if report.status == "interrupted":
        why = report.stop_reason or "interrupted by the user"
        return Verdict("INTERRUPTED", "⚠️", "bold yellow", f"The run was interrupted: {why}.")
    if report.status == "failed":
        why = report.stop_reason or "no usable result"
        return Verdict("RUN FAILED", "💥", "bold red", f"The run itself failed: {why}.")
    if report.gate is None:
        return Verdict("PASS", "✅", "bold green", "The run completed; no gate was configured.")
    if report.gate.passed:
        n = len(report.gate.rules)
        return Verdict("PASS", "✅", "bold green", f"All {n} gate rules passed.")
    n_failed = sum(not r.passed for r in report.gate.rules)
    return Verdict(
        "FAIL", "❌", "bold red", f"{n_failed} of {len(report.gate.rules)} gate rules failed."
    )


def case_outcome(case: CaseResult) -> Outcome:
    """The verdict of one result (:func:`releasegate.results.verdicts.case_verdict`).

    ``failed`` and ``error`` are failures; ``unmeasured``, ``not_applicable`` and
    ``informational`` say nothing either way (a JUnit ``<skipped>``); only ``passed``
    passes.
    """
    return case_verdict(case)


def outcome_counts(report: EvalReport) -> dict[Outcome, int]:
    """How many results have each verdict (every verdict is a key)."""
    return counts(report.cases)


def check_name(check: CheckResult) -> str:
    """A check as reports name it: its type and where it was written.

    ``"contains (assert[0])"`` for the case's first own check,
    ``"contains (defaults.assert[0])"`` for one from the dataset's defaults; just the
    type in reports that predate the label.
    """
    return f"{check.type} ({check.label})" if check.label else check.type


def failing_checks(case: CaseResult) -> list[CheckResult]:
    """The measured weighted checks of ``case`` that failed, lowest value first.

    Informational checks (weight 0) never make a case fail, so they are not listed here;
    see :func:`informational_checks`.
    """
    failed = [
        c for c in case.checks if c.status == "measured" and c.passed is False and c.weight > 0
    ]
    return sorted(failed, key=lambda c: (c.value if c.value is not None else 0.0, c.type))


def informational_checks(case: CaseResult) -> list[CheckResult]:
    """The checks of ``case`` with weight 0: reported with their value, never gating."""
    return [c for c in case.checks if c.weight <= 0]


def failure_summary(case: CaseResult) -> str:
    """One line saying why a result failed, or why it has no pass/fail verdict."""
    verdict_ = case_verdict(case)
    if verdict_ == "informational":
        why = "weight 0" if case.weight <= 0 else "every check has weight 0"
        text = f"informational ({why}), never gates: score {fmt_score(case.score)}"
        if case.error is not None:
            text += f"; error: {case.error}"
        failed = [c for c in case.checks if c.passed is False]
        if failed:
            text += "; failed: " + ", ".join(
                f"{check_name(c)} {fmt_score(c.value)}" for c in failed
            )
        return text
    if case.error is not None:
        return f"error: {case.error}"
    checks = failing_checks(case)
    if checks:
        return "; ".join(
            f"{check_name(c)} {fmt_score(c.value)}" + (f": {c.reason}" if c.reason else "")
            for c in checks
        )
    unmeasured = [c.type for c in case.checks if c.status == "unmeasured" and c.weight > 0]
    if verdict_ in ("unmeasured", "not_applicable"):
        if not case.checks:
            return "not applicable: the case has no check"
        return f"{OUTCOME_LABELS[verdict_]}: " + "; ".join(
            f"{check_name(c)} {c.status.replace('_', ' ')}" + (f" ({c.reason})" if c.reason else "")
            for c in case.checks
            if c.weight > 0
        )
    if unmeasured:
        return f"score {fmt_score(case.score)}; unmeasured: {', '.join(unmeasured)}"
    return f"score {fmt_score(case.score)} below the case threshold"


def worst_failures(report: EvalReport) -> list[CaseResult]:
    """Failed and errored results, worst first (informational ones never appear).

    Scored failures come first by ascending score (the clearest regressions), then cases
    that errored; ties break on id and repeat so the order is stable between runs.
    """
    bad = [c for c in report.cases if case_verdict(c) in ("failed", "error")]
    return sorted(
        bad,
        key=lambda c: (
            c.error is not None,
            c.score if c.score is not None else -1.0,
            c.id,
            c.repeat,
        ),
    )


def not_gated_note(report: EvalReport) -> str:
    """One sentence counting the results that have no pass/fail verdict ("" if none)."""
    c = outcome_counts(report)
    parts = [
        f"{c[k]} {OUTCOME_LABELS[k]}"
        for k in ("unmeasured", "not_applicable", "informational")
        if c[k]
    ]
    if not parts:
        return ""
    return (
        "Not counted in the pass rate: "
        + ", ".join(parts)
        + (" (informational = weight 0: reported, never gates)" if c["informational"] else "")
        + "."
    )


def rule_actual(rule: RuleResult) -> str:
    """A gate rule's measured value, saying what kind of number it is when it is not a
    plain estimate: the regression rule looks at an interval's upper *bound*, which must
    not read like a second estimate of the delta."""
    value = fmt_num(rule.actual)
    if rule.actual is None:
        return value
    if rule.rule.startswith("max_regression"):
        return f"CI upper bound {rule.actual:+.3f}"
    if rule.rule.startswith("critical_tag"):
        return f"tag delta {rule.actual:+.3f}"
    return value


def has_repeats(report: EvalReport) -> bool:
    """Whether cases ran more than once, so labels must name the repeat."""
    return report.identity.repeat > 1 or any(c.repeat > 0 for c in report.cases)


def case_label(case: CaseResult, repeats: bool) -> str:
    """The case id, plus ``[repeat N]`` (the report's 0-based index) when repeats ran."""
    return f"{case.id} [repeat {case.repeat}]" if repeats else case.id


def input_text(case: CaseResult) -> str:
    """The case input as text (template variables are shown as ``key=value`` lines)."""
    if isinstance(case.input, str):
        return case.input
    return "\n".join(f"{k}={v}" for k, v in case.input.items())


def short_hash(value: str | None, n: int = 8) -> str | None:
    """The first ``n`` characters of a hash, after any ``algo:`` prefix."""
    if not value:
        return None
    return value.split(":", 1)[-1][:n]


def identity_parts(identity: Identity) -> list[tuple[str, str]]:
    """(label, value) pairs describing what was evaluated, in display order."""
    parts: list[tuple[str, str]] = [("suite", identity.suite)]
    if identity.target:
        # A scripted or replayed run says so before anything that reads like a real call.
        parts.append(("target", identity.target))
    if identity.prompt_name:
        prompt = identity.prompt_name
        if identity.prompt_version:
            prompt += f"@{identity.prompt_version}"
        if identity.prompt_hash:
            prompt += f" ({short_hash(identity.prompt_hash)})"
        parts.append(("prompt", prompt))
    if identity.model:
        parts.append(("model", identity.model))
    if identity.provider:
        parts.append(("provider", identity.provider))
    if identity.params:
        parts.append(("params", ", ".join(f"{k}={v}" for k, v in sorted(identity.params.items()))))
    if identity.dataset_hash:
        parts.append(("dataset", short_hash(identity.dataset_hash) or ""))
    if identity.judge_model:
        parts.append(("judge", identity.judge_model))
    if identity.repeat > 1:
        parts.append(("repeat", str(identity.repeat)))
    parts.append(("releasegate", identity.tool_version))
    return parts


def fmt_score(value: float | None) -> str:
    """A score in [0, 1] with three decimals, or an em dash when there is none."""
    return "—" if value is None else f"{value:.3f}"


def fmt_pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal."""
    return "—" if value is None else f"{value * 100:.1f}%"


def fmt_ms(value: float | None) -> str:
    """A latency in milliseconds, switching to seconds above ten seconds."""
    if value is None:
        return "—"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms"


def fmt_cost(value: float | None) -> str:
    """Dollars; small amounts keep enough digits to be told apart."""
    if value is None:
        return "—"
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return f"${value:.5f}"
    return f"${value:,.2f}" if abs(value) >= 100 else f"${value:.4f}"


def fmt_int(value: int | None) -> str:
    """An integer with thousands separators."""
    return "—" if value is None else f"{value:,}"


def fmt_num(value: float | None) -> str:
    """A number of unknown unit (a gate rule's actual or threshold)."""
    if value is None:
        return "—"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.4g}"
