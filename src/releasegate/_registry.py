"""One registry mechanism for everything a project names by type: checks, providers and
embedders.

A :class:`Registry` maps a name to an object (a check factory, a provider factory ...).
It is filled three ways, all lazy, none at import time:

* **built-ins**: a table ``name -> "module:attribute"``; the module is imported the first
  time the name is asked for, so a project pays only for the types it uses. A module
  that needs a package of an optional extra fails with the one-line
  :class:`~releasegate._optional.MissingExtra` naming the extra to install.
* **registered**: :meth:`Registry.register` takes the same ``"module:attribute"`` path or
  the object itself; a registered name replaces a built-in one (tests swap fakes in).
* **plugins**: the entry points of ``group`` (``releasegate.scorers``,
  ``releasegate.providers``, ``releasegate.embedders``). Reading every installed
  distribution's metadata costs tens of milliseconds, so the group is scanned only when
  a name is neither built in nor registered (or when every name is listed), and once.
  A plugin never takes a built-in or registered name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar

from releasegate._optional import missing_extra

__all__ = ["Registry", "load_path"]

T = TypeVar("T")


def _identity(obj: Any) -> Any:
    return obj


def load_path(path: str, *, purpose: str | None = None) -> Any:
    """The object a ``"module:attribute"`` path names, importing its module.

    Args:
        path: ``"package.module:attribute"`` (the attribute may be dotted).
        purpose: what needs it, for the message of a missing extra.

    Raises:
        MissingExtra: the module needs a package of an optional extra that is missing.
        ImportError: the module cannot be imported for another reason, or the attribute
            does not exist.
        ValueError: ``path`` is not of the form ``module:attribute``.
    """
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{path!r} is not a 'module:attribute' path")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        missing = missing_extra(exc, purpose=purpose)
        if missing is None:
            raise
        raise missing from exc
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ImportError(f"{module_name} has no attribute {attribute!r}") from None
    return obj


class Registry(Generic[T]):
    """Names to objects: built-ins by path, registered ones, and entry-point plugins.

    Args:
        kind: what the names are, for messages (``"check"``, ``"provider"`` ...).
        group: the entry-point group plugins are found in.
        builtins: built-in names to ``"module:attribute"`` paths.
        adapt: turns a loaded object into the registry's value (for example a class
            into its ``from_spec`` factory); may raise ``TypeError`` for an object that
            does not fit.
    """

    def __init__(
        self,
        kind: str,
        group: str,
        builtins: Mapping[str, str],
        *,
        adapt: Callable[[Any], T] = _identity,
    ) -> None:
        self.kind = kind
        self.group = group
        self.builtins: dict[str, str] = dict(builtins)
        self._adapt = adapt
        self._registered: dict[str, Any] = {}
        self._loaded: dict[str, T] = {}
        self._plugins: dict[str, EntryPoint] | None = None

    def register(self, name: str, target: Any) -> None:
        """Register ``target`` under ``name``, replacing whatever had that name.

        Args:
            name: the type name users write.
            target: the object, or a ``"module:attribute"`` path imported on first use.

        Raises:
            TypeError: ``target`` is an object the registry cannot use.
        """
        value = target if isinstance(target, str) else self._adapt(target)
        self._registered[name] = value
        self._loaded.pop(name, None)

    def unregister(self, name: str) -> None:
        """Forget a registered name (built-ins and plugins stay known)."""
        self._registered.pop(name, None)
        self._loaded.pop(name, None)

    def reset_plugins(self) -> None:
        """Forget the entry-point scan and the plugins loaded from it, so the next unknown
        name scans again (after installing a distribution in a running process)."""
        if self._plugins is not None:
            for name in self._plugins:
                if name not in self._registered and name not in self.builtins:
                    self._loaded.pop(name, None)
        self._plugins = None

    def _entry_points(self) -> dict[str, EntryPoint]:
        if self._plugins is None:
            found: dict[str, EntryPoint] = {}
            for ep in entry_points(group=self.group):
                found.setdefault(ep.name, ep)
            self._plugins = found
        return self._plugins

    def _load(self, name: str, target: Any) -> T:
        if not isinstance(target, str):
            return target  # type: ignore[no-any-return]
        obj = load_path(target, purpose=f"the {self.kind} {name!r}")
        return self._adapt(obj)

    def get(self, name: str) -> T | None:
        """The object registered as ``name``, or ``None`` when no built-in, registered
        name or plugin has it.

        Raises:
            MissingExtra: the built-in or plugin needs an optional extra that is missing.
            ImportError: its module cannot be imported.
            TypeError: the loaded object does not fit (see ``adapt``).
        """
        hit = self._loaded.get(name)
        if hit is not None:
            return hit
        target = self._registered.get(name)
        if target is None:
            target = self.builtins.get(name)
        if target is not None:
            value = self._load(name, target)
        else:
            ep = self._entry_points().get(name)
            if ep is None:
                return None
            try:
                loaded = ep.load()
            except ImportError as exc:
                missing = missing_extra(exc, purpose=f"the {self.kind} plugin {name!r}")
                if missing is None:
                    raise
                raise missing from exc
            value = self._adapt(loaded)
        self._loaded[name] = value
        return value

    def names(self) -> list[str]:
        """Every known name, sorted: built-in, registered and plugin (scans the group)."""
        return sorted(set(self.builtins) | set(self._registered) | set(self._entry_points()))
