"""The Scorer protocol, the tri-state Score, and the scorer registry.

A scorer is built from one :class:`~releasegate.scorers.spec.AssertSpec` by a factory
registered under a name, then ``await scorer.score(sample)`` returns a :class:`Score`.
Built-in scorers register exactly like plugins: by name, and plugins are discovered
through the ``releasegate.scorers`` entry-point group.
"""

from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from releasegate.errors import ConfigError, Issue
from releasegate.llm import Usage

if TYPE_CHECKING:
    from releasegate.datasets.case import Case
    from releasegate.llm import ChatProvider, EmbeddingProvider
    from releasegate.scorers.spec import AssertSpec

__all__ = [
    "InvalidScoreError",
    "Sample",
    "Score",
    "ScoreStatus",
    "Scorer",
    "ScorerContext",
    "ScorerFactory",
    "available_scorers",
    "build_scorer",
    "register_scorer",
    "score_checked",
]


class ScoreStatus(enum.StrEnum):
    """Tri-state outcome of a check."""

    MEASURED = "measured"
    UNMEASURED = "unmeasured"  # judge error, timeout, unparseable answer
    NOT_APPLICABLE = "not_applicable"  # an input the check needs is missing


class InvalidScoreError(ValueError):
    """A check produced a value that is not a score: not a finite number in [0, 1], or a
    value on a result that is not *measured*. The dispatcher reports the check as
    *unmeasured* with this message; the value is never clamped into range."""


def _show(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's int-to-text limit
        return f"<an integer of {value.bit_length()} bits>"
    return text if len(text) <= 60 else f"{text[:40]}…{text[-12:]}"


def _checked_value(value: Any) -> float:
    """``value`` as a float in [0, 1], or :class:`InvalidScoreError`."""
    if type(value) is float:  # the common case, kept cheap: NaN fails the comparison
        if 0.0 <= value <= 1.0:
            return value + 0.0  # -0.0 -> 0.0
    elif isinstance(value, bool) or not isinstance(value, numbers.Real | Decimal):
        raise InvalidScoreError(
            f"value {_show(value)} ({type(value).__name__}) is not a number"
            + ("; use Score.passed for a yes/no result" if isinstance(value, bool) else "")
        )
    else:
        try:
            number = float(value)
        except (OverflowError, ValueError):  # 10**400, Decimal("sNaN")
            raise InvalidScoreError(f"value {_show(value)} is not a finite number") from None
        if 0.0 <= number <= 1.0:
            return number + 0.0
        value = number
    if not math.isfinite(value):
        raise InvalidScoreError(f"value {value!r} is not a finite number")
    raise InvalidScoreError(f"value {value!r} is outside [0, 1]")


@dataclass(frozen=True, slots=True)
class Score:
    """A check's result: the tri-state outcome, its value and why.

    A *measured* score has a ``value`` that is a finite number in [0, 1] (ints and other
    real numbers are stored as ``float``); *unmeasured* and *not applicable* scores have
    ``value`` ``None``. The constructor enforces this and never clamps: 1.7 or NaN is a
    bug in the check, not a score of 1 or 0.

    Raises:
        InvalidScoreError: (on construction) the value breaks the contract above.
        TypeError: ``reason`` is not a string.
    """

    value: float | None
    status: ScoreStatus = ScoreStatus.MEASURED
    reason: str = ""
    usage: Usage | None = None  # judge/embedder tokens spent on this check
    cost_usd: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        status = self.status
        if type(status) is not ScoreStatus:
            try:
                status = ScoreStatus(status)
            except ValueError:
                raise InvalidScoreError(f"status {_show(status)} is not a score status") from None
            object.__setattr__(self, "status", status)
        if status is ScoreStatus.MEASURED:
            object.__setattr__(self, "value", _checked_value(self.value))
        elif self.value is not None:
            raise InvalidScoreError(f"a {status.value} score has no value, got {_show(self.value)}")
        if not isinstance(self.reason, str):
            raise TypeError(f"reason must be a string, got {type(self.reason).__name__}")

    @classmethod
    def measured(cls, value: float, reason: str = "", **kw: Any) -> Score:
        """A measured score.

        Args:
            value: a finite number in [0, 1]; anything else is refused, never clamped.
            reason: why, in one line.
            **kw: ``usage``, ``cost_usd``, ``details``.

        Raises:
            InvalidScoreError: ``value`` is not a finite number in [0, 1].
        """
        return cls(value, ScoreStatus.MEASURED, reason, **kw)

    @classmethod
    def passed(cls, ok: bool, reason: str = "", **kw: Any) -> Score:
        """A binary result: 1.0 when ``ok``, else 0.0."""
        return cls(1.0 if ok else 0.0, ScoreStatus.MEASURED, reason, **kw)

    @classmethod
    def unmeasured(cls, reason: str, **kw: Any) -> Score:
        """The check could not measure (judge error, unreadable answer, bad value)."""
        return cls(None, ScoreStatus.UNMEASURED, reason, **kw)

    @classmethod
    def not_applicable(cls, reason: str, **kw: Any) -> Score:
        """An input the check needs is missing."""
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


def _vouched(name: str, result: object) -> Score:
    """``result`` if it is a well-formed :class:`Score`, else *unmeasured* naming ``name``.

    The constructor already refuses bad values; this catches a result that is not a
    Score at all, or one whose fields were changed after construction.
    """
    if not isinstance(result, Score):
        return Score.unmeasured(f"check {name!r} returned {type(result).__name__}, not a Score")
    try:
        # Re-running the constructor's checks costs about a microsecond.
        Score(result.value, result.status, result.reason)
    except (InvalidScoreError, TypeError) as exc:
        return Score.unmeasured(f"check {name!r} produced an invalid score: {exc}")
    return result


async def score_checked(scorer: Scorer, sample: Sample) -> Score:
    """Run one check on one sample; whatever it does, the result is a valid Score.

    A check that raises is *unmeasured* with the exception as the reason; a value that
    is not a finite number in [0, 1] (NaN, 1.7, a string) is *unmeasured* with a reason
    that names the check and the value. A value is never clamped into range.

    Args:
        scorer: a built-in check or a plugin.
        sample: what the target produced for the case.

    Returns:
        The check's score, or an *unmeasured* one explaining why it has none.
    """
    name = str(getattr(scorer, "name", "") or type(scorer).__name__)
    try:
        result = await scorer.score(sample)
    except InvalidScoreError as exc:
        return Score.unmeasured(f"check {name!r} produced an invalid score: {exc}")
    except Exception as exc:
        return Score.unmeasured(f"{type(exc).__name__}: {exc}")
    return _vouched(name, result)
