"""The Scorer protocol, the tri-state Score, and the scorer registry.

A scorer is built from one :class:`~releasegate.evals.models.AssertSpec` by a factory
registered under a name, then ``await scorer.score(sample)`` returns a :class:`Score`.
Built-in scorers register exactly like plugins: by name, and plugins are discovered
through the ``releasegate.scorers`` entry-point group.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from releasegate.errors import ConfigError, Issue
from releasegate.providers.base import Usage

if TYPE_CHECKING:
    from releasegate.evals.models import AssertSpec, Case
    from releasegate.providers.base import ChatProvider, EmbeddingProvider

__all__ = [
    "Sample",
    "Score",
    "ScoreStatus",
    "Scorer",
    "ScorerContext",
    "ScorerFactory",
    "available_scorers",
    "build_scorer",
    "register_scorer",
]


class ScoreStatus(enum.StrEnum):
    """Tri-state outcome of a check."""

    MEASURED = "measured"
    UNMEASURED = "unmeasured"  # judge error, timeout, unparseable answer
    NOT_APPLICABLE = "not_applicable"  # an input the check needs is missing


@dataclass(frozen=True, slots=True)
class Score:
    """A check's result. ``value`` is in [0, 1] when measured, else ``None``."""

    value: float | None
    status: ScoreStatus = ScoreStatus.MEASURED
    reason: str = ""
    usage: Usage | None = None  # judge/embedder tokens spent on this check
    cost_usd: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def measured(cls, value: float, reason: str = "", **kw: Any) -> Score:
        v = float(value)
        if not 0.0 <= v <= 1.0:
            v = min(1.0, max(0.0, v))
        return cls(v, ScoreStatus.MEASURED, reason, **kw)

    @classmethod
    def passed(cls, ok: bool, reason: str = "", **kw: Any) -> Score:
        return cls.measured(1.0 if ok else 0.0, reason, **kw)

    @classmethod
    def unmeasured(cls, reason: str, **kw: Any) -> Score:
        return cls(None, ScoreStatus.UNMEASURED, reason, **kw)

    @classmethod
    def not_applicable(cls, reason: str, **kw: Any) -> Score:
        return cls(None, ScoreStatus.NOT_APPLICABLE, reason, **kw)


@dataclass(frozen=True, slots=True)
class Sample:
    """What a scorer sees: the case and what the target produced for it."""

    case: Case
    output: str
    latency_ms: float | None = None
    cost_usd: float | None = None
    usage: Usage | None = None
    error: str | None = None
    repeat: int = 0


@dataclass(slots=True)
class ScorerContext:
    """Shared resources handed to scorer factories (judges and embedders for
    model-graded checks). Deterministic scorers ignore it."""

    judge: ChatProvider | None = None
    embedder: EmbeddingProvider | None = None
    options: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Scorer(Protocol):
    """A check. ``requires`` names the case fields it needs (``context``,
    ``reference``, ``expected_behavior``); when one is missing the dispatcher reports
    *not applicable* without calling it."""

    name: str
    requires: frozenset[str]
    #: a check passes when its value is at or above the spec's ``threshold``, else this
    default_threshold: float

    async def score(self, sample: Sample) -> Score: ...


ScorerFactory = Callable[["AssertSpec", ScorerContext], Scorer]

_REGISTRY: dict[str, ScorerFactory] = {}
_ENTRY_POINTS_LOADED = False


def register_scorer(*names: str) -> Callable[[ScorerFactory], ScorerFactory]:
    """Decorator: register a scorer factory under one or more names."""

    def deco(factory: ScorerFactory) -> ScorerFactory:
        for name in names:
            _REGISTRY[name] = factory
        return factory

    return deco


def _load_builtins() -> None:
    # Built-ins register on import.
    import releasegate.scorers.builtin  # noqa: F401


def _load_entry_points() -> None:
    """Register plugins (entry-point group ``releasegate.scorers``); built-in names win.

    Scanning every installed distribution's metadata costs tens of milliseconds, so it
    happens only when a name is not built in, or when every name is asked for.
    """
    global _ENTRY_POINTS_LOADED
    _load_builtins()
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    for ep in entry_points(group="releasegate.scorers"):
        if ep.name not in _REGISTRY:
            _REGISTRY[ep.name] = ep.load()


def available_scorers() -> list[str]:
    """Names of every registered scorer, built-in and plugin."""
    _load_entry_points()
    return sorted(_REGISTRY)


def build_scorer(
    spec: AssertSpec, ctx: ScorerContext | None = None, *, where: str = "<dataset>"
) -> Scorer:
    """Build the scorer for one assert spec, or raise a :class:`ConfigError`."""
    _load_builtins()
    factory = _REGISTRY.get(spec.type)
    if factory is None:
        _load_entry_points()
        factory = _REGISTRY.get(spec.type)
    if factory is None:
        raise ConfigError(
            Issue(
                file=where,
                message=f"unknown check type {spec.type!r}; known: " + ", ".join(sorted(_REGISTRY)),
            )
        )
    try:
        return factory(spec, ctx or ScorerContext())
    except (ValueError, TypeError) as exc:
        raise ConfigError(Issue(file=where, message=f"check {spec.type!r}: {exc}")) from exc
