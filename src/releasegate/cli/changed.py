"""``releasegate changed --base REF``: prompts changed since a git ref and their suites."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import handle_errors, out_console, print_table
from releasegate.errors import UsageError
from releasegate.evals.changes import changed_prompts

__all__ = ["changed_command"]


@app.command("changed")
@handle_errors
def changed_command(
    base: Annotated[str, typer.Option("--base", "-b", help="Git ref to compare against")],
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file [./releasegate.yaml]")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, json, or suites (one name a line)")
    ] = "table",
) -> None:
    """List prompts whose content changed since a git ref and the suites covering them.

    ``--format suites`` prints just the suite names to run, one a line (what
    ``eval --changed-only`` runs). Exit code 0, or 2 on a bad ref or config.
    """
    from releasegate.project import load_project

    if fmt not in ("table", "json", "suites"):
        raise UsageError(f"--format must be table, json or suites, not {fmt!r}")
    project = load_project(config)
    changes = changed_prompts(project, base)
    if fmt == "json":
        rows = [
            {
                "name": c.name,
                "status": c.status,
                "path": c.path,
                "text_changed": c.text_changed,
                "config_changed": c.config_changed,
                "base_version": c.base_version,
                "head_version": c.head_version,
                "suites": c.suites,
            }
            for c in changes
        ]
        typer.echo(json.dumps({"base": base, "changed": rows}, indent=2))
        return
    if fmt == "suites":
        suites = sorted({s for c in changes if c.status != "removed" for s in c.suites})
        for name in suites:
            typer.echo(name)
        return
    if not changes:
        out_console.print(f"no prompt changed since {base}")
        return
    cells: list[list[str]] = []
    for c in changes:
        what = ", ".join(
            w for w, flag in (("text", c.text_changed), ("model/params", c.config_changed)) if flag
        )
        if c.status == "modified" and not what:
            what = "name/version only"
        version = f"{c.base_version or '—'} → {c.head_version or '—'}"
        covering = ", ".join(c.suites) or "none (no suite covers it)"
        cells.append([c.name, c.status, version, what, covering])
    columns = ("prompt", "status", "version", "what changed", "suites")
    print_table(out_console, columns, cells, title=f"prompts changed since {base}")
