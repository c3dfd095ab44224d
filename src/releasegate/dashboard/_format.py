"""Template filters: numbers, shares, times and money as a person reads them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment

from releasegate.reports._common import conversation_lines, tool_call_lines
from releasegate.reports._comparison_turns import turn_lines
from releasegate.results.comparison import TurnDelta

__all__ = ["install"]

_DASH = "\u2013"  # an en dash: "no value"


def _ok(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def pct(v: Any, digits: int = 1) -> str:
    """0.0512 -> ``5.1%``; None -> a dash."""
    return f"{100 * v:.{digits}f}%" if _ok(v) else _DASH


def num(v: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals (integers as they are); None -> a dash."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:.{digits}f}" if _ok(v) else _DASH


def signed(v: Any, digits: int = 4) -> str:
    """A difference with its sign: ``+0.0123``."""
    return f"{v:+.{digits}f}" if _ok(v) else _DASH


def ms(v: Any) -> str:
    """Milliseconds: ``840 ms``, ``1.25 s``."""
    if not _ok(v):
        return _DASH
    return f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.0f} ms"


def usd(v: Any) -> str:
    """US dollars with enough digits for a per-request cost."""
    if not _ok(v):
        return _DASH
    return f"${v:.4f}" if v >= 0.01 else f"${v:.6f}"


def when(v: Any) -> str:
    """A UTC timestamp: ``2030-05-01 12:00:03 UTC``."""
    return f"{v:%Y-%m-%d %H:%M:%S} UTC" if isinstance(v, datetime) else _DASH


def ago(v: Any, now: Any) -> str:
    """How long before ``now`` a timestamp was: ``12 s ago``, ``5 min ago``, ``3 h ago``,
    ``2 d ago`` (the time itself when it is in the future or not a time)."""
    if not isinstance(v, datetime) or not isinstance(now, datetime):
        return _DASH
    s = (now - v).total_seconds()
    if s < 0:
        return when(v)
    if s < 90:
        return f"{s:.0f} s ago"
    if s < 90 * 60:
        return f"{s / 60:.0f} min ago"
    if s < 48 * 3600:
        return f"{s / 3600:.0f} h ago"
    return f"{s / 86400:.0f} d ago"


def iso_when(v: Any) -> str:
    """An ISO 8601 timestamp (as reports write it) as :func:`when` shows times."""
    if isinstance(v, str):
        try:
            t = datetime.fromisoformat(v)
        except ValueError:
            return v
        return when(t.astimezone(UTC) if t.tzinfo is not None else t)
    return when(v)


def stat(v: Any) -> str:
    """Any value of a decision's numbers."""
    if isinstance(v, float):
        return num(v, 4) if abs(v) >= 1e-3 or v == 0 else f"{v:.3g}"
    if v is None:
        return _DASH
    return str(v)


def pretty(v: Any) -> str:
    """JSON, indented (for prompts, evidence and metadata)."""
    return json.dumps(v, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def groups(
    stats: dict[str, Any], signals: dict[str, str]
) -> list[tuple[str, str | None, list[tuple[str, Any]]]]:
    """A decision's numbers grouped by signal: ``[(signal, state, [(name, value)])]``.

    ``quality.lower`` goes to the ``quality`` group as ``lower``; signals without numbers
    get a group too (their state is news), and numbers without a dot go to ``general``.
    """
    out: dict[str, list[tuple[str, Any]]] = {name: [] for name in signals}
    for key, value in stats.items():
        group, _, name = key.partition(".") if "." in key else ("general", "", key)
        out.setdefault(group, []).append((name, value))
    ordered = sorted(out, key=lambda g: (g not in signals, g))
    return [(g, signals.get(g), sorted(out[g])) for g in ordered]


def conversation(messages: Any) -> str:
    """A conversation as text, one ``[role] text`` line per message (tool calls as
    ``[assistant] -> name(arguments)``); empty without one. Escaped by the template."""
    return "\n".join(conversation_lines(messages if isinstance(messages, list) else None))


def tool_calls(calls: Any) -> str:
    """Tool calls as text, one ``name(arguments)`` line each; empty without any."""
    return "\n".join(tool_call_lines(calls if isinstance(calls, list) else None))


def turn_messages(delta: Any) -> str:
    """A compared turn's messages on head as text, in the order exchanged (tool rounds,
    then the final reply); empty without any. Escaped by the template."""
    if isinstance(delta, dict):
        delta = TurnDelta.model_validate(delta)
    return "\n".join(turn_lines(delta))


def install(env: Environment) -> None:
    """Register the filters on ``env``."""
    env.filters.update(
        pct=pct,
        num=num,
        signed=signed,
        ms=ms,
        usd=usd,
        when=when,
        stat=stat,
        pretty=pretty,
        ago=ago,
        iso_when=iso_when,
        conversation=conversation,
        tool_calls=tool_calls,
        turn_messages=turn_messages,
    )
    env.globals["stat_groups"] = groups
