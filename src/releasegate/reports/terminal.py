"""The terminal report: a rich summary printed at the end of ``releasegate eval``.

It must read well in a CI log (no TTY, often 80 columns), so every table fits in 80
columns and nothing relies on colour alone: each status also has a word or a symbol.
Text from the run (outputs, reasons, case ids) is always wrapped in :class:`rich.text.Text`
so that square brackets in a model output are never taken as rich markup.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from releasegate.reports._common import (
    case_label,
    check_name,
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
from releasegate.results.report import CaseResult, EvalReport, SliceStats

__all__ = ["render_terminal"]

_OUTPUT_CHARS = 240
_REASON_CHARS = 200
_MAX_SLICE_ROWS = 30


def _t(text: str, style: str = "") -> Text:
    """User-supplied text, made safe for the terminal and never parsed as markup."""
    return Text(printable(text), style=style)


def _banner(report: EvalReport) -> Panel:
    v = verdict(report)
    title = Text.assemble((f" {v.label} ", v.style + " reverse"), "  ", _t(report.identity.suite))
    body = Text(v.detail)
    if report.gate is not None:
        for warning in report.gate.warnings:
            body.append("\n")
            body.append_text(_t(f"warning: {warning}", "yellow"))
    return Panel(body, title=title, title_align="left", border_style=v.style, box=box.ROUNDED)


def _headline(report: EvalReport) -> Table:
    s = report.summary
    mean = fmt_score(s.mean_score)
    if s.std is not None:
        mean += f" ± {s.std:.3f}"
    rows = [
        ("Cases", f"{fmt_int(s.n_cases)} ({fmt_int(s.n_results)} results)"),
        ("Mean score", mean),
        ("p10 / p50 / p90", f"{fmt_score(s.p10)} / {fmt_score(s.p50)} / {fmt_score(s.p90)}"),
        ("Pass rate", f"{fmt_pct(s.pass_rate)} ({s.n_passed} passed, {s.n_failed} failed)"),
        ("Unmeasured", f"{fmt_int(s.n_unmeasured)} (not applicable: {s.n_not_applicable})"),
        ("Errors", fmt_int(s.n_errors)),
        ("Latency", f"mean {fmt_ms(s.latency_mean_ms)}, p95 {fmt_ms(s.latency_p95_ms)}"),
        (
            "Tokens",
            f"{fmt_int(s.tokens.total)} ({fmt_int(s.tokens.prompt)} in, "
            f"{fmt_int(s.tokens.completion)} out)",
        ),
        ("Cost", f"{fmt_cost(s.cost_usd)} (cached results: {s.n_cached})"),
        ("Judge", f"{fmt_int(s.judge_tokens)} tokens, {fmt_cost(s.judge_cost_usd)}"),
        ("Duration", f"{report.duration_s:.1f} s"),
    ]
    table = Table(box=box.SIMPLE_HEAD, show_header=False, padding=(0, 1), pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        table.add_row(label, value)
    note = not_gated_note(report)
    if note:
        table.add_row("Not gated", note)
    if report.stop_reason and report.status == "complete":
        table.add_row("Note", _t(report.stop_reason))
    return table


def _slice_table(title: str, key_name: str, slices: dict[str, SliceStats]) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(key_name, overflow="fold", ratio=1)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("mean", justify="right", no_wrap=True)
    table.add_column("pass rate", justify="right", no_wrap=True)
    table.add_column("unmeasured", justify="right", no_wrap=True)
    # Worst slices first: a regression hides in the slice with the lowest mean.
    ordered = sorted(
        slices.items(), key=lambda kv: (kv[1].mean_score is not None, kv[1].mean_score or 0, kv[0])
    )
    for name, st in ordered[:_MAX_SLICE_ROWS]:
        table.add_row(
            _t(name),
            fmt_int(st.n),
            fmt_score(st.mean_score),
            fmt_pct(st.pass_rate),
            fmt_int(st.n_unmeasured),
        )
    if len(ordered) > _MAX_SLICE_ROWS:
        table.caption = f"{len(ordered) - _MAX_SLICE_ROWS} more not shown (see the JSON report)"
    return table


def _gate_table(report: EvalReport) -> Table | None:
    if report.gate is None or not report.gate.rules:
        return None
    table = Table(title="Gate", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("rule", overflow="fold")
    table.add_column("measured", justify="right")
    table.add_column("threshold", justify="right", no_wrap=True)
    table.add_column("note", overflow="fold", ratio=1)
    for rule in report.gate.rules:
        mark = Text("✓ pass", "green") if rule.passed else Text("✗ FAIL", "bold red")
        table.add_row(
            mark, _t(rule.rule), rule_actual(rule), fmt_num(rule.threshold), _t(rule.message)
        )
    return table


def _failure(case: CaseResult, repeats: bool) -> Group:
    head = Text("✗ ", "bold red")
    head.append_text(_t(case_label(case, repeats), "bold"))
    head.append(f"  score {fmt_score(case.score)}")
    if case.latency_ms is not None:
        head.append(f"  {fmt_ms(case.latency_ms)}", "dim")
    lines: list[Text] = []
    if case.error is not None:
        lines.append(_t(f"error: {truncate(case.error, _REASON_CHARS)}", "red"))
    for check in failing_checks(case):
        line = Text()
        line.append(f"{check_name(check)} {fmt_score(check.value)}", "yellow")
        if check.threshold is not None:
            line.append(f" (< {check.threshold:g})", "dim")
        if check.reason:
            line.append(": ")
            line.append_text(_t(truncate(check.reason, _REASON_CHARS)))
        lines.append(line)
    unmeasured = [c.type for c in case.checks if c.status == "unmeasured"]
    if unmeasured:
        lines.append(_t(f"unmeasured: {', '.join(unmeasured)}", "dim"))
    if case.error is None and not failing_checks(case):
        lines.append(_t(failure_summary(case), "yellow"))
    if case.messages:
        lines.append(
            _t(f"conversation: {len(case.messages)} turns sent (full in the reports)", "dim")
        )
    if case.output is not None:
        out = truncate(case.output.strip(), _OUTPUT_CHARS).replace("\n", " ⏎ ")
        lines.append(Text.assemble(("output: ", "dim"), _t(out, "italic")))
    for call in tool_call_lines(case.tool_calls)[:5]:
        shown = truncate(call, _OUTPUT_CHARS).replace("\n", " ⏎ ")
        lines.append(Text.assemble(("tool call: ", "dim"), _t(shown, "italic")))
    # Indent the details as a block so wrapped lines stay under their case.
    return Group(head, Padding(Group(*lines), (0, 0, 0, 4), expand=False))


def _failures(report: EvalReport, limit: int) -> list[RenderableType]:
    worst = worst_failures(report)
    if not worst:
        return []
    repeats = has_repeats(report)
    title = f"Worst failing cases ({min(limit, len(worst))} of {len(worst)})"
    parts: list[RenderableType] = [Text(title, "bold")]
    parts.extend(_failure(c, repeats) for c in worst[:limit])
    return parts


def _identity(report: EvalReport) -> Text:
    line = Text()
    for i, (label, value) in enumerate(identity_parts(report.identity)):
        if i:
            line.append(" · ", "dim")
        line.append(f"{label} ", "dim")
        line.append_text(_t(value))
    line.append(f" · run {report.run_id}", "dim")
    return line


def render_terminal(report: EvalReport, console: Console, *, max_failures: int = 10) -> None:
    """Print a human summary of ``report`` on ``console``.

    Args:
        report: the evaluation report.
        console: where to print; works without a TTY and at 80 columns.
        max_failures: how many of the worst failing cases to show.
    """
    console.print(_banner(report))
    console.print(_identity(report))
    console.print(_headline(report))
    gate = _gate_table(report)
    if gate is not None:
        console.print(gate)
    if report.summary.by_tag:
        console.print(_slice_table("Per tag", "tag", report.summary.by_tag))
    if report.summary.by_check:
        console.print(_slice_table("Per check", "check", report.summary.by_check))
    for part in _failures(report, max_failures):
        console.print(part)
