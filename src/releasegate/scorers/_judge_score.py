"""How a judge's score is written: the number grammar shared by JSON and "Score:" lines.

A score is one of

* a decimal number: ``0.8``, ``.8``, ``+0.8``, ``1``, ``8e-1``; a **decimal comma** is
  read as a decimal point (``0,8`` is 0.8), so a judge answering in a comma locale is
  read as it meant; a number with both a comma and a dot, or two commas, is refused, and
  so is one that may be a thousands separator (``1,000``: a nonzero whole part and
  exactly three digits after the comma);
* a percentage: ``80%``, ``80 %``, ``80 percent``;
* a fraction: ``4/5``, ``8 / 10``, ``4 out of 5``, ``4 of 5`` (the denominator must be
  positive).

Its value must be finite and in [0, 1]. On a "Score:" line the score may be followed by
text without digits ("Score: 0.8 - mostly right", "Score: 4/5."), but not glued to
letters or digits ("0.9.1", "0,9,1", "1e", "0.8x") and not followed by another number
("Score: 0.8 0.9", "Score: 1 point out of 5"), because then the reading is a guess. A
JSON string holding a score must be the score alone. Everything else raises
:class:`JudgeParseError`, which makes the check *unmeasured*; a malformed score is never
read as the number it happens to start with.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

__all__ = [
    "SCORE_LABEL_RE",
    "JudgeParseError",
    "parse_score_expression",
    "score_lines",
    "unit_interval",
]


class JudgeParseError(ValueError):
    """The judge's answer could not be read; the check is unmeasured."""


_NUM = r"[-+]?(?:[0-9]+(?:[.,][0-9]+)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_EXPR_RE = re.compile(
    rf"(?P<num>{_NUM})"
    r"(?:\s*(?P<pct>%|percent\b|per\s+cent\b)"
    rf"|\s*/\s*(?P<den>{_NUM})"
    rf"|\s+(?:out\s+of|of)\s+(?P<den_words>{_NUM}))?",
    re.IGNORECASE,
)
# A line that announces a score: "Score: ...", "**Final score:** ...", "RATING = ...".
SCORE_LABEL_RE = re.compile(
    r"^[ \t*#>_-]*(?:(?:final|overall)[ \t]+)?(?:score|rating)[ \t*_]*[:=]",
    re.IGNORECASE | re.MULTILINE,
)
_EMPHASIS = "*_`"
# Punctuation that may close a score ("0.8.", "0.8,", "(0.8)") when a space or the end
# of the line follows it.
_CLOSERS = frozenset(".,;:!?)]}\"'-\u2013\u2014")
_ANY_DIGIT = re.compile(r"\d")
# "1 out of five", "1 / ten": a fraction whose denominator is not a number.
_DANGLING_FRACTION = re.compile(r"\s*(?:/|out\s+of\b|of\b|%|percent\b)", re.IGNORECASE)


def _preview(text: str, n: int = 60) -> str:
    one_line = " ".join(text.split())
    return repr(one_line[:n] + ("..." if len(one_line) > n else ""))


def _number(token: str, whole: str) -> float:
    if "," in token:
        if "e" in token.lower():
            raise JudgeParseError(f"score {_preview(whole)} mixes a decimal comma and an exponent")
        whole_part, _, fraction = token.lstrip("+-").partition(",")
        if len(fraction) == 3 and whole_part.strip("0"):
            # "1,000" is one in a comma locale and a thousand in an English one.
            raise JudgeParseError(
                f"score {_preview(whole)} is ambiguous: {token!r} may hold a thousands separator"
            )
        token = token.replace(",", ".")
    return float(token)


def unit_interval(number: float | Decimal, *, what: str = "score") -> float:
    """``number`` as a float in [0, 1] (``-0.0`` becomes ``0.0``).

    Raises:
        JudgeParseError: not finite, or outside [0, 1].
    """
    value = float(number)  # a huge Decimal becomes inf: refused below
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        shown = repr(value) if math.isfinite(value) else _preview(str(number), 40)
        raise JudgeParseError(f"{what} {shown} is outside [0, 1]")
    return value + 0.0


def _check_rest(rest: str, whole: str, *, allow_text: bool) -> None:
    rest = rest.lstrip(_EMPHASIS)
    if not rest.strip():
        return
    first, second = rest[0], rest[1:2]
    glued = not first.isspace() and not (
        first in _CLOSERS and (not second or second.isspace() or second in _CLOSERS)
    )
    if glued:
        raise JudgeParseError(f"score {_preview(whole)} is not a well-formed number")
    if not allow_text:
        raise JudgeParseError(f"score {_preview(whole)} has text after the number")
    if _DANGLING_FRACTION.match(rest):
        raise JudgeParseError(
            f"score {_preview(whole)} is a fraction without a numeric denominator"
        )
    if _ANY_DIGIT.search(rest):
        raise JudgeParseError(
            f"score {_preview(whole)} has another number after the score; refusing to guess"
        )


def parse_score_expression(text: str, *, allow_text: bool = False, what: str = "score") -> float:
    """The value in [0, 1] of a score written as text (see the module docstring).

    Args:
        text: the score, e.g. ``"0.8"``, ``"80%"``, ``"4 out of 5"``.
        allow_text: accept text without digits after the score (a "Score:" line).
        what: the name used in error messages.

    Raises:
        JudgeParseError: not a well-formed score, or a value outside [0, 1].
    """
    body = text.strip().lstrip(" \t" + _EMPHASIS)
    m = _EXPR_RE.match(body)
    if m is None:
        raise JudgeParseError(f"{what} {_preview(text)} is not a number")
    _check_rest(body[m.end() :], text, allow_text=allow_text)
    value = _number(m["num"], text)
    if m["pct"]:
        value /= 100.0
    den_text = m["den"] or m["den_words"]
    if den_text is not None:
        den = _number(den_text, text)
        if not den > 0.0:
            raise JudgeParseError(f"{what} {_preview(text)} has a denominator that is not positive")
        value /= den
    return unit_interval(value, what=what)


def score_lines(cleaned: str) -> list[tuple[float, str]]:
    """Every "Score: x" line of a cleaned judge answer, as ``(value, line)``.

    Raises:
        JudgeParseError: a line announces a score that is not well formed.
    """
    found: list[tuple[float, str]] = []
    for m in SCORE_LABEL_RE.finditer(cleaned):
        end = cleaned.find("\n", m.end())
        line_end = len(cleaned) if end < 0 else end
        rest = cleaned[m.end() : line_end]
        line = cleaned[m.start() : line_end]
        try:
            value = parse_score_expression(rest, allow_text=True)
        except JudgeParseError as exc:
            raise JudgeParseError(f"score line {_preview(line)}: {exc}") from None
        found.append((value, line.strip()))
    return found
