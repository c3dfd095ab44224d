"""``releasegate serve``: the gateway, the control-plane API and the dashboard on one port,
under uvicorn, in one process or several worker processes."""

from __future__ import annotations

import copy
import signal
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from releasegate.cli._app import app
from releasegate.cli._common import err_console
from releasegate.cli._control import Db
from releasegate.cli._dispatch import APP_NAMES
from releasegate.cli._serve import AccessLog, bind, http_url
from releasegate.errors import RunFailed, UsageError

__all__ = ["serve"]


class _Discard:
    """The gateway's recorder while it is built only to check the config."""

    def submit(self, record: Mapping[str, Any]) -> None:
        """Drop ``record``."""


class _Terminated(Exception):
    """SIGTERM arrived (re-raised by uvicorn once it has shut down gracefully)."""


def _on_sigterm(_sig: int, _frame: object) -> None:
    raise _Terminated


def _database_label(db: str | None) -> str:
    from releasegate.store.engine import redact, resolve_url

    return redact(resolve_url(db))


def _banner(
    url: str, apps: tuple[str, ...], workers: int, protocol: str, db: str | None
) -> list[str]:
    lines = [f"releasegate serve at {url}: {', '.join(apps)} ({workers} worker(s), {protocol})"]
    if "gateway" in apps:
        lines.append(f"gateway: OpenAI base URL {url}/v1 (/healthz, /readyz, /metrics)")
    if "api" in apps:
        lines.append(f"API: {url}/v1/... (OpenAPI at {url}/docs)")
    if "dashboard" in apps:
        lines.append(f"dashboard: {url}/")
    lines.append(f"database: {_database_label(db)}")
    return lines


@app.command("serve")
def serve(
    gateway: Annotated[
        bool, typer.Option("--gateway", help="Serve the OpenAI-compatible gateway.")
    ] = False,
    api: Annotated[
        bool,
        typer.Option("--api", help="Serve the control-plane API (with recording and feedback)."),
    ] = False,
    dashboard: Annotated[bool, typer.Option("--dashboard", help="Serve the dashboard.")] = False,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8710,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Worker processes.")] = 1,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file [./releasegate.yaml]")
    ] = None,
    http: Annotated[
        str,
        typer.Option(
            "--http", help="HTTP parser: auto (httptools if installed), h11 or httptools."
        ),
    ] = "auto",
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="File holding the secret (>= 32 bytes) that signs dashboard sessions; "
            "default: a random key per run, shared by the workers.",
        ),
    ] = None,
    signin_link: Annotated[
        bool,
        typer.Option(
            "--signin-link/--no-signin-link",
            help="On a loopback host with the dashboard: mint a read token for this run "
            "(revoked when the server stops) and print a sign-in link.",
        ),
    ] = True,
    access_log: AccessLog = False,
    db: Db = None,
) -> None:
    """Serve the gateway, the control-plane API and the dashboard on one port.

    --gateway, --api and --dashboard choose what to serve; with none of them, all
    three. Paths: /v1/chat/completions, /v1/models, /v1/embeddings and /metrics go to
    the gateway (point any OpenAI client at http://HOST:PORT/v1); every other /v1/...
    path, /docs and /openapi.json to the API; everything else (/, /login, ...) to the
    dashboard; /healthz and /readyz answer for all of them. The database must exist
    (`releasegate db upgrade`); the gateway's upstreams, prompts, fallback chains and
    breakers come from releasegate.yaml.
    """
    import uvicorn

    from releasegate.bootstrap.serving import tune_for_serving
    from releasegate.cli._stack import StackSpec, build_stack, export_spec, shared_key_file
    from releasegate.gateway._timing import stamped_protocol

    chosen = tuple(n for n, on in zip(APP_NAMES, (gateway, api, dashboard), strict=True) if on)
    apps = chosen or APP_NAMES
    if http not in ("auto", "h11", "httptools"):
        raise UsageError(f"--http must be auto, h11 or httptools, got {http!r}")
    spec = StackSpec(apps=apps, config=config, database_url=db, key_file=key_file)
    # Everything is built here, once, before a port is bound or a worker started: a bad
    # config or database is one message and exit code 2.
    stack = build_stack(spec, recorder=_Discard() if workers > 1 else None)
    if workers > 1:
        stack.close()  # each worker builds its own
    protocol = stamped_protocol(http)
    sock = bind(host, port)
    url = http_url(host, port)
    cleanups: list[Callable[[], None]] = [sock.close]
    # uvicorn re-raises the SIGTERM it shut down on: as an exception, so that the
    # sign-in token is revoked and the key file deleted before the process ends.
    signal.signal(signal.SIGTERM, _on_sigterm)
    terminated = False
    try:
        lines = _banner(url, apps, workers, protocol.__name__, db)
        if "dashboard" in apps:
            lines.append(_signin_line(url, host, port, db, signin_link, cleanups))
        lines.append(
            "access log: on" if access_log else "access log: off (--access-log shows requests)"
        )
        lines.append("Ctrl-C stops")
        for line in lines:
            err_console.print(line, markup=False, highlight=False, soft_wrap=True)
        log_config = _log_config(access_log)
        if workers == 1:
            cfg = uvicorn.Config(
                stack,
                http=protocol,
                log_config=log_config,
                log_level=None,
                access_log=access_log,
                lifespan="on",
                proxy_headers=access_log,
            )
            server = uvicorn.Server(cfg)
            tune_for_serving()
            server.run(sockets=[sock])
            if not server.started:  # an application's start-up failed (logged above)
                raise RunFailed("the server did not start: see the messages above")
            return
        if "dashboard" in apps and key_file is None:
            shared, delete = shared_key_file()  # every worker signs with the same key
            cleanups.append(delete)
            spec = StackSpec(apps=apps, config=config, database_url=db, key_file=shared)
        export_spec(spec)
        uvicorn.run(
            "releasegate.cli._stack:app_from_env",
            factory=True,
            fd=sock.fileno(),
            workers=workers,
            http=protocol,
            log_config=log_config,
            log_level=None,
            access_log=access_log,
            lifespan="on",
            proxy_headers=access_log,
        )
    except _Terminated:
        terminated = True
    except KeyboardInterrupt:  # Ctrl-C is how it is meant to stop: not an error
        pass
    finally:
        for cleanup in reversed(cleanups):
            cleanup()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if terminated:  # end as a terminated process does
        signal.raise_signal(signal.SIGTERM)


def _signin_line(
    url: str,
    host: str,
    port: int,
    db: str | None,
    enabled: bool,
    cleanups: list[Callable[[], None]],
) -> str:
    """Mint this run's read token and return the sign-in line (see cli/_signin_link.py)."""
    from releasegate.cli._control import resolve_actor
    from releasegate.cli._signin_link import is_loopback, mint, revoke

    plain = f"sign in at {url}/login with a read token (releasegate token create NAME --scope read)"
    if not enabled or not is_loopback(host):
        return plain
    actor = resolve_actor(None)
    token = mint(db, port, actor=actor)

    def revoke_token() -> None:
        problem = revoke(db, token, actor=actor)
        if problem:
            err_console.print(f"warning: {problem}", markup=False, highlight=False)

    cleanups.append(revoke_token)
    return (
        f"sign in: {url}/login?token={token.secret} "
        f"(read token {token.name}, revoked when the server stops)"
    )


def _log_config(access_log: bool) -> dict[str, Any]:
    """uvicorn's logging configuration with its own messages at WARNING and, with the
    access log, one INFO line per request. Given as the configuration itself (not a
    level set on a logger beforehand), because uvicorn applies it again in each worker
    process and would reset such a level."""
    import uvicorn.config

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["uvicorn"]["level"] = "WARNING"
    config["loggers"]["uvicorn.error"]["level"] = "WARNING"
    config["loggers"]["uvicorn.access"]["level"] = "INFO" if access_log else "WARNING"
    return config
