"""Tolerant parsing of judge answers.

Judges are asked for JSON (through the provider's structured-output support where there
is one), but small or hosted models still wrap it in prose, code fences or ``<think>``
blocks, use strings for numbers, or fall back to "Score: 0.8" lines. Everything here
either returns a clean value or raises :class:`JudgeParseError`, which callers turn into
an *unmeasured* score: a parse problem never becomes a 0 or a 1 and never crashes.

Ambiguity counts as a problem: two JSON objects or two "score" lines that disagree are
refused rather than guessed, so text a judge echoes from the answer under test cannot
override its own verdict.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from releasegate.scorers._judge_delim import FENCE_RE

__all__ = [
    "JudgeParseError",
    "extract_json",
    "parse_bool",
    "parse_score",
    "parse_unit_float",
    "require_list",
]

_MAX_INPUT = 200_000  # judges answering with megabytes are broken; don't regex them


class JudgeParseError(ValueError):
    """The judge's answer could not be read; the check is unmeasured."""


class _NoScoreLine(JudgeParseError):
    pass


_THINK_RE = re.compile(r"<think>.*?(</think>|$)", re.IGNORECASE | re.DOTALL)
# A fenced data block the judge may have echoed back: drop it whole, not just the markers.
_ECHO_RE = re.compile(
    r"<{2,}\s*data\b([^<>\n]{0,80})>{2,}.*?<{2,}\s*/\s*data\b\1>{2,}",
    re.IGNORECASE | re.DOTALL,
)
_SCORE_LINE_RE = re.compile(
    r"^[\s*#>_-]*(?:final\s+|overall\s+)?score[\s*_]*[:=]\s*\**\s*"
    r"(?P<num>[-+]?\d+(?:\.\d+)?)\s*(?:/\s*(?P<den>\d+(?:\.\d+)?))?",
    re.IGNORECASE | re.MULTILINE,
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
        "idk",
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


def _json_candidates(text: str) -> list[Any]:
    """Every top-level JSON object embedded in ``text``, in order."""
    decoder = json.JSONDecoder()
    found: list[Any] = []
    i = 0
    while True:
        start = text.find("{", i)
        if start < 0:
            return found
        try:
            obj, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            i = start + 1
            continue
        found.append(obj)
        i = end  # skip nested objects of this one


def extract_json(text: str) -> dict[str, Any]:
    """The single JSON object in a judge answer.

    Raises:
        JudgeParseError: no object, or several objects that differ.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise JudgeParseError("judge answer is empty")
    try:
        whole = json.loads(cleaned)
    except (json.JSONDecodeError, RecursionError):
        whole = None
    if isinstance(whole, dict):
        return whole
    try:
        candidates = [c for c in _json_candidates(cleaned) if isinstance(c, dict)]
    except RecursionError as exc:
        raise JudgeParseError("judge answer nests JSON too deeply") from exc
    if not candidates:
        raise JudgeParseError(f"no JSON object in judge answer: {_preview(cleaned)}")
    first = candidates[0]
    if any(c != first for c in candidates[1:]):
        raise JudgeParseError("judge answer holds several different JSON objects")
    return first


def _preview(text: str, n: int = 80) -> str:
    one_line = " ".join(text.split())
    return repr(one_line[:n] + ("..." if len(one_line) > n else ""))


def parse_unit_float(value: Any, *, what: str = "score") -> float:
    """A number in [0, 1] from a JSON value (numbers, numeric strings, "80%")."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        s = value.strip()
        percent = s.endswith("%")
        try:
            number = float(s.rstrip("%").strip())
        except ValueError as exc:
            raise JudgeParseError(f"{what} {value!r} is not a number") from exc
        if percent:
            number /= 100.0
    else:
        raise JudgeParseError(f"{what} has type {type(value).__name__}, expected a number")
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise JudgeParseError(f"{what} {number!r} is outside [0, 1]")
    return number


def parse_bool(value: Any, *, what: str = "verdict") -> bool:
    """A yes/no verdict from a JSON value (booleans, 0/1, "yes", "supported" ...)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().strip(".!").lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise JudgeParseError(f"{what} {value!r} is not a yes/no verdict")


def _first_key(obj: dict[str, Any], keys: tuple[str, ...]) -> Any:
    lowered = {str(k).lower(): v for k, v in obj.items()}
    for key in keys:
        if key in lowered:
            return lowered[key]
    return None


def _score_from_lines(cleaned: str) -> tuple[float, str]:
    values: set[float] = set()
    for m in _SCORE_LINE_RE.finditer(cleaned):
        num = float(m.group("num"))
        den = m.group("den")
        if den is not None:
            d = float(den)
            if d <= 0:
                raise JudgeParseError(f"score denominator {den} is not positive")
            num /= d
        values.add(parse_unit_float(num))
    if not values:
        raise _NoScoreLine(f"no score in judge answer: {_preview(cleaned)}")
    if len(values) > 1:
        raise JudgeParseError(f"judge answer gives conflicting scores {sorted(values)}")
    reason = _REASON_LINE_RE.search(cleaned)
    return values.pop(), (reason.group("text").strip() if reason else "")


def parse_score(text: str) -> tuple[float, str]:
    """``(score, reason)`` from a judge answer: JSON first, "Score: x" lines second.

    Raises:
        JudgeParseError: nothing readable, a score outside [0, 1], or conflicting scores.
    """
    try:
        obj = extract_json(text)
    except JudgeParseError as json_error:
        try:
            return _score_from_lines(_clean(text))
        except _NoScoreLine:
            raise json_error from None
    raw = _first_key(obj, _SCORE_KEYS)
    if raw is None:
        verdict = _first_key(obj, ("verdict", "pass", "passed"))
        if verdict is None:
            raise JudgeParseError(f"judge JSON has no score: keys {sorted(obj)[:8]}")
        score = 1.0 if parse_bool(verdict) else 0.0
    else:
        score = parse_unit_float(raw)
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
