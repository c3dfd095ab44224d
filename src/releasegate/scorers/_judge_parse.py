"""Tolerant parsing of judge answers.

Judges are asked for JSON (through the provider's structured-output support where there
is one), but small or hosted models still wrap it in prose, code fences or ``<think>``
blocks, use strings for numbers, or fall back to "Score: 0.8" lines. Everything here
either returns a clean value or raises :class:`JudgeParseError`, which callers turn into
an *unmeasured* score: a parse problem never becomes a 0 or a 1 and never crashes.

Ambiguity counts as a problem: two JSON objects or two "score" lines that disagree are
refused rather than guessed, so text a judge echoes from the answer under test cannot
override its own verdict. The same holds inside one JSON object: a key given twice (or
in two spellings, ``score`` and ``Score``) with different values, or two score keys
(``score``, ``rating``) that disagree, are refused; so is a JSON score with a "Score:"
line that says otherwise. How a score is written (decimal comma, percentages,
fractions): :mod:`releasegate.scorers._judge_score`.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from releasegate.scorers import _json_numbers
from releasegate.scorers._judge_delim import FENCE_RE
from releasegate.scorers._judge_score import (
    JudgeParseError,
    parse_score_expression,
    score_lines,
    unit_interval,
)

__all__ = [
    "JudgeParseError",
    "extract_json",
    "lowered_keys",
    "parse_bool",
    "parse_score",
    "parse_unit_float",
    "require_list",
]

_MAX_INPUT = 200_000  # judges answering with megabytes are broken; don't regex them


class _NoJson(JudgeParseError):
    """The answer holds no JSON object at all (as opposed to an ambiguous one)."""


_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.IGNORECASE | re.DOTALL)
# A fenced data block the judge may have echoed back: drop it whole, not just the markers.
_ECHO_RE = re.compile(
    r"<{2,}\s*data\b([^<>\n]{0,80})>{2,}.*?<{2,}\s*/\s*data\b\1>{2,}",
    re.IGNORECASE | re.DOTALL,
)
_REASON_LINE_RE = re.compile(
    r"^[\s*#>_-]*(?:reason|reasoning|explanation|rationale)[\s*_]*[:=]\s*(?P<text>.+)$",
    re.IGNORECASE | re.MULTILINE,
)
_SCORE_KEYS = ("score", "rating", "value", "grade")
_REASON_KEYS = ("reason", "reasoning", "explanation", "rationale", "justification")
_TRUE_WORDS = frozenset(
    {
        "true",
        "yes",
        "y",
        "1",
        "pass",
        "passed",
        "supported",
        "relevant",
        "attributed",
        "entailed",
        "correct",
        "noncommittal",
        "non-committal",
    }
)
_FALSE_WORDS = frozenset(
    {
        "false",
        "no",
        "n",
        "0",
        "fail",
        "failed",
        "unsupported",
        "not supported",
        "irrelevant",
        "not relevant",
        "not attributed",
        "contradicted",
        "incorrect",
        "committal",
    }
)


def _clean(text: str) -> str:
    if not isinstance(text, str):
        raise JudgeParseError(f"judge answer is not text ({type(text).__name__})")
    if len(text) > _MAX_INPUT:
        raise JudgeParseError(f"judge answer too long ({len(text)} characters)")
    text = _THINK_RE.sub("", text)
    text = _ECHO_RE.sub("", text)
    return FENCE_RE.sub("", text).strip()


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's dict, refusing a key given twice with different values (plain
    ``json`` silently keeps the last one)."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj and obj[key] != value:
            raise JudgeParseError(f"judge JSON gives {key!r} twice with different values")
        obj[key] = value
    return obj


_DECODER = _json_numbers.make_decoder(object_pairs_hook=_unique_keys)


def _json_candidates(text: str) -> list[Any]:
    """Every top-level JSON object embedded in ``text``, in order."""
    found: list[Any] = []
    i = 0
    while True:
        start = text.find("{", i)
        if start < 0:
            return found
        try:
            obj, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            i = start + 1
            continue
        found.append(obj)
        i = end  # skip nested objects of this one


def extract_json(text: str) -> dict[str, Any]:
    """The single JSON object in a judge answer.

    Numbers of any size are read exactly (a 5,000-digit integer is a number, not an
    error), so a range check can refuse them with a clear reason.

    Raises:
        JudgeParseError: no object, several objects that differ, or an object that
            gives one key two different values.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise _NoJson("judge answer is empty")
    try:
        whole = _DECODER.decode(cleaned)
    except (json.JSONDecodeError, RecursionError):
        whole = None
    if isinstance(whole, dict):
        return whole
    try:
        candidates = [c for c in _json_candidates(cleaned) if isinstance(c, dict)]
    except RecursionError as exc:
        raise JudgeParseError("judge answer nests JSON too deeply") from exc
    if not candidates:
        raise _NoJson(f"no JSON object in judge answer: {_preview(cleaned)}")
    first = candidates[0]
    if any(c != first for c in candidates[1:]):
        raise JudgeParseError("judge answer holds several different JSON objects")
    return first


def _preview(text: str, n: int = 80) -> str:
    one_line = " ".join(text.split())
    return repr(one_line[:n] + ("..." if len(one_line) > n else ""))


def parse_unit_float(value: Any, *, what: str = "score") -> float:
    """A number in [0, 1] from a JSON value.

    Accepts JSON numbers (of any size: out-of-range ones are refused, not rounded),
    ``true``/``false`` (1/0), and strings holding nothing but a score as
    :func:`~releasegate.scorers._judge_score.parse_score_expression` reads it
    (``"0.8"``, ``"0,8"``, ``"80%"``, ``"4/5"``).

    Raises:
        JudgeParseError: anything else, or a value outside [0, 1].
    """
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | Decimal):
        return unit_interval(value, what=what)
    if isinstance(value, str):
        return parse_score_expression(value, what=what)
    raise JudgeParseError(f"{what} has type {type(value).__name__}, expected a number")


def parse_bool(value: Any, *, what: str = "verdict") -> bool:
    """A yes/no verdict from a JSON value (booleans, 0/1, "yes", "supported" ...).

    Raises:
        JudgeParseError: anything else ("maybe", 0.5, "yes, but ...").
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = " ".join(value.split()).strip(".!").lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise JudgeParseError(f"{what} {_preview(repr(value), 60)} is not a yes/no verdict")


def lowered_keys(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with lower-cased keys.

    Raises:
        JudgeParseError: two spellings of one key (``Score``, ``score``) disagree.
    """
    lowered: dict[str, Any] = {}
    for key, value in obj.items():
        low = str(key).lower()
        if low in lowered and lowered[low] != value:
            raise JudgeParseError(f"judge JSON gives {low!r} twice with different values")
        lowered[low] = value
    return lowered


def _first_key(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    lowered = lowered_keys(obj)
    for key in keys:
        if key in lowered:
            return lowered[key]
    return None


def _agreed(values: list[float], where: str) -> float:
    first = values[0]
    if any(not math.isclose(v, first, rel_tol=1e-9, abs_tol=1e-12) for v in values[1:]):
        shown = ", ".join(f"{v:g}" for v in sorted(set(values)))
        raise JudgeParseError(f"judge answer gives conflicting scores {where}: {shown}")
    return first


def _score_from_json(obj: dict[str, Any]) -> float | None:
    lowered = lowered_keys(obj)
    present = [k for k in _SCORE_KEYS if k in lowered]
    if present:
        # The first key present is the score; another one ("rating" next to "score")
        # that also reads as a score must agree with it.
        scores = [parse_unit_float(lowered[present[0]])]
        for key in present[1:]:
            try:
                scores.append(parse_unit_float(lowered[key]))
            except JudgeParseError:
                continue  # "grade": "B" is not a second score
        return _agreed(scores, "in the JSON")
    verdict = _first_key(obj, ("verdict", "pass", "passed"))
    if verdict is None:
        return None
    return 1.0 if parse_bool(verdict) else 0.0


def parse_score(text: str) -> tuple[float, str]:
    """``(score, reason)`` from a judge answer: a JSON object, or "Score: x" lines.

    Both may be present only if they agree. Every "Score:" line must be well formed
    (see :mod:`releasegate.scorers._judge_score`), including one next to JSON.

    Raises:
        JudgeParseError: nothing readable, a malformed score, a score outside [0, 1],
            or conflicting scores.
    """
    cleaned = _clean(text)
    lines = score_lines(cleaned)
    line_values = [v for v, _ in lines]
    try:
        obj = extract_json(text)
    except _NoJson:
        if not lines:
            raise
        obj = {}
    score = _score_from_json(obj) if obj else None
    if score is None:
        if not lines:
            raise JudgeParseError(f"judge JSON has no score: keys {sorted(obj)[:8]}")
        reason_line = _REASON_LINE_RE.search(cleaned)
        reason = reason_line.group("text").strip() if reason_line else ""
        return _agreed(line_values, "on score lines"), reason
    if line_values:
        _agreed([score, *line_values], "in the JSON and on a score line")
    reason = _first_key(obj, _REASON_KEYS)
    return score, (str(reason).strip() if reason is not None else "")


def require_list(obj: dict[str, Any], *keys: str) -> list[Any]:
    """The list under the first of ``keys`` present in ``obj``."""
    value = _first_key(obj, keys)
    if value is None and len(obj) == 1:
        value = next(iter(obj.values()))  # {"items": [...]} under an unexpected name
    if not isinstance(value, list):
        raise JudgeParseError(f"judge JSON has no list under {' / '.join(keys)}")
    return value
