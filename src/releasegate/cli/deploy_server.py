"""``releasegate db upgrade`` and ``releasegate api serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import out_console, plain
from releasegate.cli._control import Db, open_db, store_errors
from releasegate.cli._serve import AccessLog, http_url, run_server

__all__ = ["api_app", "db_app"]

db_app = typer.Typer(help="Manage the releasegate database schema.")
api_app = typer.Typer(help="Run the control-plane REST API.")
app.add_typer(db_app, name="db", no_args_is_help=True)
app.add_typer(api_app, name="api", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: Db = None) -> None:
    """Apply every pending schema migration."""
    database = open_db(db, check_schema=False, create=True)
    try:
        with store_errors():
            applied = database.upgrade()
            now = database.revision()
    finally:
        database.close()
    if applied:
        message = (
            f"database {database.safe_url}: applied {len(applied)} migration(s): "
            f"{', '.join(applied)}; now at {now}"
        )
    else:
        message = f"database {database.safe_url} was already up to date (at {now})"
    out_console.print(plain(message), soft_wrap=True)  # one line: scripts read it


@api_app.command("serve")
def api_serve(
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8700,
    fallback_model: Annotated[
        str | None, typer.Option("--fallback-model", help="Model when nothing is active.")
    ] = None,
    access_log: AccessLog = False,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Project config, for its online checks [./releasegate.yaml]"
        ),
    ] = None,
    db: Db = None,
) -> None:
    """Serve the control-plane API (OpenAPI at /docs) with uvicorn.

    Prints the URL and the database (password masked) on start. The database must
    exist: create it with `releasegate db upgrade`. Starting a canary checks readiness
    against the project config's online checks (run it in the project, or --config).
    """
    from releasegate.cli._stack import build_api

    database = open_db(db)
    try:
        url = http_url(host, port)
        with store_errors():
            api = build_api(database, config, fallback_model=fallback_model)
        run_server(
            api,
            host=host,
            port=port,
            access_log=access_log,
            banner=[
                f"releasegate API at {url} (OpenAPI at {url}/docs)",
                f"database: {database.safe_url}",
            ],
        )
    finally:
        database.close()
