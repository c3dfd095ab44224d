"""``releasegate compare BASE.json HEAD.json``: paired comparison of two reports."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import handle_errors, out_console
from releasegate.config import GateConfig
from releasegate.errors import ExitCode, UsageError

__all__ = ["compare_command", "gate_from_options"]


def gate_from_options(
    config: Path | None,
    suite: str | None,
    max_regression: float | None,
    critical_tags: list[str],
) -> GateConfig | None:
    """The gate to apply: the suite's gate from the config, overridden by flags.

    Returns ``None`` when neither a suite nor a regression flag was given (then the
    comparison is reported without a verdict).
    """
    gate: GateConfig | None = None
    if suite is not None:
        from releasegate.project import load_project

        gate = load_project(config).suite(suite).gate
    elif config is not None:
        raise UsageError("--config needs --suite to say whose gate to apply")
    if max_regression is None and not critical_tags:
        return gate
    base = gate or GateConfig()
    update: dict[str, object] = {}
    if max_regression is not None:
        update["max_regression"] = max_regression
    if critical_tags:
        update["critical_tags"] = list(dict.fromkeys([*base.critical_tags, *critical_tags]))
    return base.model_copy(update=update)


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
        Path | None, typer.Option("--output", "-o", help="Write the comparison JSON here")
    ] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write the Markdown section here")] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="stdout format: terminal, json or markdown"),
    ] = "terminal",
) -> None:
    """Compare a head report with a baseline report, case by case.

    Reports the score delta with confidence intervals, McNemar on pass/fail flips,
    newly failing cases, per-tag and per-check deltas, cost and latency.

    Exit codes: 0 no regression rule failed (or none configured), 1 a regression rule
    failed, 2 a report is missing, corrupt or of an unknown schema version.
    """
    if fmt not in ("terminal", "json", "markdown"):
        raise UsageError(f"--format must be terminal, json or markdown, not {fmt!r}")
    gate = gate_from_options(config, suite, max_regression, list(critical_tag or []))
    # numpy/scipy: imported when a comparison runs, not when help is drawn
    from releasegate.evals.compare import compare_reports
    from releasegate.evals.compare_render import (
        render_comparison_markdown,
        render_comparison_terminal,
    )
    from releasegate.evals.report import EvalReport

    comparison = compare_reports(EvalReport.load(base), EvalReport.load(head), gate=gate, seed=seed)
    md = render_comparison_markdown(comparison)
    if output is not None:
        output.write_text(comparison.to_json() + "\n", encoding="utf-8")
    if markdown is not None:
        markdown.write_text(md, encoding="utf-8")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
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
