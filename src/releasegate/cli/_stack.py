"""Build the applications ``releasegate serve`` mounts, in the serving process or in each
of its worker processes.

:func:`build_stack` builds the :class:`~releasegate.cli._dispatch.Dispatcher` from a
:class:`StackSpec`; :func:`app_from_env` is the uvicorn factory each worker process
calls, reading the same spec from the environment that :func:`export_spec` wrote.
``releasegate api serve`` and ``releasegate dashboard serve`` build their single
application with :func:`build_api` and :func:`build_dashboard`, the same way.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releasegate import settings
from releasegate.cli._dispatch import APP_NAMES, ASGIApp, Dispatcher
from releasegate.errors import UsageError

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.applications import Starlette

    from releasegate.gateway.recorder import Recorder
    from releasegate.store.database import Database

__all__ = [
    "StackSpec",
    "app_from_env",
    "build_api",
    "build_dashboard",
    "build_stack",
    "export_spec",
    "read_key",
    "shared_key_file",
]

APPS_ENV = "RELEASEGATE_SERVE_APPS"
KEY_FILE_ENV = "RELEASEGATE_DASHBOARD_KEY_FILE"
CONFIG_ENV = "RELEASEGATE_GATEWAY_CONFIG"
DB_ENV = "RELEASEGATE_DATABASE_URL"


@dataclass(frozen=True, slots=True)
class StackSpec:
    """What one serving process mounts and builds it from.

    Attributes:
        apps: Names from :data:`~releasegate.cli._dispatch.APP_NAMES`.
        config: The project's ``releasegate.yaml`` (None: the current folder's).
        database_url: The control-plane database (None: ``RELEASEGATE_DATABASE_URL``,
            else the default SQLite file).
        key_file: The dashboard's session key file (None: a random key).
    """

    apps: tuple[str, ...]
    config: Path | None = None
    database_url: str | None = None
    key_file: Path | None = None


def read_key(path: Path | None) -> bytes | None:
    """The dashboard's session key in ``path`` (None: no file, a random key).

    Raises:
        UsageError: the file cannot be read or holds fewer than 32 bytes.
    """
    if path is None:
        return None
    try:
        key = path.read_bytes().strip()
    except OSError as exc:
        raise UsageError(f"--key-file {path}: cannot read it ({exc.strerror or exc})") from None
    if len(key) < 32:
        raise UsageError(
            f"--key-file {path}: the session key must be at least 32 bytes, it has {len(key)}"
        )
    return key


def build_api(database: Database, config: Path | None, *, fallback_model: str | None) -> FastAPI:
    """The control-plane API on ``database``, with the recording hooks and online checks
    of the project at ``config`` (the current folder's when None; none without one).

    Raises:
        UsageError: ``config`` was given and holds no config file.
        ConfigError: the config file is invalid.
    """
    from releasegate.api.app import create_api
    from releasegate.bootstrap import ControlPlaneParts, online_checks_from, project_online
    from releasegate.bootstrap.online import recording_hooks

    online = project_online(config)  # the project is read once for both uses
    parts = ControlPlaneParts.on_database(database)
    parts.online_checks = online_checks_from(online)
    api = create_api(parts, fallback_model=fallback_model)
    hooks = recording_hooks(online, database.url)
    api.state.redactor = hooks.redactor
    api.state.score_sampler, api.state.score_enqueue = hooks.sampler, hooks.enqueue
    return api


def build_dashboard(database: Database, key: bytes | None) -> Starlette:
    """The dashboard on ``database``, signing sessions with ``key`` (random when None)."""
    from releasegate.bootstrap import ControlPlaneParts
    from releasegate.dashboard.app import create_dashboard

    return create_dashboard(ControlPlaneParts.on_database(database), secret_key=key)


def build_stack(spec: StackSpec, *, recorder: Recorder | None = None) -> Dispatcher:
    """The dispatcher with every application of ``spec`` built.

    Args:
        spec: What to mount.
        recorder: The gateway's recorder (default: the store, from a background thread).

    Raises:
        UsageError: the database cannot be reached, or a bad key file.
        ConfigError: a bad config, a provider the gateway cannot call, or a database
            that does not exist or has no releasegate tables.
    """
    from releasegate.bootstrap import open_database
    from releasegate.cli._control import store_errors

    unknown = sorted(set(spec.apps) - set(APP_NAMES))
    if unknown or not spec.apps:
        raise UsageError(f"name what to serve among {', '.join(APP_NAMES)}")
    key = read_key(spec.key_file) if "dashboard" in spec.apps else None
    apps: dict[str, ASGIApp] = {}
    closers: list[Callable[[], None]] = []
    with store_errors():
        if "gateway" in spec.apps:
            from releasegate.gateway._build import build_gateway

            apps["gateway"] = build_gateway(spec.config, spec.database_url, recorder=recorder)
        if "api" in spec.apps or "dashboard" in spec.apps:
            database = open_database(spec.database_url)
            closers.append(database.close)
            try:
                if "api" in spec.apps:
                    apps["api"] = build_api(database, spec.config, fallback_model=None)
                if "dashboard" in spec.apps:
                    apps["dashboard"] = build_dashboard(database, key)
            except BaseException:
                database.close()
                raise
    return Dispatcher(apps, on_shutdown=closers)


def export_spec(spec: StackSpec) -> None:
    """Write ``spec`` to this process's environment for the worker processes it starts
    (:func:`app_from_env` reads it back)."""
    settings.export(APPS_ENV, ",".join(spec.apps))
    if spec.config is not None:
        settings.export(CONFIG_ENV, str(spec.config.resolve()))
    if spec.database_url is not None:
        settings.export(DB_ENV, spec.database_url)
    if spec.key_file is not None:
        settings.export(KEY_FILE_ENV, str(spec.key_file.resolve()))


def shared_key_file() -> tuple[Path, Callable[[], None]]:
    """A new random session key in a file only this user can read, for worker processes
    that must all sign sessions with the same key; and the function that deletes it."""
    fd, name = tempfile.mkstemp(prefix="releasegate-dashboard-", suffix=".key")
    with os.fdopen(fd, "wb") as sink:
        sink.write(secrets.token_urlsafe(48).encode())
    path = Path(name)
    return path, lambda: path.unlink(missing_ok=True)


def _spec_from_env() -> StackSpec:
    env = settings.current()
    apps = tuple(a for a in (env.serve_apps or ",".join(APP_NAMES)).split(",") if a)
    return StackSpec(
        apps=apps,
        config=env.gateway_config,
        database_url=env.database_url,
        key_file=env.dashboard_key_file,
    )


def app_from_env() -> Any:
    """uvicorn factory for the worker processes of ``releasegate serve --workers N``:
    the spec comes from ``RELEASEGATE_SERVE_APPS``, ``RELEASEGATE_GATEWAY_CONFIG``,
    ``RELEASEGATE_DATABASE_URL`` and ``RELEASEGATE_DASHBOARD_KEY_FILE``."""
    from releasegate.bootstrap.serving import tune_for_serving

    stack = build_stack(_spec_from_env())
    tune_for_serving()  # each worker, once its application is built
    return stack
