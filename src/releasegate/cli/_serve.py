"""Running an HTTP server from the CLI: bind first, say where, then serve with uvicorn.

Both ``releasegate api serve`` and ``releasegate local serve`` go through
:func:`run_server`, so both print their URL on start, both take ``--access-log``, and a
port that is already taken is one line (exit code 2) instead of uvicorn's log and exit 1.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import TYPE_CHECKING, Annotated, Any

import typer

from releasegate.cli._common import err_console
from releasegate.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["AccessLog", "bind", "http_url", "run_server"]

AccessLog = Annotated[
    bool,
    typer.Option(
        "--access-log/--no-access-log",
        help="Log one line per HTTP request (on stdout), with the client's address "
        "from X-Forwarded-For when a proxy on 127.0.0.1 sent it.",
    ),
]


def http_url(host: str, port: int) -> str:
    """``http://HOST:PORT`` with an IPv6 literal in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``.

    Raises:
        UsageError: the address is taken, cannot be assigned or the host is unknown.
    """
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise UsageError(f"cannot listen on {where}: unknown host ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"cannot listen on {where}: the port is already in use "
                "(another server is running there); choose another with --port"
            ) from None
        raise UsageError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def run_server(
    app: Any,
    *,
    host: str,
    port: int,
    access_log: bool,
    banner: Sequence[str],
) -> None:
    """Bind ``host:port``, print ``banner`` (one line each, on stderr) and serve ``app``
    in the foreground until Ctrl-C.

    Raises:
        UsageError: the port cannot be bound (see :func:`bind`).
    """
    import uvicorn

    sock = bind(host, port)
    config = uvicorn.Config(app, log_level="warning", access_log=access_log)
    if access_log:  # uvicorn's own start-up chatter stays at warning; requests are info
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    for line in banner:
        err_console.print(line, markup=False, highlight=False)
    err_console.print(
        "access log: on" if access_log else "access log: off (--access-log shows requests)",
        markup=False,
    )
    err_console.print("Ctrl-C stops", markup=False)
    from releasegate.bootstrap.serving import tune_for_serving

    server = uvicorn.Server(config)
    tune_for_serving()  # a long-running server: see releasegate.bootstrap.serving
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
