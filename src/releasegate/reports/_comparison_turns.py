"""Markdown for the conversations of a comparison: multi-turn cases paired turn by turn,
and the conversation and tool calls of newly failing cases.

Every user-controlled string (ids, messages, tool names and arguments) is escaped in
table cells or shown inside a code fence no backtick run can close.
"""

from __future__ import annotations

from typing import Any

from releasegate.reports._common import (
    conversation_lines,
    fmt_pct,
    fmt_score,
    printable,
    tool_call_lines,
    truncate,
)
from releasegate.reports.markdown import escape_code, escape_inline, fence
from releasegate.results.comparison import CaseFlip, CaseTurns, TurnDelta

__all__ = ["flip_conversations", "turn_sections"]

_CHARS = 1_500
_MAX_CASES = 10


def _text(value: str | dict[str, Any] | None) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return ", ".join(f"{k}={v}" for k, v in value.items())


def _transcript(turns: list[TurnDelta]) -> str:
    lines: list[str] = []
    for t in turns:
        lines.append(f"[user {t.index}] {_text(t.head_input)}")
        if t.head_output:
            lines.append(f"[assistant {t.index}] {t.head_output}")
        lines += [f"[assistant {t.index}] -> {c}" for c in tool_call_lines(t.head_tool_calls)]
    return fence(truncate(printable("\n".join(lines)), _CHARS))


def _score(base: float | None, head: float | None) -> str:
    return f"{fmt_score(base)} → {fmt_score(head)}"


def turn_sections(changes: list[CaseTurns]) -> list[str]:
    """The multi-turn cases whose turns changed: per-turn scores, then head's
    transcripts in a collapsed block (Markdown lines; ``[]`` without changes)."""
    if not changes:
        return []
    lines = [
        f"**Multi-turn cases whose turns changed ({len(changes)})** — paired by case and turn",
        "",
        "| case | turns base → head | turn | score base → head | passed base → head |",
        "|---|---|--:|---|---|",
    ]
    for c in changes[:_MAX_CASES]:
        count = f"{c.base_turns} → {c.head_turns}" + (" ⚠️" if c.count_changed else "")
        case = f"`{escape_code(c.id)}`"
        if not c.turns:
            lines.append(f"| {case} | {count} | — | — | — |")
        for i, t in enumerate(c.turns):
            lines.append(
                f"| {case if i == 0 else ''} | {count if i == 0 else ''} | {t.index} | "
                f"{_score(t.base_score, t.head_score)} | "
                f"{fmt_pct(t.base_pass_share)} → {fmt_pct(t.head_pass_share)} |"
            )
    if len(changes) > _MAX_CASES:
        lines.append(f"| … | {len(changes) - _MAX_CASES} more | | | |")
    lines.append("")
    if any(c.count_changed for c in changes):
        lines += ["<sub>⚠️ the number of turns changed; only turns both have are paired</sub>", ""]
    shown = [c for c in changes[:_MAX_CASES] if c.turns]
    if shown:
        lines += ["<details><summary>Head's conversations of these cases</summary>", ""]
        for c in shown:
            lines += [f"`{escape_code(c.id)}`", "", _transcript(c.turns), ""]
        lines += ["</details>", ""]
    return lines


def flip_conversations(flips: list[CaseFlip]) -> list[str]:
    """The conversation and tool calls of newly failing cases that have them, in a
    collapsed block (Markdown lines; ``[]`` when none has either)."""
    blocks: list[str] = []
    for f in flips[:_MAX_CASES]:
        convo = conversation_lines(f.messages)
        calls = tool_call_lines(f.tool_calls)
        if not convo and not calls:
            continue
        blocks += [f"`{escape_code(f.id)}`", ""]
        if convo:
            blocks += ["conversation:", "", fence(truncate(printable("\n".join(convo)), _CHARS))]
            blocks.append("")
        if calls:
            blocks += ["tool calls:", "", fence(truncate(printable("\n".join(calls)), _CHARS))]
            blocks.append("")
    if not blocks:
        return []
    summary = "Conversations and tool calls of newly failing cases"
    return [f"<details><summary>{escape_inline(summary)}</summary>", "", *blocks, "</details>", ""]
