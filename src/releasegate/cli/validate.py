"""``releasegate validate``: check config, prompts and datasets without calling a model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._common import err_console, handle_errors, out_console
from releasegate.cli.app import app
from releasegate.errors import ExitCode
from releasegate.evals.validate import validate_project

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
) -> None:
    """Validate config, prompts and datasets; every problem names its file, line or case.

    Exit codes: 0 valid (warnings allowed), 2 problems found.
    """
    issues = validate_project(config, allow_unpinned=allow_unpinned)
    errors = [i for i in issues if i.severity == "error"]
    for issue in issues:
        style = "red" if issue.severity == "error" else "yellow"
        err_console.print(f"[{style}]{issue.severity}[/]: ", end="")
        err_console.print(str(issue), markup=False)
    if errors:
        err_console.print(f"[bold red]{len(errors)} error(s)[/]")
        raise typer.Exit(int(ExitCode.USAGE))
    out_console.print(f"[green]valid[/] ({len(issues)} warning(s))")
