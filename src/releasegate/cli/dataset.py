"""``releasegate dataset export``: production interactions become golden-dataset cases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import out_console, plain
from releasegate.cli._control import Db, open_db, store_errors

__all__ = ["dataset_app"]

dataset_app = typer.Typer(help="Work with golden datasets.")
app.add_typer(dataset_app, name="dataset", no_args_is_help=True)


@dataset_app.command("export")
def export(
    feature: Annotated[str, typer.Option("--feature", help="The feature to export from.")],
    out: Annotated[
        Path,
        typer.Option("--out", help="Dataset file to add the cases to (.jsonl, .yaml, .yml)."),
    ],
    version: Annotated[
        str | None, typer.Option("--version", help="Only interactions this version served.")
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="negative-feedback, error or low-score (repeatable; default: all, any kind).",
        ),
    ] = None,
    below: Annotated[
        float,
        typer.Option(
            "--below", min=0.0, max=1.0, help="low-score: an overall online score below this."
        ),
    ] = 0.5,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1_000_000, help="At most this many.")
    ] = 1000,
    db: Db = None,
) -> None:
    """Turn FEATURE's failed, badly rated or low-scored interactions into dataset cases.

    Each case keeps the user's text, the retrieved context and, in its metadata, what
    production answered, the feedback and where it came from; add checks to it and the
    incident becomes a regression case. Ids come from the request ids: exporting again
    adds only new interactions.
    """
    from releasegate.online.export import WHERE, export_cases, write_cases

    kinds = tuple(where) if where else WHERE
    database = open_db(db)
    try:
        with store_errors():
            cases, without = export_cases(
                database.uow(write=False),
                feature,
                version=version,
                where=kinds,  # type: ignore[arg-type]  # checked by export_cases
                below=below,
                limit=limit,
            )
    finally:
        database.close()
    result = write_cases(out, cases, without_input=without)
    line = f"{result.path}: added {result.added} case(s)"
    if result.already:
        line += f", {result.already} already there"
    if result.without_input:
        line += f"; {result.without_input} interaction(s) had no user text and were skipped"
    out_console.print(plain(line), soft_wrap=True)
