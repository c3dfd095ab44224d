"""Every environment variable releasegate reads, read in one place.

:class:`Settings` is a snapshot of the process environment taken by
:meth:`Settings.from_env`: one typed field per variable releasegate itself knows
(:data:`VARIABLES` names and describes each one; the configuration docs list the same
table), and :meth:`Settings.secret` for the variables a project config names (a
provider's ``api_key_env``, ``{{ env.NAME }}`` in an ``http`` provider's headers).

No other module reads ``os.environ``: entry points call :func:`current` (or build a
:class:`Settings` from a mapping in tests) and pass what they need on. An empty
variable counts as unset for the typed fields, as it always has.

:func:`placeholders` stands in for unset credentials while ``releasegate validate``
builds providers without secrets (nothing is written to the process environment), and
:func:`export_default` sets a variable for a third-party library this process loads.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr

__all__ = [
    "VARIABLES",
    "EnvVar",
    "Settings",
    "current",
    "export_default",
    "placeholders",
]


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One environment variable: its name, the :class:`Settings` field it fills, and
    what it does (the text of the docs table)."""

    name: str
    field: str
    description: str


VARIABLES: tuple[EnvVar, ...] = (
    EnvVar(
        "RELEASEGATE_DATABASE_URL",
        "database_url",
        "Control-plane database URL when `--db` is not given "
        "(default `sqlite:///.releasegate/releasegate.db`).",
    ),
    EnvVar(
        "RELEASEGATE_API_URL",
        "api_url",
        "Base URL of the releasegate API that `releasegate.record()` and "
        "`releasegate.feedback()` send to (e.g. `http://127.0.0.1:8080`).",
    ),
    EnvVar(
        "RELEASEGATE_API_TOKEN",
        "api_token",
        "Bearer token sent by commands run with `--api URL`; masked in every message.",
    ),
    EnvVar(
        "RELEASEGATE_ACTOR",
        "actor",
        "Who acts, recorded in the audit log, when `--actor` is not given "
        "(default: the login name).",
    ),
    EnvVar(
        "RELEASEGATE_DEBUG",
        "debug",
        "Any non-empty value: an error prints its traceback instead of one line.",
    ),
    EnvVar(
        "GITHUB_STEP_SUMMARY",
        "github_step_summary",
        "File that `eval` and `compare` append their Markdown summary to (set by GitHub Actions).",
    ),
    EnvVar(
        "RELEASEGATE_GATEWAY_CONFIG",
        "gateway_config",
        "Project config a gateway worker process loads; `releasegate serve --workers N` sets "
        "it for its workers from `--config`.",
    ),
    EnvVar(
        "RELEASEGATE_SERVE_APPS",
        "serve_apps",
        "Applications a `releasegate serve` worker process mounts (comma-separated: "
        "`gateway`, `api`, `dashboard`); `releasegate serve --workers N` sets it.",
    ),
    EnvVar(
        "RELEASEGATE_DASHBOARD_KEY_FILE",
        "dashboard_key_file",
        "File holding the dashboard's session key in a `releasegate serve` worker process; "
        "`releasegate serve --workers N` sets it (from `--key-file`, else a new random key "
        "shared by its workers).",
    ),
    EnvVar(
        "RELEASEGATE_LOCAL_GGUF",
        "local_gguf",
        "GGUF file the `local` chat provider runs instead of the bundled SmolLM2-135M.",
    ),
    EnvVar(
        "RELEASEGATE_LOCAL_EMBEDDINGS",
        "local_embeddings",
        "sentence-transformers model folder the `local` embedder loads instead of the "
        "bundled all-MiniLM-L6-v2.",
    ),
    EnvVar(
        "OPENAI_API_KEY",
        "openai_api_key",
        "API key of `openai` providers and embedders without `api_key_env`.",
    ),
    EnvVar(
        "OPENAI_BASE_URL",
        "openai_base_url",
        "Endpoint of `openai` providers without `base_url` (default `https://api.openai.com/v1`).",
    ),
    EnvVar(
        "OPENAI_ORG_ID",
        "openai_org_id",
        "Organization header of `openai` providers, as in the OpenAI SDK.",
    ),
    EnvVar(
        "OPENAI_PROJECT_ID",
        "openai_project_id",
        "Project header of `openai` providers, as in the OpenAI SDK.",
    ),
    EnvVar(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "otlp_traces_endpoint",
        "OTLP/HTTP URL the gateway exports its spans to when `gateway.otlp.endpoint` is "
        "not set (needs the `otel` extra).",
    ),
    EnvVar(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "otlp_endpoint",
        "OTLP/HTTP base URL: the gateway exports spans to it plus `/v1/traces` when "
        "neither `gateway.otlp.endpoint` nor `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set.",
    ),
    EnvVar(
        "ANTHROPIC_API_KEY",
        "anthropic_api_key",
        "API key of `anthropic` providers without `api_key_env`.",
    ),
)
"""Every variable :class:`Settings` reads by name, in the order the docs list them."""

# Values that stand in for unset credentials (see :func:`placeholders`).
_OVERLAY: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "releasegate_settings_overlay", default=MappingProxyType({})
)


class Settings(BaseModel):
    """The environment as releasegate reads it.

    Attributes:
        database_url: ``RELEASEGATE_DATABASE_URL``.
        api_url: ``RELEASEGATE_API_URL``, where the recording client sends.
        api_token: ``RELEASEGATE_API_TOKEN`` (raw: the API client checks its shape).
        actor: ``RELEASEGATE_ACTOR``.
        debug: ``RELEASEGATE_DEBUG`` is set to anything.
        github_step_summary: ``GITHUB_STEP_SUMMARY``, a file path.
        gateway_config: ``RELEASEGATE_GATEWAY_CONFIG``, a file path.
        serve_apps: ``RELEASEGATE_SERVE_APPS``, comma-separated application names.
        dashboard_key_file: ``RELEASEGATE_DASHBOARD_KEY_FILE``, a file path.
        local_gguf: ``RELEASEGATE_LOCAL_GGUF``, a file path.
        local_embeddings: ``RELEASEGATE_LOCAL_EMBEDDINGS``, a folder path.
        openai_api_key: ``OPENAI_API_KEY``.
        openai_base_url: ``OPENAI_BASE_URL``.
        openai_org_id: ``OPENAI_ORG_ID``.
        openai_project_id: ``OPENAI_PROJECT_ID``.
        otlp_traces_endpoint: ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``.
        otlp_endpoint: ``OTEL_EXPORTER_OTLP_ENDPOINT``.
        anthropic_api_key: ``ANTHROPIC_API_KEY``.

    Every field is ``None`` (``False`` for ``debug``) when its variable is unset or
    empty. The repr never shows a value that may be a secret.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str | None = None
    api_url: str | None = None
    api_token: str | None = None
    actor: str | None = None
    debug: bool = False
    github_step_summary: Path | None = None
    gateway_config: Path | None = None
    serve_apps: str | None = None
    dashboard_key_file: Path | None = None
    local_gguf: Path | None = None
    local_embeddings: Path | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_org_id: str | None = None
    openai_project_id: str | None = None
    otlp_traces_endpoint: str | None = None
    otlp_endpoint: str | None = None
    anthropic_api_key: str | None = None

    _environ: Mapping[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``environ`` (default: this process's environment and
        any :func:`placeholders` in effect).

        Args:
            environ: Variable name to value, e.g. a test's own dict.

        Returns:
            The settings; :meth:`secret` looks further names up in the same snapshot.
        """
        if environ is None:
            environ = {**os.environ, **_OVERLAY.get()}
        snapshot = MappingProxyType(dict(environ))
        values: dict[str, Any] = {}
        for var in VARIABLES:
            raw = snapshot.get(var.name)
            if var.field == "debug":
                values["debug"] = bool(raw)
            elif raw:
                values[var.field] = raw
        settings = cls(**values)
        settings._environ = snapshot
        return settings

    def secret(self, name: str) -> str | None:
        """The variable ``name`` as set (a config's ``api_key_env``, a header template's
        ``env.NAME``), or ``None`` when it is not set. An empty value is returned as
        is: the caller decides whether empty means missing."""
        return self._environ.get(name)

    @property
    def environ(self) -> Mapping[str, str]:
        """The whole snapshot, read-only: for ``{{ env.NAME }}`` header templates and
        for the environment of a child process."""
        return self._environ

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            hidden = name in {"api_token", "openai_api_key", "anthropic_api_key"}
            yield name, ("***" if hidden and value is not None else value)


def current() -> Settings:
    """The settings of this process now (a fresh snapshot on every call, so a variable
    set while the process runs is seen by what is built afterwards)."""
    return Settings.from_env()


@contextlib.contextmanager
def placeholders(names: Iterable[str], value: str) -> Iterator[list[str]]:
    """Within the block, :func:`current` sees ``value`` for each variable in ``names``
    that is unset or empty (the process environment itself is not changed).

    Yields:
        The names that were filled in.
    """
    env = current().environ
    added = [n for n in dict.fromkeys(names) if not env.get(n)]
    overlay = {**_OVERLAY.get(), **dict.fromkeys(added, value)}
    token = _OVERLAY.set(MappingProxyType(overlay))
    try:
        yield added
    finally:
        _OVERLAY.reset(token)


def export(name: str, value: str) -> None:
    """Set ``name`` in this process's environment, for the child processes it starts
    (e.g. the gateway's worker processes, which read their settings from it)."""
    os.environ[name] = value


def export_default(name: str, value: str) -> None:
    """Set ``name`` in this process's environment unless it is set already: for a
    third-party library that reads its own variables (e.g. Hugging Face's offline mode).
    """
    os.environ.setdefault(name, value)
