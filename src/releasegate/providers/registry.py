"""Provider registry: provider ``type`` names to factories.

Built-in providers register themselves with :func:`register_provider` when their module is
imported; :func:`build_provider` imports a built-in module only when its type is first
asked for, so the ``anthropic`` SDK (an extra) and the ``openai`` SDK are loaded only by
projects that use them. Third-party providers register the same way, through the
``releasegate.providers`` entry-point group: the entry point names the type and loads
either a factory ``(ProviderSpec) -> ChatProvider`` or a class with a ``from_spec``
classmethod.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from releasegate.config import ProviderConfig
from releasegate.errors import ConfigError, Issue
from releasegate.llm import ChatProvider
from releasegate.providers.identity import config_identity
from releasegate.providers.pricing import PriceTable

__all__ = [
    "ENTRY_POINT_GROUP",
    "ProviderFactory",
    "ProviderSpec",
    "build_provider",
    "known_provider_types",
    "register_provider",
]

ENTRY_POINT_GROUP = "releasegate.providers"

_BUILTIN_MODULES: dict[str, str] = {
    "openai": "releasegate.providers.openai",
    "anthropic": "releasegate.providers.anthropic",
    "python": "releasegate.providers.python",
    "http": "releasegate.providers.http",
    "scripted": "releasegate.providers.scripted",
    "replay": "releasegate.providers.replay",
    "local": "releasegate.providers.local",
}

_O = TypeVar("_O", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """Everything a provider factory gets: its name, config and the project context.

    Attributes:
        name: the provider's key under ``providers:`` in the config.
        config: its :class:`ProviderConfig` (common keys typed, the rest in ``options``).
        pricing: the project's price table.
        root: the project directory; relative paths in options resolve against it.
        source: the config file name, for error messages.
    """

    name: str
    config: ProviderConfig
    pricing: PriceTable
    root: Path
    source: str = "releasegate.yaml"

    def error(self, message: str, *, option: str | None = None) -> ConfigError:
        """A :class:`ConfigError` that names this provider (and option) and the problem."""
        where = f"providers.{self.name}" + (f".{option}" if option else "")
        return ConfigError(
            Issue(
                file=self.source,
                message=f"provider {self.name!r} (type {self.config.type!r}): {message}",
                field=where,
            )
        )

    def options(self, model: type[_O]) -> _O:
        """Validate the provider-specific options against ``model``.

        Raises:
            ConfigError: naming the provider, the option and what is wrong.
        """
        try:
            return model.model_validate(self.config.options)
        except ValidationError as exc:
            issues = []
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                msg = err["msg"]
                if err["type"] == "extra_forbidden":
                    known = ", ".join(sorted(model.model_fields)) or "none"
                    msg = f"unknown option (options of this type: {known})"
                issues.append(
                    Issue(
                        file=self.source,
                        message=f"provider {self.name!r} (type {self.config.type!r}): "
                        f"option {loc!r}: {msg}",
                        field=f"providers.{self.name}.{loc}",
                    )
                )
            raise ConfigError(issues) from exc

    def resolve(self, path: str | Path) -> Path:
        """``path`` relative to the project root (absolute paths are kept)."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.root / p


ProviderFactory = Callable[[ProviderSpec], ChatProvider]

_REGISTRY: dict[str, ProviderFactory] = {}
_T = TypeVar("_T")


def _as_factory(obj: Any) -> ProviderFactory:
    from_spec = getattr(obj, "from_spec", None)
    if callable(from_spec):
        return from_spec  # type: ignore[no-any-return]
    if callable(obj):
        return obj  # type: ignore[no-any-return]
    raise TypeError(f"{obj!r} is neither a provider factory nor a class with from_spec()")


def register_provider(type_name: str) -> Callable[[_T], _T]:
    """Register a provider under ``type_name``.

    Decorates either a :class:`ChatProvider` subclass with a ``from_spec(spec)``
    classmethod, or a factory function ``(spec: ProviderSpec) -> ChatProvider``.
    Registering a name again replaces the earlier entry (tests use this to swap fakes in).
    """

    def decorate(obj: _T) -> _T:
        _REGISTRY[type_name] = _as_factory(obj)
        if isinstance(obj, type) and issubclass(obj, ChatProvider) and not obj.type:
            obj.type = type_name
        return obj

    return decorate


def _plugin(type_name: str) -> ProviderFactory | None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == type_name:
            return _as_factory(ep.load())
    return None


def _lookup(type_name: str) -> ProviderFactory | None:
    factory = _REGISTRY.get(type_name)
    if factory is not None:
        return factory
    module = _BUILTIN_MODULES.get(type_name)
    if module is not None:
        importlib.import_module(module)  # registers on import
        return _REGISTRY.get(type_name)
    factory = _plugin(type_name)
    if factory is not None:
        _REGISTRY[type_name] = factory
    return factory


def known_provider_types() -> list[str]:
    """Built-in, registered and plugin provider types, sorted."""
    names = set(_BUILTIN_MODULES) | set(_REGISTRY)
    names |= {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def build_provider(
    name: str,
    cfg: ProviderConfig,
    *,
    pricing: PriceTable,
    root: Path,
    source: str = "releasegate.yaml",
) -> ChatProvider:
    """Construct the provider configured as ``providers.<name>``.

    Args:
        name: the provider's key in the config.
        cfg: its config.
        pricing: the project's price table (built-ins plus ``pricing:``).
        root: the project directory, for relative paths.
        source: the config file name used in error messages.

    Raises:
        ConfigError: unknown type or invalid options, naming the provider and the problem.
    """
    spec = ProviderSpec(name=name, config=cfg, pricing=pricing, root=root, source=source)
    factory = _lookup(cfg.type)
    if factory is None:
        raise spec.error(
            f"unknown provider type {cfg.type!r} (known: {', '.join(known_provider_types())})"
        )
    provider = factory(spec)
    if isinstance(provider, ChatProvider):
        provider.config_identity = config_identity(cfg)
    return provider
