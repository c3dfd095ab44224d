"""GitHub-flavoured Markdown for a pull-request comment or ``$GITHUB_STEP_SUMMARY``.

The first line is a hidden marker, ``<!-- releasegate-report suite=NAME -->``, so a CI
job can find the comment it posted before and edit it instead of adding a new one.

Model outputs, judge reasons and even case ids are untrusted text: in table cells and
prose they are escaped so that a ``|`` cannot split a table, a backtick or ``<script>``
cannot start code or HTML, and an ``@name`` cannot notify anybody; outputs are shown in
code fences longer than any run of backticks they contain. The whole document stays
under GitHub's 65,536-character comment limit: every table is capped (failing gate rules
first), failing cases are dropped from the end (with a note saying how many) until it
fits, and if the rest is still too long it is cut between lines, never inside a table row,
with open blocks closed and a note saying so (:func:`fit_markdown`).
"""

from __future__ import annotations

import re

from releasegate.reports._common import (
    case_label,
    check_name,
    conversation_lines,
    failing_checks,
    failure_summary,
    fmt_cost,
    fmt_int,
    fmt_ms,
    fmt_num,
    fmt_pct,
    fmt_score,
    has_repeats,
    identity_parts,
    not_gated_note,
    printable,
    rule_actual,
    tool_call_lines,
    truncate,
    verdict,
    worst_failures,
)
from releasegate.results.report import CaseResult, EvalReport, RuleResult, SliceStats

__all__ = [
    "GITHUB_COMMENT_LIMIT",
    "TRUNCATION_NOTE",
    "cap_rows",
    "escape_code",
    "escape_inline",
    "fence",
    "fit_markdown",
    "hidden_rules_note",
    "render_markdown",
]

GITHUB_COMMENT_LIMIT = 65_536
"""Maximum length of a GitHub issue/PR comment body, in characters."""

# Characters that start Markdown syntax inline. Escaping them all is noisy in the source
# but invisible once rendered, and it is the only way to be sure.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_OUTPUT_CHARS = 1_500
_REASON_CHARS = 300
_MAX_SLICE_ROWS = 25
_MAX_GATE_ROWS = 40
_MAX_MARKER_NAME = 100
_MAX_SUITE_CHARS = 200

TRUNCATION_NOTE = "_Report truncated to fit the comment size limit; see the full report._"
_TABLE_SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")
_FENCE = re.compile(r"^(`{3,})")


def escape_inline(text: str, limit: int | None = None) -> str:
    """``text`` made inert for a Markdown table cell or a line of prose.

    HTML-special characters become entities, Markdown punctuation is backslash-escaped,
    line breaks become spaces, and ``@`` gets a zero-width joiner so it mentions no one.
    """
    text = printable(text)
    if limit is not None:
        text = truncate(text, limit)
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "@\u2060")


def fence(text: str, lang: str = "text") -> str:
    """``text`` in a code fence that no run of backticks inside it can close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


def _marker(report: EvalReport) -> str:
    # The suite name goes into an HTML comment, where only "--" and ">" could end it.
    name = re.sub(r"[^A-Za-z0-9_.:/@+=-]", "_", report.identity.suite)[:_MAX_MARKER_NAME]
    return f"<!-- releasegate-report suite={name.replace('--', '__')} -->"


def _header(report: EvalReport) -> list[str]:
    v = verdict(report)
    suite = escape_inline(report.identity.suite, _MAX_SUITE_CHARS)
    lines = [f"### {v.emoji} releasegate · {suite} · **{v.label}**", "", escape_inline(v.detail)]
    ident = " · ".join(
        f"{label} `{escape_code(truncate(value, _MAX_SUITE_CHARS))}`"
        for label, value in identity_parts(report.identity)
        if label != "suite"
    )
    lines += ["", ident]
    if report.gate is not None and report.gate.warnings:
        lines.append("")
        lines += [f"> ⚠️ {escape_inline(w, _REASON_CHARS)}  " for w in report.gate.warnings]
    return lines


def escape_code(text: str) -> str:
    """Text for an inline code span: backticks cannot close it, pipes cannot split a row."""
    text = " ".join(printable(text).split())
    # Look-alikes rather than escapes: a code span shows backslashes literally.
    return text.replace("`", "\u02cb").replace("|", "\u00a6")


def _headline(report: EvalReport) -> list[str]:
    s = report.summary
    mean = fmt_score(s.mean_score) + (f" ± {s.std:.3f}" if s.std is not None else "")
    cases = fmt_int(s.n_cases)
    if s.n_results != s.n_cases:
        cases += f" ({fmt_int(s.n_results)} results)"
    return [
        "| Cases | Mean score | p10 / p50 / p90 | Pass rate | Unmeasured | Errors "
        "| Latency mean / p95 | Tokens | Cost |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {cases} | {mean} "
        f"| {fmt_score(s.p10)} / {fmt_score(s.p50)} / {fmt_score(s.p90)} "
        f"| {fmt_pct(s.pass_rate)} ({s.n_passed}/{s.n_passed + s.n_failed}) "
        f"| {fmt_int(s.n_unmeasured)} | {fmt_int(s.n_errors)} "
        f"| {fmt_ms(s.latency_mean_ms)} / {fmt_ms(s.latency_p95_ms)} "
        f"| {fmt_int(s.tokens.total)} | {fmt_cost(s.cost_usd)} |",
        *(["", escape_inline(note)] if (note := not_gated_note(report)) else []),
    ]


def cap_rows(rows: list[str], limit: int, more: str) -> list[str]:
    """Table ``rows`` (without header) cut to ``limit``, plus a line saying what was left
    out; ``more`` completes "N more ..." (e.g. "rules; see the report")."""
    if len(rows) <= limit:
        return rows
    return [*rows[:limit], "", f"_{len(rows) - limit} more {more}._"]


def _gate(report: EvalReport) -> list[str]:
    if report.gate is None or not report.gate.rules:
        return []
    # Failing rules first: a cap must never hide why the gate failed.
    ordered = [r for r in report.gate.rules if not r.passed] + [
        r for r in report.gate.rules if r.passed
    ]
    rows = [
        f"| {'✅' if rule.passed else '❌'} | {escape_inline(rule.rule, 100)} "
        f"| {rule_actual(rule)} | {fmt_num(rule.threshold)} "
        f"| {escape_inline(rule.message, _REASON_CHARS)} |"
        for rule in ordered
    ]
    head = ["#### Gate", "", "| | Rule | Measured | Threshold | Note |", "|---|---|---:|---:|---|"]
    return head + cap_rows(rows, _MAX_GATE_ROWS, hidden_rules_note(ordered[_MAX_GATE_ROWS:]))


def hidden_rules_note(hidden: list[RuleResult]) -> str:
    """The end of the "N more ..." line under a capped rule table."""
    failed = sum(1 for r in hidden if not r.passed)
    return f"rules not shown ({failed} of them failed); see the report"


def _slices(title: str, key: str, slices: dict[str, SliceStats]) -> list[str]:
    if not slices:
        return []
    ordered = sorted(
        slices.items(), key=lambda kv: (kv[1].mean_score is not None, kv[1].mean_score or 0, kv[0])
    )
    lines = [
        f"#### {title}",
        "",
        f"| {key} | n | Mean | Pass rate | Unmeasured |",
        "|---|---:|---:|---:|---:|",
    ]
    rows = [
        f"| {escape_inline(name, 80)} | {fmt_int(st.n)} | {fmt_score(st.mean_score)} "
        f"| {fmt_pct(st.pass_rate)} | {fmt_int(st.n_unmeasured)} |"
        for name, st in ordered
    ]
    return lines + cap_rows(rows, _MAX_SLICE_ROWS, "not shown (lowest mean first); see the report")


def _failure(case: CaseResult, repeats: bool) -> str:
    lines = [f"**{escape_inline(case_label(case, repeats), 200)}** — score {fmt_score(case.score)}"]
    if case.error is not None:
        lines.append(f"- error: {escape_inline(case.error, _REASON_CHARS)}")
    checks = failing_checks(case)
    for check in checks:
        line = f"- `{escape_code(check_name(check))}` {fmt_score(check.value)}"
        if check.reason:
            line += f": {escape_inline(check.reason, _REASON_CHARS)}"
        lines.append(line)
    unmeasured = [c.type for c in case.checks if c.status == "unmeasured"]
    if unmeasured:
        lines.append(f"- unmeasured: {escape_inline(', '.join(unmeasured))}")
    if case.error is None and not checks:
        lines.append(f"- {escape_inline(failure_summary(case), _REASON_CHARS)}")
    if case.output is not None and (case.output or not case.tool_calls):
        lines += ["", fence(truncate(printable(case.output), _OUTPUT_CHARS))]
    turns = conversation_lines(case.messages)
    if turns:
        shown = "\n".join(turns)
        lines += ["", "conversation:", "", fence(truncate(printable(shown), _OUTPUT_CHARS))]
    calls = tool_call_lines(case.tool_calls)
    if calls:
        shown = "\n".join(calls)
        lines += ["", "tool calls:", "", fence(truncate(printable(shown), _OUTPUT_CHARS))]
    return "\n".join(lines)


def _failures_block(report: EvalReport, max_failures: int, budget: int) -> list[str]:
    """The <details> block with the worst failing cases, fitted into ``budget`` chars."""
    worst = worst_failures(report)
    if not worst or max_failures <= 0:
        return []
    repeats = has_repeats(report)
    wanted = worst[:max_failures]
    # Reserve room for the wrapper and the "N more" note before adding cases.
    overhead = 300
    parts: list[str] = []
    used = overhead
    for case in wanted:
        text = _failure(case, repeats)
        if used + len(text) + 2 > budget:
            break
        parts.append(text)
        used += len(text) + 2
    shown = len(parts)
    summary = f"Worst failing cases ({shown} of {len(worst)})"
    block = ["<details>", f"<summary>{summary}</summary>", "", "\n\n".join(parts)]
    if shown < len(worst):
        why = "" if shown == len(wanted) else " (comment size limit)"
        block += ["", f"_{len(worst) - shown} more failing cases not shown{why}; see the report._"]
    block += ["", "</details>"]
    return block


def render_markdown(
    report: EvalReport,
    *,
    max_failures: int = 10,
    max_chars: int = GITHUB_COMMENT_LIMIT,
    comparison: str | None = None,
) -> str:
    """The report as GitHub-flavoured Markdown.

    Args:
        report: the evaluation report.
        max_failures: how many of the worst failing cases to show in the details block.
        max_chars: hard limit on the result's length (GitHub rejects longer comments).
        comparison: an already rendered baseline comparison (Markdown), shown right after
            the headline numbers, before the gate rules.

    Returns:
        Markdown text starting with ``<!-- releasegate-report suite=NAME -->``.
    """
    head = [_marker(report), *_header(report), "", *_headline(report)]
    if comparison:
        head += ["", comparison.strip()]
    body: list[str] = []
    for section in (
        _gate(report),
        _slices("Per tag", "Tag", report.summary.by_tag),
        _slices("Per check", "Check", report.summary.by_check),
    ):
        if section:
            body += ["", *section]
    s = report.summary
    footer = [
        "",
        f"<sub>cost {fmt_cost(s.cost_usd)} · judge {fmt_cost(s.judge_cost_usd)} "
        f"({fmt_int(s.judge_tokens)} tokens) · {report.duration_s:.1f} s · "
        f"run `{escape_code(report.run_id)}`</sub>",
        "",
    ]
    fixed = "\n".join([*head, *body, *footer])
    budget = max_chars - len(fixed) - 2
    failures = _failures_block(report, max_failures, budget)
    lines = [*head, *body, *(["", *failures] if failures else []), *footer]
    return fit_markdown(lines, max_chars)


def _is_row(line: str) -> bool:
    return line.startswith("|")


def fit_markdown(lines: list[str], max_chars: int) -> str:
    """Join ``lines`` into at most ``max_chars`` characters, cutting only between lines.

    When the text is too long, whole lines are kept from the top; a table row is never
    cut (a table left with no row loses its header too), a line of prose may be
    shortened, any ``<details>`` block or code fence left open is closed, and
    :data:`TRUNCATION_NOTE` ends the text.
    """
    text = "\n".join(lines)
    if len(text) <= max_chars:
        return text
    lines = text.split("\n")  # an element may hold several lines (a rendered block)
    tail = ["", TRUNCATION_NOTE, ""]
    reserve = len("\n".join(tail)) + 64  # the note, plus room to close open blocks
    budget = max(0, max_chars - reserve)
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            room = budget - used - 1
            if not _is_row(line) and not _FENCE.match(line) and room > 20:
                kept.append(line[: room - 1] + "…")
            break
        kept.append(line)
        used += len(line) + 1
    # A table whose rows were all cut: drop its header (and separator) too.
    start = len(kept)
    while start > 0 and _is_row(kept[start - 1]):
        start -= 1
    if len(kept) - start < 3:
        del kept[start:]
    closers: list[str] = []
    fence: str | None = None
    for line in kept:
        m = _FENCE.match(line)
        if m and (fence is None or line.strip() == fence):
            fence = None if fence is not None else m.group(1)
    if fence is not None:
        closers.append(fence)
    opened = sum(line.count("<details>") for line in kept) - sum(
        line.count("</details>") for line in kept
    )
    closers += ["", "</details>"] * max(0, opened)
    out = "\n".join([*kept, *closers, *tail])
    if len(out) > max_chars:  # absurdly small limits: the note alone
        out = TRUNCATION_NOTE[: max(0, max_chars)]
    return out
