"""One ASGI application in front of the gateway, the API and the dashboard.

``releasegate serve`` mounts any of the three on one port. :class:`Dispatcher` picks the
application by path alone, with no framework in between: the gateway's own paths are one
dictionary lookup away, so its hot path costs what it costs when served alone.

The path table (:data:`TABLE`), first match wins:

========================================  ==========================================
path                                      application
========================================  ==========================================
``/healthz``, ``/readyz``                 the dispatcher itself (liveness; readiness
                                          is every mounted application started)
``/v1/chat/completions``, ``/v1/models``, gateway
``/v1/embeddings``, ``/metrics``
``/v1/...`` (every other path under it),  API
``/docs``, ``/docs/oauth2-redirect``,
``/redoc``, ``/openapi.json``
anything else (``/``, ``/login``, ...)    dashboard
========================================  ==========================================

A path whose application is not mounted is answered 404 by the dispatcher, so
``serve --api`` answers ``/v1/models`` with 404 and ``serve --gateway`` answers ``/``
with 404. Lifespan events reach every mounted application: start-up in table order
(gateway, API, dashboard), shut-down in the reverse order; a start-up that fails shuts
down the ones already started and fails the server's start-up.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["APP_NAMES", "TABLE", "Dispatcher", "PathTable", "owner_of"]

log = logging.getLogger("releasegate.serve")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[
    [Any, Any, Any], Awaitable[None]
]  # loosely typed: every app types it its own way

#: The applications ``releasegate serve`` can mount, in start-up order.
APP_NAMES = ("gateway", "api", "dashboard")
_SELF = "dispatcher"


@dataclass(frozen=True, slots=True)
class PathTable:
    """Which application owns a path: exact paths, then prefixes, then a default.

    Attributes:
        exact: Path -> application name.
        prefixes: (prefix, application name), tried in order.
        default: The application owning every other path.
    """

    exact: Mapping[str, str]
    prefixes: Sequence[tuple[str, str]]
    default: str

    def owner(self, path: str) -> str:
        """The name of the application that owns ``path`` (``"dispatcher"`` for the
        dispatcher's own ``/healthz`` and ``/readyz``)."""
        found = self.exact.get(path)
        if found is not None:
            return found
        for prefix, name in self.prefixes:
            if path.startswith(prefix):
                return name
        return self.default


TABLE = PathTable(
    exact={
        "/healthz": _SELF,
        "/readyz": _SELF,
        "/v1/chat/completions": "gateway",
        "/v1/models": "gateway",
        "/v1/embeddings": "gateway",
        "/metrics": "gateway",
        "/docs": "api",
        "/docs/oauth2-redirect": "api",
        "/redoc": "api",
        "/openapi.json": "api",
    },
    prefixes=(("/v1/", "api"),),
    default="dashboard",
)
"""The path table of ``releasegate serve`` (see the module's docstring)."""


def owner_of(path: str) -> str:
    """The application owning ``path`` in :data:`TABLE`."""
    return TABLE.owner(path)


class _StartupFailed(Exception):
    pass


class _Lifespan:
    """Drives one mounted application's lifespan protocol from the dispatcher's."""

    def __init__(self, name: str, app: ASGIApp) -> None:
        self.name = name
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.supported = True

    async def _run(self, scope: Scope) -> None:
        try:
            await self.app(scope, self.inbox.get, self.outbox.put)
        except Exception as exc:  # reported as a failed start-up or shut-down
            await self.outbox.put({"type": "error", "message": f"{type(exc).__name__}: {exc}"})
            return
        await self.outbox.put({"type": "returned"})

    async def startup(self, scope: Scope) -> None:
        """Send start-up and wait for the answer.

        Raises:
            _StartupFailed: the application failed its start-up (or raised).
        """
        self.task = asyncio.create_task(self._run(dict(scope)))
        await self.inbox.put({"type": "lifespan.startup"})
        answer = await self.outbox.get()
        kind = answer["type"]
        if kind == "lifespan.startup.complete":
            return
        if kind == "returned":  # an application without lifespan support
            self.supported = False
            return
        raise _StartupFailed(f"{self.name}: {answer.get('message') or 'start-up failed'}")

    async def shutdown(self) -> str | None:
        """Send shut-down and wait for the answer; returns an error message or None."""
        if not self.supported or self.task is None:
            return None
        await self.inbox.put({"type": "lifespan.shutdown"})
        answer = await self.outbox.get()
        await self.task
        if answer["type"] in ("lifespan.shutdown.complete", "returned"):
            return None
        return f"{self.name}: {answer.get('message') or 'shut-down failed'}"


async def _json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class Dispatcher:
    """The ASGI application of ``releasegate serve``: the mounted applications behind
    :data:`TABLE`.

    Args:
        apps: Application name (from :data:`APP_NAMES`) -> ASGI application.
        on_shutdown: Called once after every application has shut down (closing what
            the applications were built on, e.g. a database).
        table: The path table (default :data:`TABLE`).

    Raises:
        ValueError: an unknown application name, or none at all.

    Attributes:
        ready: True once every mounted application started, False again once the
            shut-down begins.
    """

    def __init__(
        self,
        apps: Mapping[str, ASGIApp],
        *,
        on_shutdown: Sequence[Callable[[], None]] = (),
        table: PathTable = TABLE,
    ) -> None:
        unknown = sorted(set(apps) - set(APP_NAMES))
        if unknown or not apps:
            raise ValueError(f"mount at least one of {', '.join(APP_NAMES)}; got {unknown}")
        self.apps = {name: apps[name] for name in APP_NAMES if name in apps}
        self.table = table
        self.ready = False
        self._on_shutdown = tuple(on_shutdown)
        # Exact paths resolved once: the gateway's are one lookup away.
        self._exact: dict[str, ASGIApp] = {
            path: self.apps[name] for path, name in table.exact.items() if name in self.apps
        }

    def close(self) -> None:
        """Run the shut-down callbacks without serving (an application built only to
        check that it can be built)."""
        for close in self._on_shutdown:
            close()

    @property
    def mounted(self) -> tuple[str, ...]:
        """The names of the mounted applications, in start-up order."""
        return tuple(self.apps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        path = scope["path"]
        app = self._exact.get(path)
        if app is None:
            name = self.table.owner(path)
            if name == _SELF:
                await self._own(path, send)
                return
            app = self.apps.get(name)
            if app is None:
                await self._not_found(scope, send)
                return
        await app(scope, receive, send)

    async def _own(self, path: str, send: Send) -> None:
        if path == "/healthz":
            await _json(send, 200, {"status": "ok"})
            return
        ready = self.ready and all(getattr(a, "ready", True) for a in self.apps.values())
        body = {"status": "ready" if ready else "not ready", "apps": list(self.apps)}
        await _json(send, 200 if ready else 503, body)

    async def _not_found(self, scope: Scope, send: Send) -> None:
        if scope["type"] != "http":  # a websocket: refuse the handshake
            await send({"type": "websocket.close", "code": 1000})
            return
        message = (
            f"no route {scope.get('method', 'GET')} {scope['path']} "
            f"(this server mounts: {', '.join(self.apps)})"
        )
        await _json(send, 404, {"error": {"type": "NotFound", "message": message}})

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        lives = [_Lifespan(name, app) for name, app in self.apps.items()]
        started: list[_Lifespan] = []
        await receive()  # lifespan.startup
        try:
            for life in lives:
                await life.startup(scope)
                started.append(life)
        except _StartupFailed as exc:
            await self._stop(started)
            await send({"type": "lifespan.startup.failed", "message": str(exc)})
            # Raised after the message, as Starlette does: servers stop waiting on it.
            raise RuntimeError(str(exc)) from None
        self.ready = True
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        self.ready = False
        errors = await self._stop(started)
        if errors:
            await send({"type": "lifespan.shutdown.failed", "message": "; ".join(errors)})
        else:
            await send({"type": "lifespan.shutdown.complete"})

    async def _stop(self, started: list[_Lifespan]) -> list[str]:
        errors = [e for life in reversed(started) if (e := await life.shutdown()) is not None]
        for close in self._on_shutdown:
            try:
                close()
            except Exception as exc:  # one failing close never skips the others
                errors.append(f"{type(exc).__name__}: {exc}")
        return errors
