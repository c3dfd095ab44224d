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
    local: Annotated[
        bool,
        typer.Option(
            "--local",
            help="A project on the bundled local model (SmolLM2-135M; needs the local extra)",
        ),
    ] = False,
) -> None:
    """Scaffold a config, an example prompt and datasets, and GitHub Actions workflows.

    Writes releasegate.yaml, prompts/, datasets/, .github/workflows/releasegate.yml
    (PR gate with the target branch as baseline and a PR comment) and
    .github/workflows/releasegate-nightly.yml (scheduled comprehensive suite).

    With --local: releasegate.yaml, prompts/ and datasets/ for the bundled local model,
    no API key and no network (no CI workflows).
    """
    written = scaffold_project(directory, force=force, local=local)
    for path in written:
        out_console.print(f"created {path}", markup=False)
    if local:
        out_console.print(
            "next: run `releasegate validate` and `releasegate eval --suite pr` "
            "(the first call starts the local model, which takes a few seconds)",
            markup=False,
        )
        return
    out_console.print(
        "next: set OPENAI_API_KEY (a repository secret in CI), then run "
        "`releasegate validate` and `releasegate eval --suite pr`",
        markup=False,
    )
