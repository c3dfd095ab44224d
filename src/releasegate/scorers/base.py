"""The check contract: the :class:`Scorer` protocol and the tri-state :class:`Score`.

A scorer is built from one :class:`~releasegate.scorers.spec.AssertSpec` by a factory
(:data:`ScorerFactory`, found by name in :mod:`releasegate.scorers.registry`), then
``await scorer.score(sample)`` returns a :class:`Score` for one
:class:`~releasegate.scorers.sample.Sample`.
"""

from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from releasegate.llm import Usage

if TYPE_CHECKING:
    from releasegate.llm import ChatProvider, EmbeddingProvider
    from releasegate.scorers.sample import Sample
    from releasegate.scorers.spec import AssertSpec

__all__ = [
    "InvalidScoreError",
    "Score",
    "ScoreStatus",
    "Scorer",
    "ScorerContext",
    "ScorerFactory",
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


@dataclass(slots=True)
class ScorerContext:
    """Shared resources handed to scorer factories (judges and embedders for
    model-graded checks). Deterministic scorers ignore it."""

    judge: ChatProvider | None = None
    embedder: EmbeddingProvider | None = None
    options: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Scorer(Protocol):
    """A check. ``requires`` names the :class:`~releasegate.scorers.sample.Sample`
    fields it needs (``context``, ``reference``, ``expected_behavior``); when one is
    missing or empty the dispatcher reports *not applicable* without calling it."""

    name: str
    requires: frozenset[str]
    #: a check passes when its value is at or above the spec's ``threshold``, else this
    default_threshold: float

    async def score(self, sample: Sample) -> Score: ...


ScorerFactory = Callable[["AssertSpec", ScorerContext], Scorer]
