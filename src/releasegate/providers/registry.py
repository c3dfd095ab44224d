"""Provider and embedder registries: ``type`` names to factories.

Built-in types are a table of ``"module:attribute"`` paths (see
:class:`releasegate._registry.Registry`): :func:`build_provider` and
:func:`build_embedder` import a built-in module only when its type is first asked for,
so the ``anthropic`` SDK (an extra), the ``openai`` SDK and the local models are loaded
only by projects that use them. Third-party types register the same way, with
:func:`register_provider` / :func:`register_embedder` or through the
``releasegate.providers`` / ``releasegate.embedders`` entry-point groups: the name is
the type, the object either a factory ``(ProviderSpec) -> provider`` or a class with a
``from_spec`` classmethod. A built-in name always wins over a plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from releasegate._optional import MissingExtra
from releasegate._registry import Registry
from releasegate.config import ProviderConfig
from releasegate.errors import ConfigError, Issue
from releasegate.llm import ChatProvider, EmbeddingProvider
from releasegate.providers.identity import config_identity
from releasegate.providers.pricing import PriceTable

__all__ = [
    "EMBEDDERS",
    "EMBEDDER_ENTRY_POINT_GROUP",
    "ENTRY_POINT_GROUP",
    "PROVIDERS",
    "EmbedderFactory",
    "ProviderFactory",
    "ProviderSpec",
    "build_embedder",
    "build_provider",
    "known_embedder_types",
    "known_provider_types",
    "register_embedder",
    "register_provider",
]

ENTRY_POINT_GROUP = "releasegate.providers"
EMBEDDER_ENTRY_POINT_GROUP = "releasegate.embedders"

_P = "releasegate.providers"
_BUILTIN_PROVIDERS: dict[str, str] = {
    "openai": f"{_P}.openai:OpenAIProvider",
    "anthropic": f"{_P}.anthropic:AnthropicProvider",
    "python": f"{_P}.python:PythonProvider",
    "http": f"{_P}.http:HttpProvider",
    "scripted": f"{_P}.scripted:ScriptedProvider",
    "replay": f"{_P}.replay:ReplayProvider",
    "local": f"{_P}.local:LocalProvider",
}
_BUILTIN_EMBEDDERS: dict[str, str] = {
    "local": f"{_P}.embeddings:LocalEmbedder",
    "openai": f"{_P}.embeddings:OpenAIEmbedder",
}

_O = TypeVar("_O", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """Everything a provider or embedder factory gets: its name, config and the project
    context.

    Attributes:
        name: the provider's key under ``providers:`` in the config.
        config: its :class:`ProviderConfig` (common keys typed, the rest in ``options``).
        pricing: the project's price table.
        root: the project directory; relative paths in options resolve against it.
        source: the config file name, for error messages.
        kind: ``"provider"`` or ``"embedder"``: what error messages call it.
    """

    name: str
    config: ProviderConfig
    pricing: PriceTable
    root: Path
    source: str = "releasegate.yaml"
    kind: str = "provider"

    def error(self, message: str, *, option: str | None = None) -> ConfigError:
        """A :class:`ConfigError` that names this provider (and option) and the problem."""
        where = f"providers.{self.name}" + (f".{option}" if option else "")
        return ConfigError(
            Issue(
                file=self.source,
                message=f"{self.kind} {self.name!r} (type {self.config.type!r}): {message}",
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
                        message=f"{self.kind} {self.name!r} (type {self.config.type!r}): "
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
EmbedderFactory = Callable[[ProviderSpec], EmbeddingProvider]

_T = TypeVar("_T")


def _as_factory(obj: Any) -> Callable[[ProviderSpec], Any]:
    from_spec = getattr(obj, "from_spec", None)
    if callable(from_spec):
        return from_spec  # type: ignore[no-any-return]
    if callable(obj):
        return obj  # type: ignore[no-any-return]
    raise TypeError(f"{obj!r} is neither a factory nor a class with from_spec()")


PROVIDERS: Registry[ProviderFactory] = Registry(
    "provider", ENTRY_POINT_GROUP, _BUILTIN_PROVIDERS, adapt=_as_factory
)
"""Provider type -> factory. Prefer :func:`register_provider` and :func:`build_provider`."""

EMBEDDERS: Registry[EmbedderFactory] = Registry(
    "embedder", EMBEDDER_ENTRY_POINT_GROUP, _BUILTIN_EMBEDDERS, adapt=_as_factory
)
"""Embedder type -> factory. Prefer :func:`register_embedder` and :func:`build_embedder`."""


def register_provider(type_name: str) -> Callable[[_T], _T]:
    """Register a provider under ``type_name``.

    Decorates either a :class:`ChatProvider` subclass with a ``from_spec(spec)``
    classmethod, or a factory function ``(spec: ProviderSpec) -> ChatProvider``.
    Registering a name again replaces the earlier entry, a built-in one included (tests
    use this to swap fakes in).
    """

    def decorate(obj: _T) -> _T:
        PROVIDERS.register(type_name, obj)
        if isinstance(obj, type) and issubclass(obj, ChatProvider) and not obj.type:
            obj.type = type_name
        return obj

    return decorate


def register_embedder(type_name: str) -> Callable[[_T], _T]:
    """Register an embedder under ``type_name``.

    Decorates either an :class:`EmbeddingProvider` subclass with a ``from_spec(spec)``
    classmethod, or a factory function ``(spec: ProviderSpec) -> EmbeddingProvider``.
    Registering a name again replaces the earlier entry, a built-in one included.
    """

    def decorate(obj: _T) -> _T:
        EMBEDDERS.register(type_name, obj)
        return obj

    return decorate


def known_provider_types() -> list[str]:
    """Built-in, registered and plugin provider types, sorted."""
    return PROVIDERS.names()


def known_embedder_types() -> list[str]:
    """Built-in, registered and plugin embedder types, sorted."""
    return EMBEDDERS.names()


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
        MissingExtra: the type needs an optional extra that is not installed.
    """
    spec = ProviderSpec(name=name, config=cfg, pricing=pricing, root=root, source=source)
    factory = PROVIDERS.get(cfg.type)
    if factory is None:
        raise spec.error(
            f"unknown provider type {cfg.type!r} (known: {', '.join(known_provider_types())})"
        )
    provider = factory(spec)
    if isinstance(provider, ChatProvider):
        provider.config_identity = config_identity(cfg)
    return provider


def build_embedder(
    name: str,
    cfg: ProviderConfig,
    *,
    root: Path,
    source: str = "releasegate.yaml",
    pricing: PriceTable | None = None,
) -> EmbeddingProvider:
    """Construct the embedder configured as ``providers.<name>``.

    Args:
        name: the embedder's key in the config.
        cfg: its config.
        root: the project directory, for relative paths.
        source: the config file name used in error messages.
        pricing: the project's price table, for plugins that price their calls.

    Raises:
        ConfigError: unknown type (listing the known ones), missing model or key,
            invalid options, or a type whose optional extra is not installed (the
            message is the install command).
    """
    spec = ProviderSpec(
        name=name,
        config=cfg,
        pricing=pricing or PriceTable(),
        root=root,
        source=source,
        kind="embedder",
    )
    try:
        factory = EMBEDDERS.get(cfg.type)
        if factory is None:
            raise spec.error(f"unknown embedder type (known: {', '.join(known_embedder_types())})")
        return factory(spec)
    except MissingExtra as exc:
        raise spec.error(str(exc)) from None
