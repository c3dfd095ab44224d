"""``releasegate db upgrade`` and ``releasegate api serve``."""

from __future__ import annotations

from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import out_console, plain
from releasegate.cli._control import Db, open_db, store_errors

__all__ = ["api_app", "db_app"]

db_app = typer.Typer(help="Manage the releasegate database schema.")
api_app = typer.Typer(help="Run the control-plane REST API.")
app.add_typer(db_app, name="db", no_args_is_help=True)
app.add_typer(api_app, name="api", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: Db = None) -> None:
    """Apply every pending schema migration."""
    database = open_db(db, check_schema=False)
    try:
        with store_errors():
            database.upgrade()
    finally:
        database.close()
    out_console.print(plain(f"database {database.safe_url} is up to date"))


@api_app.command("serve")
def api_serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8700,
    fallback_model: Annotated[str | None, typer.Option("--fallback-model")] = None,
    db: Db = None,
) -> None:
    """Serve the control-plane API (OpenAPI at /docs) with uvicorn."""
    import uvicorn

    from releasegate.api.app import create_app

    database = open_db(db)
    try:
        uvicorn.run(
            create_app(database.uow, fallback_model=fallback_model),
            host=host,
            port=port,
            log_level="warning",
        )
    finally:
        database.close()
