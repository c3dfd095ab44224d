"""``releasegate judge calibrate``: measure a judge's agreement with human labels."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from releasegate.cli._app import app
from releasegate.cli._common import (
    err_console,
    handle_errors,
    out_console,
    plain,
    print_table,
    styled,
)
from releasegate.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from releasegate.evals.calibrate import CalibrationReport
    from releasegate.project import Project

__all__ = ["calibrate_command", "judge_app"]

judge_app = typer.Typer(help="Tools for LLM judges.")
app.add_typer(judge_app, name="judge", no_args_is_help=True)


def _judge_name(project: Project, judge: str | None, suite: str | None) -> str:
    if judge is not None:
        if judge not in project.config.providers:
            known = ", ".join(sorted(project.config.providers)) or "none"
            raise UsageError(f"--judge {judge!r} is not a provider in the config (known: {known})")
        return judge
    if suite is not None:
        name = project.suite(suite).judge
        if name is None:
            raise UsageError(f"suite {suite!r} has no `judge:`; pass --judge")
        return name
    judges = sorted({s.judge for s in project.config.suites.values() if s.judge})
    if len(judges) != 1:
        raise UsageError(
            "pass --judge NAME or --suite NAME: the config names "
            + (f"several judges ({', '.join(judges)})" if judges else "no judge")
        )
    return judges[0]


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _print(report: CalibrationReport, warnings: list[str]) -> None:
    rows = [
        ["cases (measured / unmeasured)", f"{report.n_measured} / {report.n_unmeasured}"],
        ["Spearman rho", _fmt(report.spearman)],
        [f"Cohen's kappa (pass at {report.threshold:g})", _fmt(report.cohen_kappa)],
        ["mean absolute error", _fmt(report.mae)],
        ["pass/fail agreement", _fmt(report.accuracy)],
        ["judge tokens / cost", f"{report.judge_tokens} / ${report.judge_cost_usd:.4f}"],
    ]
    title = f"Judge calibration: {report.judge_model or report.judge_provider}"
    print_table(out_console, ("metric", "value"), rows, title=title)
    for w in warnings:
        err_console.print(styled(("warning:", "yellow"), f" {w}"))


@judge_app.command("calibrate")
@handle_errors
def calibrate_command(
    labels: Annotated[Path, typer.Option("--labels", help="JSONL: input, output, human_score")],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file")] = None,
    judge: Annotated[str | None, typer.Option(help="Judge provider name")] = None,
    suite: Annotated[str | None, typer.Option(help="Use this suite's judge")] = None,
    check: Annotated[str, typer.Option(help="Judge check to calibrate")] = "llm-judge",
    rubric: Annotated[
        str | None, typer.Option(help="Rubric for every row [each row's expected_behavior]")
    ] = None,
    threshold: Annotated[float, typer.Option(min=0.0, max=1.0, help="Pass mark")] = 0.5,
    samples: Annotated[int, typer.Option(min=1, max=15, help="Judge samples per row")] = 1,
    embedder: Annotated[str | None, typer.Option(help="Embedder provider name")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write JSON here")] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="An earlier calibration JSON to compare with")
    ] = None,
    min_kappa: Annotated[
        float | None, typer.Option(min=-1.0, max=1.0, help="Exit 1 when kappa is lower")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report")] = False,
) -> None:
    """Run the judge over human-labelled answers and report how well it agrees."""
    from releasegate.evals.calibrate import (
        CalibrationReport,
        calibration_warnings,
        load_labels,
        run_calibration,
    )
    from releasegate.project import load_project

    rows = load_labels(labels)
    project = load_project(config)
    judge_name = _judge_name(project, judge, suite)
    if embedder is not None and embedder not in project.config.providers:
        raise UsageError(f"--embedder {embedder!r} is not a provider in the config")
    options: dict[str, Any] = {"samples": samples} if samples > 1 else {}
    if rubric is not None:
        options["rubric"] = rubric

    async def go() -> CalibrationReport:
        # The composition root closes what it built on every path (an error, Ctrl-C):
        # the cache last, so that the answers the judge gave are written to it.
        from releasegate.bootstrap import open_judge

        async with open_judge(project, judge_name, embedder=embedder) as parts:
            return await run_calibration(
                rows,
                parts.judge,
                labels_file=str(labels),
                check=check,
                options=options,
                threshold=threshold,
                embedder=parts.embedder,
            )

    report = asyncio.run(go())
    warnings = calibration_warnings(report, CalibrationReport.load(baseline)) if baseline else []
    if output is not None:
        report.write(output)
    if as_json:
        out_console.print_json(json.dumps(report.model_dump(mode="json")))
    else:
        _print(report, warnings)
    if report.n_measured == 0:
        err_console.print(styled(("error:", "red"), " the judge measured no case"))
        raise typer.Exit(int(ExitCode.RUN_FAILED))
    if min_kappa is not None and (report.cohen_kappa is None or report.cohen_kappa < min_kappa):
        err_console.print(plain(f"judge agreement below --min-kappa {min_kappa:g}", "red"))
        raise typer.Exit(int(ExitCode.GATE_FAILED))
