"""Markdown for the conversations of a comparison: multi-turn cases paired turn by turn
(every turn of both runs, a turn only one run has marked as such), and the conversation
and tool calls of newly failing cases.

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

__all__ = ["flip_conversations", "turn_lines", "turn_sections"]

_CHARS = 1_500
_MAX_CASES = 10


def _text(value: str | dict[str, Any] | None) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return ", ".join(f"{k}={v}" for k, v in value.items())


NOT_IN_BASE = "(not in baseline)"
NOT_IN_HEAD = "(not in this run)"


def _absent(t: TurnDelta) -> str:
    # The mark of a turn only one run has ("" for a paired turn).
    return NOT_IN_BASE if not t.in_base else NOT_IN_HEAD if not t.in_head else ""


def turn_lines(t: TurnDelta) -> list[str]:
    """Head's messages at one turn, in the order they were exchanged: each tool round's
    calls and results, then the final reply (``[assistant N]``, ``[tool ID]``). Reports
    written before a turn kept its messages give the reply, then its calls."""
    if t.head_messages:
        tag = f"[assistant {t.index}]"
        return [
            tag + line[len("[assistant]") :] if line.startswith("[assistant]") else line
            for line in conversation_lines(t.head_messages)
        ]
    lines = [f"[assistant {t.index}] {t.head_output}"] if t.head_output else []
    return lines + [f"[assistant {t.index}] -> {c}" for c in tool_call_lines(t.head_tool_calls)]


def _transcript(turns: list[TurnDelta]) -> str:
    lines: list[str] = []
    for t in turns:
        if not t.in_head:  # a turn only the baseline has: its user message, marked
            lines.append(f"[user {t.index}] {NOT_IN_HEAD} {_text(t.base_input)}".rstrip())
            continue
        mark = f" {NOT_IN_BASE}" if not t.in_base else ""
        lines.append(f"[user {t.index}]{mark} {_text(t.head_input)}".rstrip())
        lines += turn_lines(t)
    return fence(truncate(printable("\n".join(lines)), _CHARS))


def _score(base: float | None, head: float | None) -> str:
    return f"{fmt_score(base)} → {fmt_score(head)}"


def turn_sections(changes: list[CaseTurns]) -> list[str]:
    """The multi-turn cases whose turns changed: per-turn scores, every turn of both
    runs (one only a run has marked ``(not in baseline)`` or ``(not in this run)``),
    then the transcripts in a collapsed block (Markdown lines; ``[]`` without changes).
    """
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
            turn = f"{t.index} {_absent(t)}".rstrip()
            lines.append(
                f"| {case if i == 0 else ''} | {count if i == 0 else ''} | {turn} | "
                f"{_score(t.base_score, t.head_score)} | "
                f"{fmt_pct(t.base_pass_share)} → {fmt_pct(t.head_pass_share)} |"
            )
    if len(changes) > _MAX_CASES:
        lines.append(f"| … | {len(changes) - _MAX_CASES} more | | | |")
    lines.append("")
    if any(c.count_changed for c in changes):
        lines += [
            "<sub>⚠️ the number of turns changed: only turns both runs have are paired; "
            f"the others are marked {NOT_IN_BASE} or {NOT_IN_HEAD}</sub>",
            "",
        ]
    shown = [c for c in changes[:_MAX_CASES] if c.turns]
    if shown:
        lines += ["<details><summary>Conversations of these cases (head)</summary>", ""]
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
