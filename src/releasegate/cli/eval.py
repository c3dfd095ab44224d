"""``releasegate eval``: run a suite, compare with a baseline, write reports, gate."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from releasegate import settings as _settings
from releasegate.cli._app import app
from releasegate.cli._common import err_console, handle_errors, out_console
from releasegate.cli._progress import progress_reporter
from releasegate.errors import ExitCode, UsageError

if TYPE_CHECKING:  # heavy modules are imported when the command runs, not at start-up
    from releasegate.evals.runner import EvalOptions
    from releasegate.project import Project
    from releasegate.results.report import EvalReport
    from releasegate.store.database import Database

__all__ = ["eval_command", "exit_code_for"]


def exit_code_for(status: str, gate_passed: bool) -> ExitCode:
    """0 gate passed, 1 gate failed, 3 the run did not complete or every case errored."""
    if status != "complete":
        return ExitCode.RUN_FAILED
    return ExitCode.PASS if gate_passed else ExitCode.GATE_FAILED


_OUTPUT_OPTIONS = ("--output", "--junit", "--markdown", "--html")
Outputs = tuple[str | None, str | None, str | None, str | None]


def _for_suite(path: str | None, suite: str, many: bool) -> str | None:
    if path is None:
        return None
    if "{suite}" in path:
        return path.replace("{suite}", suite)
    if many:
        raise UsageError(
            f"{path}: several suites run; put {{suite}} in output paths to keep them apart"
        )
    return path


def _check_outputs(outputs: Outputs, suites: list[str]) -> None:
    """Every report file of every suite can be written: checked before any run, so no
    money is spent on a run whose report would be lost (missing folders are created)."""
    from releasegate.reports import check_output_paths

    for name in suites:
        paths = [_for_suite(p, name, len(suites) > 1) for p in outputs]
        check_output_paths(dict(zip(_OUTPUT_OPTIONS, paths, strict=True)))


@app.command("eval")
@handle_errors
def eval_command(
    suite: Annotated[
        list[str] | None,
        typer.Option(
            "--suite",
            "-s",
            help="Suite name from the config (repeatable; default: the project's only "
            "suite, when it has one)",
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file [./releasegate.yaml]")
    ] = None,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write the JSON report here ({suite} expands)"),
    ] = None,
    junit: Annotated[str | None, typer.Option(help="Write JUnit XML here")] = None,
    markdown: Annotated[str | None, typer.Option(help="Write a Markdown report here")] = None,
    html: Annotated[str | None, typer.Option(help="Write a standalone HTML report here")] = None,
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
    baseline: Annotated[
        Path | None, typer.Option(help="Compare with this stored JSON report")
    ] = None,
    baseline_ref: Annotated[
        str | None,
        typer.Option(help="Also evaluate the prompts as of this git ref, and compare"),
    ] = None,
    changed_only: Annotated[
        bool,
        typer.Option(help="Run only suites covering prompts changed since --base"),
    ] = False,
    base: Annotated[
        str | None, typer.Option(help="Git ref for --changed-only (default: --baseline-ref)")
    ] = None,
    allow_mixed_change: Annotated[
        bool,
        typer.Option(help="Emergency override: allow text and model changed together"),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
    store: Annotated[
        bool,
        typer.Option(
            "--store",
            help="Also keep each report in the database, for the dashboard's eval reports",
        ),
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Database for --store (default: $RELEASEGATE_DATABASE_URL or SQLite)"
        ),
    ] = None,
) -> None:
    """Evaluate suites and gate on them.

    Exit codes: 0 gate passed, 1 gate failed, 2 bad usage/config/data, 3 the run failed
    (every case errored, budget reached, or interrupted).
    """
    from releasegate.evals.runner import EvalOptions
    from releasegate.project import load_project

    if baseline is not None and baseline_ref is not None:
        raise UsageError("use either --baseline or --baseline-ref, not both")
    project = load_project(config)
    suites = list(suite or [])
    if changed_only:
        from releasegate.evals.changes import changed_suites

        ref = base or baseline_ref
        if ref is None:
            raise UsageError("--changed-only needs --base REF (or --baseline-ref REF)")
        covering = changed_suites(project, ref)
        suites = [s for s in suites if s in covering] if suites else covering
        if not suites:
            out_console.print(f"no suite covers a prompt changed since {ref}; nothing to run")
            raise typer.Exit(int(ExitCode.PASS))
    if not suites and len(project.config.suites) == 1:
        suites = list(project.config.suites)  # the project's only suite
    if not suites:
        raise UsageError(
            "name a suite with --suite (known: " + ", ".join(project.config.suites) + ")"
        )
    for name in suites:
        project.suite(name)  # unknown suite -> exit 2 before any work
    _check_outputs((output, junit, markdown, html), suites)
    if db is not None and not store:
        raise UsageError("--db names where --store keeps reports; add --store")
    keep = _open_store(db) if store else None
    base_report = None
    if baseline is not None:
        from releasegate.results.report import EvalReport as Report

        base_report = Report.load(baseline)
    worst = ExitCode.PASS
    for name in suites:
        options = EvalOptions(
            repeat=repeat,
            max_cost_usd=max_cost,
            max_tokens=max_tokens,
            use_cache=not no_cache,
            concurrency=concurrency,
            handle_sigint=True,
            filter_tags=list(tag or []),
        )
        code = _run_one(
            project,
            name,
            options,
            many=len(suites) > 1,
            outputs=(output, junit, markdown, html),
            baseline=base_report,
            baseline_ref=baseline_ref,
            allow_mixed_change=allow_mixed_change,
            quiet=quiet,
            keep=keep,
        )
        worst = max(worst, code)
    if keep is not None:
        keep.close()
    raise typer.Exit(int(worst))


def _open_store(url: str | None) -> Database:
    """The database reports are kept in: opened (and created, at the current schema)
    before any run, so a wrong URL costs no model calls."""
    from releasegate.cli._control import open_db

    return open_db(url, create=True)


def _keep_report(database: Database, report: EvalReport) -> None:
    from releasegate.cli._control import store_errors
    from releasegate.ports import DuplicateKey

    with store_errors(), database.uow() as uow:
        try:
            uow.eval_reports.add(report)
        except DuplicateKey as exc:
            raise UsageError(str(exc)) from None
        uow.commit()
    err_console.print(f"report {report.run_id} stored in {database.safe_url}")


def _run_one(
    project: Project,
    name: str,
    options: EvalOptions,
    *,
    many: bool,
    outputs: Outputs,
    baseline: EvalReport | None,
    baseline_ref: str | None,
    allow_mixed_change: bool,
    quiet: bool,
    keep: Database | None = None,
) -> ExitCode:
    from releasegate.bootstrap import eval_adapters
    from releasegate.evals.gated_run import arun_gated
    from releasegate.reports import render_markdown, render_terminal, write_outputs

    with progress_reporter(err_console, f"eval {name}", enabled=not quiet) as progress:
        options.progress = progress
        run = asyncio.run(
            arun_gated(
                project,
                name,
                options,
                adapters=eval_adapters(),
                baseline=baseline,
                baseline_ref=baseline_ref,
                allow_mixed_change=allow_mixed_change,
            )
        )
    report = run.report
    if not report.cases and report.status in ("complete", "failed"):
        # Nothing was evaluated: never a pass, and not a gate verdict either.
        tags = options.filter_tags
        where = f" has the tag {' or '.join(map(repr, tags))}" if tags else " is in its datasets"
        raise UsageError(f"suite {name!r}: no case{where}; nothing to evaluate")
    cmp_md = None
    if run.comparison is not None:
        from releasegate.reports.comparison import render_comparison_markdown

        cmp_md = render_comparison_markdown(run.comparison)
    json_path, junit_path, md_path, html_path = (_for_suite(p, name, many) for p in outputs)
    write_outputs(
        report,
        json_path=json_path,
        junit_path=junit_path,
        markdown_path=md_path,
        html_path=html_path,
        comparison_markdown=cmp_md,
    )
    summary_file = _settings.current().github_step_summary
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as fh:
            fh.write(render_markdown(report, comparison=cmp_md) + "\n")
    render_terminal(report, out_console)
    if run.comparison is not None:
        from releasegate.reports.comparison import render_comparison_terminal

        render_comparison_terminal(run.comparison, out_console)
    if keep is not None:
        _keep_report(keep, report)
    return exit_code_for(report.status, report.gate is None or report.gate.passed)
