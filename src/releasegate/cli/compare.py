"""``releasegate compare BASE.json HEAD.json``: paired comparison of two reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate import settings as _settings
from releasegate.cli._app import app
from releasegate.cli._common import handle_errors, out_console
from releasegate.config import GateConfig
from releasegate.errors import ExitCode, UsageError

__all__ = ["compare_command", "suite_gate"]


def suite_gate(config: Path | None, suite: str | None) -> tuple[str, GateConfig] | None:
    """``(name, gate)`` of the ``--suite`` given, read from the config; ``None`` without.

    Raises:
        UsageError: ``--config`` without ``--suite``.
    """
    if suite is None:
        if config is not None:
            raise UsageError("--config needs --suite to say whose gate to apply")
        return None
    from releasegate.project import load_project

    return suite, load_project(config).suite(suite).gate


@app.command("compare")
@handle_errors
def compare_command(
    base: Annotated[Path, typer.Argument(help="Baseline report (JSON from `eval -o`)")],
    head: Annotated[Path, typer.Argument(help="Head report to compare against the baseline")],
    suite: Annotated[
        str | None, typer.Option("--suite", "-s", help="Apply this suite's gate from the config")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file [./releasegate.yaml]")
    ] = None,
    max_regression: Annotated[
        float | None,
        typer.Option(min=0, max=1, help="Fail if the score drop is evidently larger than this"),
    ] = None,
    critical_tag: Annotated[
        list[str] | None,
        typer.Option("--critical-tag", help="Fail if this tag regresses significantly"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap resampling")] = 0,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="Write the comparison JSON here")
    ] = None,
    markdown: Annotated[str | None, typer.Option(help="Write the Markdown section here")] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="stdout format: terminal, json or markdown"),
    ] = "terminal",
) -> None:
    """Compare a head report with a baseline report, case by case.

    Reports the score delta with confidence intervals, McNemar on pass/fail flips,
    newly failing cases, per-tag and per-check deltas, cost and latency.

    Rules, in order: the flags, --suite, the gate recorded in the head report, else the
    default (a statistically evident drop fails); the output names the source.

    Exit codes: 0 no regression rule failed, 1 a regression rule failed, 2 bad usage or
    a report is missing, corrupt or of an unknown schema version.
    """
    if fmt not in ("terminal", "json", "markdown"):
        raise UsageError(f"--format must be terminal, json or markdown, not {fmt!r}")
    chosen_suite = suite_gate(config, suite)
    from releasegate.reports import check_output_paths

    paths = check_output_paths({"--output": output, "--markdown": markdown})  # exit 2 now
    # numpy/scipy: imported when a comparison runs, not when help is drawn
    from releasegate.evals.comparison import compare_reports
    from releasegate.evals.gate import choose_rules
    from releasegate.reports.comparison import (
        render_comparison_markdown,
        render_comparison_terminal,
    )
    from releasegate.results.report import EvalReport

    base_report, head_report = EvalReport.load(base), EvalReport.load(head)
    rules = choose_rules(
        head=head_report,
        max_regression=max_regression,
        critical_tags=list(critical_tag or []),
        suite=chosen_suite,
    )
    comparison = rules.stamp(compare_reports(base_report, head_report, gate=rules.gate, seed=seed))
    md = render_comparison_markdown(comparison)
    if "--output" in paths:
        paths["--output"].write_text(comparison.to_json() + "\n", encoding="utf-8")
    if "--markdown" in paths:
        paths["--markdown"].write_text(md, encoding="utf-8")
    summary_file = _settings.current().github_step_summary
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as fh:
            fh.write(md + "\n")
    if fmt == "json":
        typer.echo(comparison.to_json())
    elif fmt == "markdown":
        typer.echo(md, nl=False)
    else:
        render_comparison_terminal(comparison, out_console)
    raise typer.Exit(int(ExitCode.PASS if comparison.passed else ExitCode.GATE_FAILED))
