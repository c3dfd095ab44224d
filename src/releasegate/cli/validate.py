"""``releasegate validate``: build what eval builds (config, providers, prompts, datasets,
checks) without calling a model."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import err_console, handle_errors, out_console, plain, styled
from releasegate.errors import ExitCode

__all__ = ["validate_command"]


@app.command("validate")
@handle_errors
def validate_command(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file [./releasegate.yaml]")
    ] = None,
    allow_unpinned: Annotated[
        bool, typer.Option(help="Report floating model aliases as warnings, not errors")
    ] = False,
    base: Annotated[
        str | None,
        typer.Option(help="Git ref: also refuse prompts whose text and model changed together"),
    ] = None,
    allow_mixed_change: Annotated[
        bool, typer.Option(help="Emergency override: a mixed change is only a warning")
    ] = False,
) -> None:
    """Validate config, providers, prompts, datasets and checks, built as eval builds
    them but without calling a model; every problem names its file, line or case.

    An API key variable that is not set is a warning (eval would stop on it).
    Exit codes: 0 valid (warnings allowed), 2 problems found.
    """
    from releasegate.bootstrap import eval_adapters
    from releasegate.evals.validate import validate_project

    issues = validate_project(config, adapters=eval_adapters(), allow_unpinned=allow_unpinned)
    if base is not None and not any(i.severity == "error" for i in issues):
        from releasegate.evals.changes import check_separation
        from releasegate.project import load_project

        changes = check_separation(load_project(config), base)
        if allow_mixed_change:
            changes = [dataclasses.replace(i, severity="warning") for i in changes]
        issues += changes
    errors = [i for i in issues if i.severity == "error"]
    for issue in issues:
        style = "red" if issue.severity == "error" else "yellow"
        # The severity is printed first; str() of a warning would say "warning:" again.
        shown = str(dataclasses.replace(issue, severity="error"))
        err_console.print(styled((issue.severity, style), ": ", shown))
    if errors:
        err_console.print(plain(f"{len(errors)} error(s)", "bold red"))
        raise typer.Exit(int(ExitCode.USAGE))
    out_console.print(styled(("valid", "green"), f" ({len(issues)} warning(s))"))
