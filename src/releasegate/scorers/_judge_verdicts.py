"""Reading the verdict lists of the RAG checks' judges.

A judge answers with a list of per-item verdicts (``{"supported": true}`` per claim,
``{"attributed": "no"}`` per statement, ``{"relevant": 1}`` per chunk). A verdict is a
yes/no value as :func:`~releasegate.scorers._judge_parse.parse_bool` reads it; anything
else (``"maybe"``, ``0.5``, ``"yes, but"``), a verdict given twice with different values
(``supported`` and ``verdict`` disagreeing, or the same key in two spellings), a missing
verdict, a wrong count, or claim numbers that are not 1..n each once raises
:class:`~releasegate.scorers._judge_parse.JudgeParseError`: the check is *unmeasured*,
never 0 or 1.
"""

from __future__ import annotations

from typing import Any

from releasegate.scorers._judge_parse import JudgeParseError, lowered_keys, parse_bool

__all__ = ["in_claim_order", "strings", "verdict_list"]


def strings(items: list[Any], what: str) -> list[str]:
    """``items`` as stripped strings; every item must be a non-empty string."""
    out = [s.strip() for s in items if isinstance(s, str) and s.strip()]
    if len(out) != len(items):
        raise JudgeParseError(f"{what} must be a list of non-empty strings")
    return out


def _claim_number(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    raise JudgeParseError(f"claim number {value!r} is not a whole number")


def in_claim_order(items: list[Any]) -> list[Any]:
    """The verdicts ordered by their ``claim`` number when the judge gave them, which
    must then be 1..n, each once: a verdict cannot be paired with a claim by guessing."""
    numbers = [
        lowered_keys(item).get("claim") if isinstance(item, dict) else None for item in items
    ]
    if all(n is None for n in numbers):
        return items
    if any(n is None for n in numbers):
        raise JudgeParseError("some claim verdicts give a claim number and some do not")
    order = [_claim_number(n) for n in numbers]
    if sorted(order) != list(range(1, len(items) + 1)):
        raise JudgeParseError(f"claim verdicts are numbered {order}, not 1 to {len(items)}")
    return [item for _, item in sorted(zip(order, items, strict=True), key=lambda p: p[0])]


def verdict_list(items: list[Any], key: str, n: int | None, what: str) -> list[bool]:
    """One verdict per item, read from ``key`` (or ``verdict``).

    Raises:
        JudgeParseError: wrong count, an item that is not an object, no verdict, a
            verdict that is not yes/no, or ``key`` and ``verdict`` that disagree.
    """
    if n is not None and len(items) != n:
        raise JudgeParseError(f"expected {n} {what} verdicts, got {len(items)}")
    out: list[bool] = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise JudgeParseError(f"{what} verdict {item!r} is not an object")
        lowered = lowered_keys(item)
        given = [(k, lowered[k]) for k in (key, "verdict") if lowered.get(k) is not None]
        if not given:
            raise JudgeParseError(f"{what} verdict {i} has no {key!r}")
        values = {parse_bool(v, what=f"{what} {i} {k}") for k, v in given}
        if len(values) > 1:
            raise JudgeParseError(f"{what} verdict {i} says both yes and no")
        out.append(values.pop())
    return out
