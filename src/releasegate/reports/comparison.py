"""Render a :class:`~releasegate.results.comparison.Comparison` as Markdown or in a terminal.

The Markdown is a section meant to sit under the run's own report in a pull-request
comment (or stand alone for ``releasegate compare``). Case ids, outputs and judge
reasons are untrusted text and go through the same escaping as the main report.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from releasegate.reports._common import (
    fmt_cost,
    fmt_ms,
    fmt_num,
    fmt_pct,
    fmt_score,
    rule_actual,
)
from releasegate.reports._comparison_turns import flip_conversations, turn_sections
from releasegate.reports.markdown import (
    cap_rows,
    escape_code,
    escape_inline,
    hidden_rules_note,
)
from releasegate.results.comparison import ALPHA, Comparison, ResourceDelta, SliceDelta
from releasegate.results.report import Identity, RuleResult

__all__ = ["render_comparison_markdown", "render_comparison_terminal"]

_TOP_CASES = 10
_REASON_CHARS = 200
_MAX_SLICE_ROWS = 25
_MAX_RULE_ROWS = 40
_WEIGHTED = "means weighted by the head report's case weights"


def _delta(value: float | None) -> str:
    return "—" if value is None else f"{value:+.3f}"


def _ci(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "—"
    return f"[{low:+.3f}, {high:+.3f}]"


def _change(res: ResourceDelta, fmt: str) -> str:
    base = fmt_cost(res.base) if fmt == "cost" else fmt_ms(res.base)
    head = fmt_cost(res.head) if fmt == "cost" else fmt_ms(res.head)
    rel = "" if res.change is None else f" ({res.change:+.0%})"
    return f"{base} → {head}{rel}"


def _who(identity: Identity) -> str:
    if identity.prompt_name:
        h = f" {identity.prompt_hash[:8]}" if identity.prompt_hash else ""
        return f"{identity.prompt_name}@{identity.prompt_version or '?'}{h}"
    return identity.model or identity.suite


def _headline(c: Comparison) -> str:
    ov = c.overall
    iv = ov.bootstrap
    return (
        f"score {fmt_score(ov.base_mean)} → {fmt_score(ov.head_mean)}, "
        f"delta {ov.delta:+.3f} ({iv.confidence:.0%} CI {_ci(iv.low, iv.high)})"
    )


def _verdict_mark(c: Comparison) -> tuple[str, str]:
    if not c.rules:
        return "ℹ️", "compared"  # noqa: RUF001 - the information emoji, on purpose
    return ("✅", "no regression") if c.passed else ("❌", "regression")


def _slice_rows(slices: list[SliceDelta]) -> list[str]:
    head = ["| | n | base | head | delta | 95% CI | Holm p |", "|---|--:|--:|--:|--:|---|--:|"]
    rows = []
    for s in sorted(slices, key=lambda s: (s.delta, s.name)):
        flag = " ⚠️" if s.significant_drop else ""
        p = "—" if s.p_holm is None else f"{s.p_holm:.3g}"
        rows.append(
            f"| {escape_inline(s.name, 60)}{flag} | {s.n} | {fmt_score(s.base_mean)} | "
            f"{fmt_score(s.head_mean)} | {_delta(s.delta)} | {_ci(s.low, s.high)} | {p} |"
        )
    return head + cap_rows(rows, _MAX_SLICE_ROWS, "not shown (largest drops first)")


def _rule_rows(rules: list[RuleResult]) -> list[str]:
    head = ["| rule | result | measured | threshold | detail |", "|---|---|--:|--:|---|"]
    ordered = [r for r in rules if not r.passed] + [r for r in rules if r.passed]
    rows = [
        f"| `{escape_code(r.rule)}` | {'✅ pass' if r.passed else '❌ fail'} | "
        f"{rule_actual(r)} | {fmt_num(r.threshold)} | "
        f"{escape_inline(r.message, _REASON_CHARS)} |"
        for r in ordered
    ]
    return head + cap_rows(rows, _MAX_RULE_ROWS, hidden_rules_note(ordered[_MAX_RULE_ROWS:]))


def render_comparison_markdown(comparison: Comparison, *, heading_level: int = 4) -> str:
    """The comparison as GitHub-flavoured Markdown.

    Args:
        comparison: the result of :func:`~releasegate.evals.comparison.compare_reports`.
        heading_level: level of the section heading (4 fits under the run report's
            level-3 heading).
    """
    c = comparison
    ov = c.overall
    h = "#" * heading_level
    emoji, label = _verdict_mark(c)
    lines = [
        f"{h} {emoji} Versus baseline: **{label}**",
        "",
        f"Base `{escape_code(_who(c.base))}` → head `{escape_code(_who(c.head))}`, "
        f"{c.n_paired} case(s) paired.",
        "",
        f"**{_headline(c)}**",
        "",
        "| | base | head | change |",
        "|---|--:|--:|--:|",
        f"| mean score | {fmt_score(ov.base_mean)} | {fmt_score(ov.head_mean)} | {ov.delta:+.3f} |",
        f"| pass rate | {fmt_pct(c.base_pass_rate)} | {fmt_pct(c.head_pass_rate)} | "
        f"{(c.head_pass_rate - c.base_pass_rate) * 100:+.1f} pts |",
        f"| cost / case | {fmt_cost(c.cost_per_case_usd.base)} | "
        f"{fmt_cost(c.cost_per_case_usd.head)} | {_rel(c.cost_per_case_usd)} |",
        f"| mean latency | {fmt_ms(c.latency_mean_ms.base)} | {fmt_ms(c.latency_mean_ms.head)} "
        f"| {_rel(c.latency_mean_ms)} |",
        f"| p95 latency | {fmt_ms(c.latency_p95_ms.base)} | {fmt_ms(c.latency_p95_ms.head)} "
        f"| {_rel(c.latency_p95_ms)} |",
        "",
    ]
    stats = []
    if ov.t is not None:
        stats.append(f"paired t CI {_ci(ov.t.low, ov.t.high)}")
    if ov.mde is not None:
        stats.append(f"smallest drop this dataset detects (power 80%): {ov.mde:.3f}")
    stats.append(
        f"McNemar: {c.mcnemar.pass_to_fail} pass→fail, {c.mcnemar.fail_to_pass} "
        f"fail→pass (mid-p {c.mcnemar.p_mid:.3g})"
    )
    lines += ["<sub>" + " · ".join(stats) + "</sub>", ""]
    if c.rules:
        lines += [*_rule_rows(c.rules), ""]
    lines += [f"<sub>{escape_inline(c.rules_from, 400)}</sub>", ""] if c.rules_from else []
    lines += [f"> ⚠️ {escape_inline(w, _REASON_CHARS)}  " for w in c.warnings]
    if c.warnings:
        lines.append("")
    if c.by_tag:
        lines += [
            f"**Per tag** ({_WEIGHTED}; sorted by delta; ⚠️ = significant drop after Holm "
            "correction)",
            "",
        ]
        lines += [*_slice_rows(c.by_tag), ""]
    if c.by_check:
        lines += [f"<details><summary>Per check ({_WEIGHTED})</summary>", ""]
        lines += [*_slice_rows(c.by_check), "", "</details>", ""]
    if c.newly_failing:
        shown = c.newly_failing[:_TOP_CASES]
        more = c.mcnemar.pass_to_fail - len(shown)
        lines += [
            f"**Newly failing ({c.mcnemar.pass_to_fail})**",
            "",
            "| case | base → head | why |",
            "|---|---|---|",
        ]
        for f in shown:
            why = "; ".join(f.reasons) or "score below the case threshold"
            lines.append(
                f"| `{escape_code(f.id)}` | {fmt_score(f.base_score)} → "
                f"{fmt_score(f.head_score)} | {escape_inline(why, _REASON_CHARS)} |"
            )
        if more > 0:
            lines.append(f"| … | {more} more | |")
        lines.append("")
        lines += flip_conversations(shown)
    if c.newly_passing:
        ids = ", ".join(f"`{escape_code(f.id)}`" for f in c.newly_passing[:_TOP_CASES])
        extra = c.mcnemar.fail_to_pass - min(len(c.newly_passing), _TOP_CASES)
        lines += [
            f"**Newly passing ({c.mcnemar.fail_to_pass}):** {ids}"
            + (f" and {extra} more" if extra > 0 else ""),
            "",
        ]
    lines += turn_sections(c.turn_changes)
    if c.flaky_head:
        ids = ", ".join(f"`{escape_code(i)}`" for i in c.flaky_head[:_TOP_CASES])
        lines += [f"**Flaky in head ({len(c.flaky_head)}):** {ids}", ""]
    lines += [f"<sub>{escape_inline(n)}</sub>  " for n in c.notes]
    return "\n".join(lines).rstrip() + "\n"


def _rel(res: ResourceDelta) -> str:
    return "—" if res.change is None else f"{res.change:+.0%}"


def render_comparison_terminal(comparison: Comparison, console: Console | None = None) -> None:
    """Print the comparison with rich tables (to ``console``, default stdout)."""
    console = console or Console()
    console.print(_terminal(comparison))


def _terminal(c: Comparison) -> RenderableType:
    emoji, label = _verdict_mark(c)
    style = "green" if c.rules and c.passed else ("red" if c.rules else "cyan")
    parts: list[RenderableType] = [
        Text(f"{emoji} versus baseline: {label} — {_headline(c)}", style=f"bold {style}"),
        Text(f"{_who(c.base)} → {_who(c.head)}; {c.n_paired} case(s) paired", style="dim"),
    ]
    table = Table(box=box.SIMPLE)
    for col in ("", "base", "head", "change"):
        table.add_column(col, justify="left" if not col else "right")
    ov = c.overall
    table.add_row("mean score", fmt_score(ov.base_mean), fmt_score(ov.head_mean), _delta(ov.delta))
    table.add_row("pass rate", fmt_pct(c.base_pass_rate), fmt_pct(c.head_pass_rate), "")
    table.add_row("cost / case", *_change(c.cost_per_case_usd, "cost").split(" → ", 1), "")
    table.add_row("mean latency", *_change(c.latency_mean_ms, "ms").split(" → ", 1), "")
    parts.append(table)
    if ov.mde is not None:
        parts.append(Text(f"minimum detectable effect (alpha {ALPHA}, power 0.8): {ov.mde:.3f}"))
    for rule in c.rules:
        # A rule name can hold a user's tag (critical_tag:[x]): never parse it as markup.
        mark = ("PASS", "green") if rule.passed else ("FAIL", "red")
        parts.append(
            Text.assemble(
                mark,
                f" {rule.rule} ({rule_actual(rule)}, threshold {fmt_num(rule.threshold)}): ",
                rule.message,
            )
        )
    parts.extend([Text(c.rules_from, style="dim")] if c.rules_from else [])
    parts.extend(Text(f"warning: {w}", style="yellow") for w in c.warnings)
    if c.by_tag:
        tags = Table(title=f"per tag ({_WEIGHTED})", box=box.SIMPLE)
        for col in ("tag", "n", "base", "head", "delta", "95% CI", "Holm p"):
            tags.add_column(col)
        for s in sorted(c.by_tag, key=lambda s: (s.delta, s.name))[:_MAX_SLICE_ROWS]:
            tags.add_row(
                Text(s.name, style="red" if s.significant_drop else ""),
                str(s.n),
                fmt_score(s.base_mean),
                fmt_score(s.head_mean),
                _delta(s.delta),
                _ci(s.low, s.high),
                "—" if s.p_holm is None else f"{s.p_holm:.3g}",
            )
        parts.append(tags)
    for f in c.newly_failing[:_TOP_CASES]:
        why = "; ".join(f.reasons) or "score below the case threshold"
        parts.append(
            Text(f"newly failing {f.id}: {f.base_score:.3f} → {f.head_score:.3f}  ", style="red")
            + Text(why[:_REASON_CHARS])
        )
    for t in c.turn_changes[:_TOP_CASES]:
        moved = ", ".join(
            f"turn {d.index} {fmt_score(d.base_score)} → {fmt_score(d.head_score)}"
            + (" (not in baseline)" if not d.in_base else "")
            + (" (not in this run)" if not d.in_head else "")
            for d in t.turns
        )
        parts.append(
            Text(f"multi-turn {t.id}: {t.base_turns} → {t.head_turns} turns", style="yellow")
            + Text(f"  {moved}" if moved else "")
        )
    parts.extend(Text(n, style="dim") for n in c.notes)
    return Group(*parts)
