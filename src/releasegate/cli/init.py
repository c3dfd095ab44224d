"""``releasegate init [DIR]``: scaffold a project with CI workflows."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import handle_errors, out_console
from releasegate.scaffold import scaffold_project

__all__ = ["init_command"]


@app.command("init")
@handle_errors
def init_command(
    directory: Annotated[Path, typer.Argument(help="Project directory.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files")] = False,
) -> None:
    """Scaffold a config, an example prompt and datasets, and GitHub Actions workflows.

    Writes releasegate.yaml, prompts/, datasets/, .github/workflows/releasegate.yml
    (PR gate with the target branch as baseline and a PR comment) and
    .github/workflows/releasegate-nightly.yml (scheduled comprehensive suite).
    """
    written = scaffold_project(directory, force=force)
    for path in written:
        out_console.print(f"created {path}", markup=False)
    out_console.print(
        "next: set OPENAI_API_KEY (a repository secret in CI), then run "
        "`releasegate validate` and `releasegate eval --suite pr`",
        markup=False,
    )
