"""Repetition / loop detection (``repetition``, aliases ``no-repetition`` and ``loop``),
a cheap proxy for degenerate generation and hallucination.

Two signals, both on the case-folded text:

* **n-gram repetition ratio** ``r``: the share of the output's word n-grams (default
  n = 4) that repeat an n-gram seen earlier, ``r = 1 - distinct / total``. On Python's
  own docstrings (prose mixed with code examples) the median is 0.02 and the 99th
  percentile 0.21; a model stuck in a loop drives ``r`` towards 1.
  ``s_ngram = 1`` when ``r <= max_ratio``, else ``(1 - r) / (1 - max_ratio)``.
* **repeated units**: the output is split into lines and sentences; a unit of at least
  ``min_words`` words that occurs more than ``max_repeats`` times is a loop even when the
  text is too short for the ratio to be telling. With ``excess`` the number of extra
  copies of such units and ``units`` the number of units counted,
  ``s_unit = 1 - excess / units``.

The score is ``min(s_ngram, s_unit)``: 1 for no degenerate repetition, lower the more of
the output is repeated. Words are runs of Unicode word characters, so scripts written
without spaces count a whole run between punctuation as one word; the unit signal still
catches loops there.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from releasegate.scorers._check import Check, Options
from releasegate.scorers._text import fold, preview
from releasegate.scorers.base import Score, ScorerContext
from releasegate.scorers.sample import Sample

if TYPE_CHECKING:
    from releasegate.scorers.spec import AssertSpec

__all__ = ["RepetitionCheck", "RepetitionStats", "repetition_stats"]

_WORD = re.compile(r"\w+")
# A unit ends at a line break or at sentence-final punctuation (Latin and CJK); a run of
# them is one break, so "....." costs one split, not one per character.
_UNIT_SPLIT = re.compile(r"[\n.!?\u3002\uff01\uff1f]+")


@dataclass(frozen=True, slots=True)
class RepetitionStats:
    """What :func:`repetition_stats` measured on one text."""

    ngram_total: int
    ngram_distinct: int
    units: int
    #: units occurring more than the allowed number of times, with their counts
    repeated_units: tuple[tuple[str, int], ...]

    @property
    def ngram_ratio(self) -> float:
        """Share of n-grams that repeat an earlier one (0 when there are none)."""
        if self.ngram_total == 0:
            return 0.0
        return 1.0 - self.ngram_distinct / self.ngram_total

    @property
    def excess_copies(self) -> int:
        """Copies of repeated units beyond the first."""
        return sum(count - 1 for _, count in self.repeated_units)


def repetition_stats(
    text: str, *, n: int = 4, max_repeats: int = 2, min_words: int = 3
) -> RepetitionStats:
    """Measure word n-gram repetition and repeated lines/sentences in ``text``."""
    folded = fold(text)
    words = _WORD.findall(folded)
    total = max(0, len(words) - n + 1)
    # zip over shifted views builds each n-gram as a tuple without a Python-level loop.
    distinct = len(set(zip(*(words[i:] for i in range(n)), strict=False))) if total else 0
    counts: Counter[tuple[str, ...]] = Counter()
    for unit in _UNIT_SPLIT.split(folded):
        key = tuple(_WORD.findall(unit))
        if len(key) >= min_words:
            counts[key] += 1
    repeated = tuple((" ".join(key), c) for key, c in counts.most_common() if c > max_repeats)
    return RepetitionStats(total, distinct, sum(counts.values()), repeated)


class RepetitionCheck(Check):
    """Scores 1 for output without degenerate repetition, lower for looping output."""

    binary = False

    def __init__(
        self, name: str, *, n: int, max_ratio: float, max_repeats: int, min_words: int
    ) -> None:
        super().__init__(name)
        self.n = n
        self.max_ratio = max_ratio
        self.max_repeats = max_repeats
        self.min_words = min_words

    def evaluate(self, sample: Sample) -> Score:
        stats = repetition_stats(
            sample.output or "", n=self.n, max_repeats=self.max_repeats, min_words=self.min_words
        )
        r = stats.ngram_ratio
        s_ngram = 1.0 if r <= self.max_ratio else (1.0 - r) / (1.0 - self.max_ratio)
        s_unit = 1.0 - stats.excess_copies / stats.units if stats.units else 1.0
        parts = [f"{self.n}-gram repetition {r:.0%} (max {self.max_ratio:.0%})"]
        if stats.repeated_units:
            unit, count = stats.repeated_units[0]
            more = len(stats.repeated_units) - 1
            parts.append(
                f"{preview(unit, 40)} x{count}" + (f" and {more} more repeated" if more else "")
            )
        else:
            parts.append(f"no line or sentence more than {self.max_repeats}x")
        return Score.measured(
            min(s_ngram, s_unit),
            "; ".join(parts),
            details={"ngram_ratio": r, "repeated_units": len(stats.repeated_units)},
        )


def build_repetition(spec: AssertSpec, ctx: ScorerContext) -> Check:
    """``repetition``: options ``n`` (4), ``max_ratio`` (0.3), ``max_repeats`` (2) and
    ``min_words`` (3); see the module docstring for the formula."""
    opts = Options(spec, {"n", "max_ratio", "max_repeats", "min_words"})
    if spec.value is not None:
        raise ValueError("takes no value; tune it with the n, max_ratio, max_repeats options")
    return RepetitionCheck(
        spec.type,
        n=opts.get_int("n", 4, minimum=1),
        max_ratio=opts.get_number("max_ratio", 0.3, low=0.0, high=0.99),
        max_repeats=opts.get_int("max_repeats", 2, minimum=1),
        min_words=opts.get_int("min_words", 3, minimum=1),
    )
