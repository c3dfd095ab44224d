"""``releasegate eval``: run a suite, write reports, apply the gate, exit with its code."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._common import err_console, handle_errors, out_console
from releasegate.cli._progress import progress_reporter
from releasegate.cli.app import app
from releasegate.errors import ExitCode, UsageError
from releasegate.evals.report import EvalReport
from releasegate.evals.runner import EvalOptions, arun_eval
from releasegate.project import load_project
from releasegate.reports import render_markdown, render_terminal, write_outputs

__all__ = ["eval_command", "exit_code_for"]


def exit_code_for(report: EvalReport) -> ExitCode:
    """0 gate passed, 1 gate failed, 3 the run did not complete or every case errored."""
    if report.status != "complete":
        return ExitCode.RUN_FAILED
    if report.gate is not None and not report.gate.passed:
        return ExitCode.GATE_FAILED
    return ExitCode.PASS


@app.command("eval")
@handle_errors
def eval_command(
    suite: Annotated[str, typer.Option("--suite", "-s", help="Suite name from the config")],
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file [./releasegate.yaml]")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON report here")
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Write JUnit XML here")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a Markdown report here")] = None,
    html: Annotated[Path | None, typer.Option(help="Write a standalone HTML report here")] = None,
    repeat: Annotated[
        int | None, typer.Option(min=1, max=100, help="Run each case K times")
    ] = None,
    max_cost: Annotated[
        float | None, typer.Option(min=0, help="Stop cleanly once this many USD are spent")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option(min=1, help="Stop cleanly once this many tokens are spent")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Bypass the response cache")] = False,
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=1024, help="Override provider concurrency")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Only cases with this tag")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, short summary")] = False,
) -> None:
    """Evaluate a suite and gate on it.

    Exit codes: 0 gate passed, 1 gate failed, 2 bad usage/config/data, 3 the run failed
    (every case errored, budget reached, or interrupted).
    """
    project = load_project(config)
    project.suite(suite)  # unknown suite -> exit 2 before any work
    with progress_reporter(err_console, f"eval {suite}", enabled=not quiet) as progress:
        options = EvalOptions(
            repeat=repeat,
            max_cost_usd=max_cost,
            max_tokens=max_tokens,
            use_cache=not no_cache,
            concurrency=concurrency,
            progress=progress,
            handle_sigint=True,
            filter_tags=list(tag or []),
        )
        report = asyncio.run(arun_eval(project, suite, options))
    if not report.cases and report.status == "complete":
        raise UsageError(f"suite {suite!r}: no case matched")
    write_outputs(
        report, json_path=output, junit_path=junit, markdown_path=markdown, html_path=html
    )
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as fh:
            fh.write(render_markdown(report) + "\n")
    render_terminal(report, out_console)
    raise typer.Exit(int(exit_code_for(report)))
