"""``releasegate dashboard serve``: the web dashboard on the control-plane database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._control import Db, open_db
from releasegate.cli._serve import AccessLog, http_url, run_server

__all__ = ["dashboard_app"]

dashboard_app = typer.Typer(help="Run the web dashboard.")
app.add_typer(dashboard_app, name="dashboard", no_args_is_help=True)


@dashboard_app.command("serve")
def dashboard_serve(
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8710,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="File holding the secret (>= 32 bytes) that signs session cookies; "
            "default: a random key, so a restart signs everyone out.",
        ),
    ] = None,
    access_log: AccessLog = False,
    db: Db = None,
) -> None:
    """Serve the web dashboard with uvicorn.

    Sign in with an API token of read scope (to look) or operate scope (to promote,
    roll back, pause and approve): on the sign-in form, or with the link
    URL/login?token=TOKEN. The database must exist: create it with `releasegate db upgrade`.
    """
    from releasegate.cli._stack import build_dashboard, read_key

    key = read_key(key_file)
    database = open_db(db)
    try:
        url = http_url(host, port)
        run_server(
            build_dashboard(database, key),
            host=host,
            port=port,
            access_log=access_log,
            banner=[
                f"releasegate dashboard at {url}",
                f"sign in with a read or operate token: {url}/login (or {url}/login?token=TOKEN)",
                f"database: {database.safe_url}",
            ],
        )
    finally:
        database.close()
