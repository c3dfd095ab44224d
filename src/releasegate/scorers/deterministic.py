"""Deterministic checks on a model's output.

Text checks (``equals``, the ``contains`` family, ``regex``, ``starts-with``), length
bounds (``max-words`` ...), and bounds on the call itself (``latency``, ``cost``) live
here; JSON, refusal and repetition checks have their own modules. The ``build_*``
factories are named by the built-in table of :mod:`releasegate.scorers.registry`;
importing this module registers nothing. ``docs/checks.md`` is the user reference.

All comparisons are made on NFC-normalised text; case-insensitive ones on the folded
form (see :mod:`releasegate.scorers._text`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from releasegate.scorers._check import (
    Check,
    Options,
    int_value,
    negate,
    number_value,
    string_value,
    terms_value,
)
from releasegate.scorers._text import fold, nfc, preview, quote_list
from releasegate.scorers.base import Score, ScorerContext
from releasegate.scorers.sample import Sample

if TYPE_CHECKING:
    from releasegate.scorers.spec import AssertSpec

__all__ = [
    "BoundCheck",
    "EqualsCheck",
    "LengthCheck",
    "RegexCheck",
    "StartsWithCheck",
    "TermsCheck",
]

TermsMode = Literal["all", "any", "none"]


def _case_sensitive(spec: AssertSpec, opts: Options, *, insensitive_variant: bool) -> bool:
    """Resolve ``case_sensitive`` against the ``i``-variant a user may have chosen."""
    if not insensitive_variant:
        return opts.get_bool("case_sensitive", True)
    if opts.get_bool("case_sensitive", False):
        plain = spec.type[1:] if spec.type.startswith("i") else spec.type.replace("-i", "-", 1)
        raise ValueError(f"{spec.type!r} is case-insensitive; drop case_sensitive or use {plain!r}")
    return False


class EqualsCheck(Check):
    """The output equals ``value`` (after optional stripping and case folding)."""

    def __init__(self, name: str, expected: str, *, case_sensitive: bool, strip: bool) -> None:
        super().__init__(name)
        self.expected = expected
        self._norm: Callable[[str], str] = nfc if case_sensitive else fold
        self._strip = strip
        self._target = self._norm(expected.strip() if strip else expected)

    def evaluate(self, sample: Sample) -> Score:
        text = sample.output or ""
        if self._strip:
            text = text.strip()
        if self._norm(text) == self._target:
            return Score.passed(True, f"equals {preview(self.expected)}")
        return Score.passed(False, f"expected {preview(self.expected)}, got {preview(text)}")


def build_equals(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``equals``: exact match; options ``case_sensitive`` (true) and ``strip`` (true)."""
    opts = Options(spec, {"case_sensitive", "strip"})
    return EqualsCheck(
        spec.type,
        string_value(spec, allow_empty=True),
        case_sensitive=opts.get_bool("case_sensitive", True),
        strip=opts.get_bool("strip", True),
    )


build_not_equals = negate(build_equals)


class TermsCheck(Check):
    """Looks for literal terms in the output.

    ``all``: score is the share of terms found. ``any``: 1 when at least one is found.
    ``none`` (forbidden terms): 1 when none is found.
    """

    def __init__(
        self, name: str, terms: tuple[str, ...], *, mode: TermsMode, case_sensitive: bool
    ) -> None:
        super().__init__(name)
        self.terms = terms
        self.mode: TermsMode = mode
        self.binary = mode != "all" or len(terms) == 1
        self._norm: Callable[[str], str] = nfc if case_sensitive else fold
        self._needles = tuple(self._norm(t) for t in terms)

    def evaluate(self, sample: Sample) -> Score:
        text = self._norm(sample.output or "")
        found = [t for t, n in zip(self.terms, self._needles, strict=True) if n in text]
        if self.mode == "all":
            missing = [t for t in self.terms if t not in found]
            if not missing:
                return Score.measured(1.0, f"found all {len(self.terms)}")
            return Score.measured(
                len(found) / len(self.terms),
                f"missing: {quote_list(missing)}",
                details={"missing": missing},
            )
        if self.mode == "any":
            if found:
                return Score.passed(True, f"found: {quote_list(found)}")
            return Score.passed(False, f"none found of: {quote_list(self.terms)}")
        if found:
            return Score.passed(False, f"forbidden: {quote_list(found)}", details={"found": found})
        return Score.passed(True, "no forbidden term")


def _terms_factory(
    mode: TermsMode, *, insensitive: bool, allow_list: bool
) -> Callable[[AssertSpec, ScorerContext], Check]:
    def build(spec: AssertSpec, ctx: ScorerContext) -> Check:
        opts = Options(spec, {"case_sensitive"})
        cs = _case_sensitive(spec, opts, insensitive_variant=insensitive)
        terms = terms_value(spec, allow_list=allow_list)
        return TermsCheck(spec.type, terms, mode=mode, case_sensitive=cs)

    return build


build_contains = _terms_factory("all", insensitive=False, allow_list=False)
build_icontains = _terms_factory("all", insensitive=True, allow_list=False)
build_contains_all = _terms_factory("all", insensitive=False, allow_list=True)
build_icontains_all = _terms_factory("all", insensitive=True, allow_list=True)
build_contains_any = _terms_factory("any", insensitive=False, allow_list=True)
build_icontains_any = _terms_factory("any", insensitive=True, allow_list=True)
build_not_contains = _terms_factory("none", insensitive=False, allow_list=True)
build_not_icontains = _terms_factory("none", insensitive=True, allow_list=True)


class RegexCheck(Check):
    """The output matches a regular expression (``re.search``, or full match)."""

    def __init__(self, name: str, pattern: re.Pattern[str], *, full: bool) -> None:
        super().__init__(name)
        self.pattern = pattern
        self._full = full

    def evaluate(self, sample: Sample) -> Score:
        text = nfc(sample.output or "")
        m = self.pattern.fullmatch(text) if self._full else self.pattern.search(text)
        if m is None:
            how = "does not fully match" if self._full else "no match for"
            return Score.passed(False, f"{how} /{self.pattern.pattern}/")
        return Score.passed(True, f"matched {preview(m.group(0), 40)} at {m.start()}")


_REGEX_FLAGS = {
    "i": re.IGNORECASE,
    "m": re.MULTILINE,
    "s": re.DOTALL,
    "x": re.VERBOSE,
    "a": re.ASCII,
}


def build_regex(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``regex``: Python ``re`` pattern; options ``flags`` ("imsxa") and ``full_match``."""
    opts = Options(spec, {"flags", "full_match"})
    pattern = string_value(spec)
    flags = 0
    for letter in opts.get_str("flags", ""):
        if letter not in _REGEX_FLAGS:
            raise ValueError(
                f"unknown regex flag {letter!r} in flags {opts.raw('flags')!r} "
                f"(allowed: {''.join(_REGEX_FLAGS)})"
            )
        flags |= _REGEX_FLAGS[letter]
    try:
        compiled = re.compile(nfc(pattern), flags)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return RegexCheck(spec.type, compiled, full=opts.get_bool("full_match", False))


build_not_regex = negate(build_regex)


class StartsWithCheck(Check):
    """The output starts with a prefix (leading whitespace ignored unless ``strip`` is
    false)."""

    def __init__(self, name: str, prefix: str, *, case_sensitive: bool, strip: bool) -> None:
        super().__init__(name)
        self.prefix = prefix
        self._norm: Callable[[str], str] = nfc if case_sensitive else fold
        self._needle = self._norm(prefix)
        self._strip = strip
        # Normalising can shrink text (composition), so look a generous window ahead.
        self._window = 4 * len(prefix) + 16

    def evaluate(self, sample: Sample) -> Score:
        text = sample.output or ""
        if self._strip:
            text = text.lstrip()
        head = text[: self._window]
        if self._norm(head).startswith(self._needle):
            return Score.passed(True, f"starts with {preview(self.prefix)}")
        return Score.passed(
            False,
            f"expected start {preview(self.prefix)}, got {preview(head[: len(self.prefix) + 10])}",
        )


def build_starts_with(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``starts-with``: options ``case_sensitive`` (true) and ``strip`` (true)."""
    opts = Options(spec, {"case_sensitive", "strip"})
    return StartsWithCheck(
        spec.type,
        string_value(spec),
        case_sensitive=opts.get_bool("case_sensitive", True),
        strip=opts.get_bool("strip", True),
    )


build_not_starts_with = negate(build_starts_with)


class LengthCheck(Check):
    """A bound on the number of words or characters of the output.

    Words are maximal runs of non-whitespace (Unicode whitespace). Characters are code
    points of the NFC form, so a letter with a combining accent counts once; surrounding
    whitespace is not counted unless ``strip`` is false.
    """

    def __init__(
        self, name: str, limit: int, *, unit: Literal["words", "chars"], upper: bool, strip: bool
    ) -> None:
        super().__init__(name)
        self.limit = limit
        self.unit = unit
        self.upper = upper
        self._strip = strip

    def evaluate(self, sample: Sample) -> Score:
        text = sample.output or ""
        if self.unit == "words":
            n = len(text.split())
        else:
            n = len(nfc(text.strip() if self._strip else text))
        ok = n <= self.limit if self.upper else n >= self.limit
        op = ("<=" if ok else ">") if self.upper else (">=" if ok else "<")
        bound = "max" if self.upper else "min"
        return Score.passed(ok, f"{n} {self.unit} {op} {bound} {self.limit}", details={"n": n})


def _length_factory(
    unit: Literal["words", "chars"], *, upper: bool
) -> Callable[[AssertSpec, ScorerContext], Check]:
    def build(spec: AssertSpec, ctx: ScorerContext) -> Check:
        opts = Options(spec, {"strip"} if unit == "chars" else ())
        limit = int_value(spec.value, "value", minimum=0)
        strip = opts.get_bool("strip", True)
        return LengthCheck(spec.type, limit, unit=unit, upper=upper, strip=strip)

    return build


build_max_words = _length_factory("words", upper=True)
build_min_words = _length_factory("words", upper=False)
build_max_chars = _length_factory("chars", upper=True)
build_min_chars = _length_factory("chars", upper=False)


class BoundCheck(Check):
    """An upper bound on a measured property of the call (latency or cost)."""

    def __init__(self, name: str, limit: float, *, field: Literal["latency_ms", "cost_usd"]):
        super().__init__(name)
        self.limit = limit
        self.field: Literal["latency_ms", "cost_usd"] = field

    def _fmt(self, v: float) -> str:
        return f"{v:.0f} ms" if self.field == "latency_ms" else f"${v:.6g}"

    def evaluate(self, sample: Sample) -> Score:
        v = sample.latency_ms if self.field == "latency_ms" else sample.cost_usd
        what = "latency" if self.field == "latency_ms" else "cost"
        if v is None:
            return Score.not_applicable(f"no {what} recorded for this sample")
        ok = v <= self.limit
        op = "<=" if ok else ">"
        return Score.passed(ok, f"{what} {self._fmt(v)} {op} max {self._fmt(self.limit)}")


def build_latency(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``latency``: value = maximum milliseconds."""
    Options(spec)
    limit = number_value(spec.value, "value (max milliseconds)")
    if limit <= 0:
        raise ValueError(f"value (max milliseconds) must be > 0, got {spec.value}")
    return BoundCheck(spec.type, limit, field="latency_ms")


def build_cost(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``cost``: value = maximum USD for the call."""
    Options(spec)
    limit = number_value(spec.value, "value (max USD)")
    if limit < 0:
        raise ValueError(f"value (max USD) must be >= 0, got {spec.value}")
    return BoundCheck(spec.type, limit, field="cost_usd")
