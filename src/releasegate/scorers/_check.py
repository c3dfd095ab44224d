"""Building blocks of the deterministic checks: a base class, negation, and strict
parsing of an assert spec's ``value`` and options.

Factories raise :class:`ValueError` or :class:`TypeError` for bad arguments;
:func:`~releasegate.scorers.registry.build_scorer` turns them into a ``ConfigError`` that
names the file and the check, so messages here only say what is wrong.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from releasegate.scorers.base import Score, ScorerContext, ScorerFactory
from releasegate.scorers.sample import Sample

if TYPE_CHECKING:
    from releasegate.scorers.spec import AssertSpec

__all__ = [
    "Check",
    "Negated",
    "Options",
    "int_value",
    "negate",
    "number_value",
    "string_value",
    "terms_value",
]

# Keys a user may put on any assert for their own bookkeeping; checks ignore them.
_IGNORED_OPTIONS = frozenset({"name", "description", "metric"})


class Check(abc.ABC):
    """Base of the deterministic scorers.

    Subclasses implement :meth:`evaluate`, a synchronous pure function of the sample
    (these checks do no I/O, so there is nothing to await). :meth:`score` adds the
    policy shared by every check: a sample whose target call failed has no output to
    judge and scores 0 with the error as the reason.
    """

    requires: frozenset[str] = frozenset()
    default_threshold: float = 1.0
    #: pure CPU work: the engine runs it inline instead of scheduling it concurrently
    expensive: bool = False
    #: a binary check only ever scores 0 or 1, so it can be negated with ``not-``
    binary: bool = True

    def __init__(self, name: str) -> None:
        self.name = name

    async def score(self, sample: Sample) -> Score:
        """Score one sample (see :class:`~releasegate.scorers.base.Scorer`)."""
        if sample.error:
            return Score.measured(0.0, f"target error: {sample.error}")
        return self.evaluate(sample)

    @abc.abstractmethod
    def evaluate(self, sample: Sample) -> Score:
        """Score a sample whose target call succeeded."""


class Negated(Check):
    """The logical negation of a binary check: 1 where it scores 0 and vice versa.

    *Not applicable* and *unmeasured* results pass through unchanged; the inner reason
    is kept because it states the fact the verdict rests on ("matched 'foo'").
    """

    def __init__(self, name: str, inner: Check) -> None:
        super().__init__(name)
        self.inner = inner

    def evaluate(self, sample: Sample) -> Score:
        result = self.inner.evaluate(sample)
        if result.value is None:
            return result
        return Score.measured(1.0 - result.value, result.reason, details=result.details)


def negate(factory: ScorerFactory) -> ScorerFactory:
    """Wrap the factory of a binary check into the factory of its negation."""

    def build(spec: AssertSpec, ctx: ScorerContext) -> Check:
        inner = factory(spec, ctx)
        if not isinstance(inner, Check) or not inner.binary:
            raise TypeError(f"{spec.type!r} cannot negate a check that is not binary")
        return Negated(spec.type, inner)

    return build


class Options:
    """Typed, strict access to an assert spec's options.

    Unknown keys are an error, so a typo such as ``case_sensitve`` is reported instead
    of silently ignored.
    """

    def __init__(self, spec: AssertSpec, allowed: Iterable[str] = ()) -> None:
        self._opts: dict[str, Any] = spec.options
        allowed_set = frozenset(allowed)
        unknown = sorted(set(self._opts) - allowed_set - _IGNORED_OPTIONS)
        if unknown:
            hint = ", ".join(sorted(allowed_set)) if allowed_set else "none"
            raise ValueError(f"unknown option(s) {', '.join(unknown)} (allowed: {hint})")

    def has(self, key: str) -> bool:
        """Whether the user set ``key``."""
        return key in self._opts

    def raw(self, key: str) -> Any:
        """The option's value as written (``None`` when absent)."""
        return self._opts.get(key)

    def get_bool(self, key: str, default: bool) -> bool:
        """A true/false option."""
        val = self._opts.get(key, default)
        if not isinstance(val, bool):
            raise TypeError(f"option {key!r} must be true or false, got {val!r}")
        return val

    def get_int(self, key: str, default: int, *, minimum: int = 0) -> int:
        """An integer option at or above ``minimum``."""
        return int_value(self._opts.get(key, default), f"option {key!r}", minimum=minimum)

    def get_number(self, key: str, default: float, *, low: float, high: float) -> float:
        """A finite number option in ``[low, high]``."""
        val = number_value(self._opts.get(key, default), f"option {key!r}")
        if not low <= val <= high:
            raise ValueError(f"option {key!r} must be between {low} and {high}, got {val}")
        return val

    def get_str(self, key: str, default: str) -> str:
        """A string option."""
        val = self._opts.get(key, default)
        if not isinstance(val, str):
            raise TypeError(f"option {key!r} must be a string, got {val!r}")
        return val


def _scalar_text(val: Any) -> str | None:
    # YAML turns `value: 42` into an int; a user checking for "42" means the text.
    if isinstance(val, str):
        return val
    if isinstance(val, int | float) and not isinstance(val, bool):
        return str(val)
    return None


def string_value(spec: AssertSpec, *, allow_empty: bool = False) -> str:
    """The spec's ``value`` as one string (numbers are taken as their text)."""
    text = _scalar_text(spec.value)
    if text is None:
        raise TypeError(f"value must be a string, got {_describe(spec.value)}")
    if not text and not allow_empty:
        raise ValueError("value must not be empty")
    return text


def terms_value(spec: AssertSpec, *, allow_list: bool = True) -> tuple[str, ...]:
    """The spec's ``value`` as a tuple of non-empty strings (one string or a list)."""
    raw = spec.value
    items: list[Any]
    if isinstance(raw, list | tuple):
        if not allow_list:
            raise TypeError(
                f"value must be one string, got a list; use {spec.type}-all or "
                f"{spec.type}-any for several"
            )
        items = list(raw)
        if not items:
            raise ValueError("value must not be an empty list")
    else:
        items = [raw]
    terms: list[str] = []
    for i, item in enumerate(items):
        text = _scalar_text(item)
        where = f"value[{i}]" if len(items) > 1 or isinstance(raw, list | tuple) else "value"
        if text is None:
            kind = "a string or a list of strings" if allow_list else "a string"
            raise TypeError(f"{where} must be {kind}, got {_describe(item)}")
        if not text:
            raise ValueError(f"{where} must not be empty (an empty term matches any output)")
        terms.append(text)
    return tuple(terms)


def int_value(val: Any, what: str = "value", *, minimum: int = 0) -> int:
    """``val`` as an integer at or above ``minimum`` (``10.0`` is accepted, ``10.5`` not)."""
    if isinstance(val, bool) or not isinstance(val, int | float):
        raise TypeError(f"{what} must be an integer, got {_describe(val)}")
    if isinstance(val, float) and not val.is_integer():
        raise ValueError(f"{what} must be a whole number, got {val}")
    result = int(val)
    if result < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {val}")
    return result


def number_value(val: Any, what: str = "value") -> float:
    """``val`` as a finite float."""
    if isinstance(val, bool) or not isinstance(val, int | float):
        raise TypeError(f"{what} must be a number, got {_describe(val)}")
    num = float(val)
    if not math.isfinite(num):
        raise ValueError(f"{what} must be a finite number, got {val}")
    return num


def _describe(val: Any) -> str:
    if val is None:
        return "nothing (is `value:` missing?)"
    return f"{val!r} ({type(val).__name__})"
