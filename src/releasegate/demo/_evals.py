"""The offline half of the story: run a suite on the local model, write its reports, and
say in a few lines what passed, what failed and what regressed (with the real answers)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from releasegate.bootstrap import eval_adapters
from releasegate.demo._narrator import Narrator
from releasegate.evals.gated_run import GatedRun, arun_gated
from releasegate.evals.runner import EvalOptions
from releasegate.project import Project
from releasegate.reports import write_outputs
from releasegate.reports.comparison import render_comparison_markdown
from releasegate.results.report import CaseResult, EvalReport

__all__ = ["evaluate", "show_changes", "show_gate"]


def evaluate(
    narrator: Narrator,
    project: Project,
    suite: str,
    *,
    reports: Path,
    name: str,
    baseline: EvalReport | None = None,
    quick: bool = False,
) -> GatedRun:
    """Run ``suite`` (the ``quick`` cases only with ``quick``), compared with
    ``baseline`` when given; its JSON, Markdown and HTML reports go to
    ``reports/NAME.*``.

    Raises:
        RunFailed: the run did not complete (the model server failed).
    """
    from releasegate.errors import RunFailed

    options = EvalOptions(filter_tags=["quick"] if quick else [])
    with narrator.progress(f"eval {suite} on the local model") as progress:
        options.progress = progress
        run = asyncio.run(
            arun_gated(project, suite, options, adapters=eval_adapters(), baseline=baseline)
        )
    report = run.report
    if report.status != "complete":
        raise RunFailed(f"eval {suite} did not complete ({report.status}: {report.stop_reason})")
    write_outputs(
        report,
        json_path=reports / f"{name}.json",
        markdown_path=reports / f"{name}.md",
        html_path=reports / f"{name}.html",
        comparison_markdown=render_comparison_markdown(run.comparison) if run.comparison else None,
    )
    return run


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def show_gate(narrator: Narrator, run: GatedRun, label: str) -> None:
    """One line for the result, one per failed gate rule."""
    r = run.report
    s = r.summary
    passed = r.gate is None or r.gate.passed
    line = (
        f"{label}: {s.n_passed} of {s.n_results} golden reviews labelled right "
        f"(pass rate {_pct(s.pass_rate)}, mean score {s.mean_score or 0:.2f}, "
        f"mean latency {s.latency_mean_ms or 0:.0f} ms)"
    )
    narrator.ok(line) if passed else narrator.bad(line)
    for rule in r.gate.rules if r.gate else []:
        if not rule.passed:
            narrator.note(f"gate rule failed: {rule.rule}: {rule.message}")
    verdict = "passed" if passed else "FAILED"
    narrator.say(("   eval gate: ", "bold"), (verdict, "bold green" if passed else "bold red"))


def _cases(report: EvalReport) -> dict[str, CaseResult]:
    return {c.id: c for c in report.cases if c.repeat == 0}


def _short(text: str | None, n: int = 60) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


def show_changes(
    narrator: Narrator, run: GatedRun, baseline: EvalReport, *, base: str, head: str
) -> None:
    """The cases whose verdict changed versus the baseline, with both answers."""
    c = run.comparison
    if c is None:
        return
    before, after = _cases(baseline), _cases(run.report)
    flips = [(f, "now fails") for f in c.newly_failing] + [
        (f, "now passes") for f in c.newly_passing
    ]
    if not flips:
        narrator.note(f"no review changed verdict between {base} and {head}")
        return
    rows = []
    for flip, change in flips:
        old, new = before.get(flip.id), after.get(flip.id)
        review = old.input if old is not None and isinstance(old.input, str) else flip.id
        mark = "✗ " if change == "now fails" else "✓ "
        rows.append(
            [
                mark + flip.id,
                _short(review, 40),
                _short(old.output if old else None, 32),
                _short(new.output if new else None, 32),
            ]
        )
    narrator.table(
        ["case", "review", f"{base} answered", f"{head} answered"],
        rows,
        title=f"Reviews whose verdict changed from {base} to {head} (✗ now fails, ✓ now "
        "passes; real answers of the model at temperature 0)",
    )
    o, m = c.overall, c.mcnemar
    narrator.note(
        f"pass rate {c.base_pass_rate:.0%} -> {c.head_pass_rate:.0%}; mean score "
        f"{o.base_mean:.3f} -> {o.head_mean:.3f} ({o.delta:+.3f}); "
        f"{m.pass_to_fail} review(s) went from pass to fail, {m.fail_to_pass} from fail to pass"
    )
