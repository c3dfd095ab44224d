"""``releasegate serve --gateway``: the OpenAI-compatible gateway under uvicorn."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from releasegate import settings
from releasegate.cli._app import app
from releasegate.cli._common import err_console
from releasegate.cli._control import Db, store_errors
from releasegate.cli._serve import AccessLog, bind, http_url
from releasegate.errors import UsageError

__all__ = ["serve"]


@app.command("serve")
def serve(
    gateway: Annotated[
        bool, typer.Option("--gateway", help="Serve the OpenAI-compatible gateway.")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8710,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file [./releasegate.yaml]")
    ] = None,
    http: Annotated[
        str, typer.Option("--http", help="HTTP parser: auto (httptools if installed), h11.")
    ] = "auto",
    access_log: AccessLog = False,
    db: Db = None,
) -> None:
    """Serve releasegate over HTTP.

    With --gateway: /v1/chat/completions, /v1/models, /v1/embeddings, /healthz,
    /readyz and /metrics; point any OpenAI client's base URL at http://HOST:PORT/v1.
    Routing reads the deployment database (--db); upstreams, prompts, fallback
    chains and breakers come from releasegate.yaml.
    """
    import uvicorn

    from releasegate.gateway._build import CONFIG_ENV, DB_ENV, build_gateway
    from releasegate.gateway._timing import stamped_protocol

    if not gateway:
        raise UsageError("name what to serve: --gateway")
    if http not in ("auto", "h11", "httptools"):
        raise UsageError(f"--http must be auto, h11 or httptools, got {http!r}")
    with store_errors():
        built = build_gateway(config, db)  # fails here, once, on a bad config or database
    protocol = stamped_protocol(http)
    sock = bind(host, port)
    url = http_url(host, port)
    for line in (
        f"releasegate gateway at {url}/v1 ({workers} worker(s), {protocol.__name__})",
        "access log: on" if access_log else "access log: off (--access-log shows requests)",
        "Ctrl-C stops",
    ):
        err_console.print(line, markup=False, highlight=False)
    if access_log:
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    try:
        if workers == 1:
            cfg = uvicorn.Config(
                built, http=protocol, log_level="warning", access_log=access_log, lifespan="on"
            )
            uvicorn.Server(cfg).run(sockets=[sock])
        else:
            if config is not None:
                settings.export(CONFIG_ENV, str(config.resolve()))
            if db is not None:
                settings.export(DB_ENV, db)
            uvicorn.run(
                "releasegate.gateway._build:app_from_env",
                factory=True,
                fd=sock.fileno(),
                workers=workers,
                http=protocol,
                log_level="warning",
                access_log=access_log,
                lifespan="on",
            )
    finally:
        sock.close()
