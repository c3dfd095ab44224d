"""Multi-turn cases are compared by case id and turn; conversations and tool calls of
changed cases are rendered readably and escaped."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from releasegate.evals.comparison import compare_reports
from releasegate.reports.comparison import render_comparison_markdown, render_comparison_terminal
from releasegate.results.report import EvalReport, TurnResult
from tests.unit.compare._reports import Row, make_report

CALL = {
    "id": "c1",
    "type": "function",
    "function": {"name": "refund", "arguments": '{"order": "<b>42</b>"}'},
}


def _turns(scores: list[float], calls: dict[int, list[Any]] | None = None) -> list[TurnResult]:
    return [
        TurnResult(
            index=i,
            input=f"user says {i}",
            output=f"reply {i}",
            score=s,
            passed=s >= 0.5,
            tool_calls=(calls or {}).get(i),
        )
        for i, s in enumerate(scores)
    ]


def _stored(
    tmp_path: Path, name: str, turns: dict[str, list[TurnResult]], **extra: Any
) -> EvalReport:
    ids = ["steady", "dropped", "grew", "plain"]
    report = make_report([Row(i, 1.0) for i in ids], run_id=name)
    cases = []
    for c in report.cases:
        t = turns.get(c.id)
        update: dict[str, Any] = {"turns": t} if t is not None else {}
        if c.id == "plain":
            update.update(extra)
        cases.append(c.model_copy(update=update))
    path = tmp_path / f"{name}.json"
    report.model_copy(update={"cases": cases}).write(path)
    return EvalReport.load(path)


def test_turns_are_paired_by_case_and_index(tmp_path: Path) -> None:
    base = _stored(
        tmp_path,
        "base",
        {"steady": _turns([1.0, 1.0]), "dropped": _turns([1.0, 1.0]), "grew": _turns([1.0, 0.5])},
    )
    head = _stored(
        tmp_path,
        "head",
        {
            "steady": _turns([1.0, 1.0]),
            "dropped": _turns([1.0, 0.0], {1: [CALL]}),
            "grew": _turns([1.0, 0.5, 0.0]),
        },
    )
    cmp = compare_reports(base, head)
    by_id = {t.id: t for t in cmp.turn_changes}
    assert set(by_id) == {"dropped", "grew"}  # the unchanged conversation is not listed
    dropped = by_id["dropped"]
    assert not dropped.count_changed
    assert [(t.index, t.base_score, t.head_score) for t in dropped.turns] == [
        (0, 1.0, 1.0),
        (1, 1.0, 0.0),
    ]
    assert dropped.turns[1].delta == -1.0 and dropped.turns[1].head_tool_calls == [CALL]
    grew = by_id["grew"]
    assert (grew.base_turns, grew.head_turns) == (2, 3) and grew.count_changed
    # only the turns both have are paired: head's third turn is listed, set against nothing
    assert [(t.index, t.delta, t.in_base, t.in_head) for t in grew.turns] == [
        (0, 0.0, True, True),
        (1, 0.0, True, True),
        (2, None, False, True),
    ]
    assert (grew.turns[2].base_score, grew.turns[2].base_pass_share) == (None, None)
    assert any("different number of turns" in n for n in cmp.notes)

    md = render_comparison_markdown(cmp)
    assert "Multi-turn cases whose turns changed (2)" in md
    assert "| 2 → 3 ⚠️ |" in md
    assert "|  |  | 2 (not in baseline) | — → 0.000 | — → 0.0% |" in md
    assert "[user 2] (not in baseline) user says 2" in md
    assert "[user 1] user says 1" in md and "[assistant 1] -> refund(" in md
    # the arguments are shown as sent, inside a code fence, never as live HTML
    assert '{"order": "<b>42</b>"}' in md
    assert "<b>" not in re.sub(r"```text\n.*?\n```", "", md, flags=re.S)


def test_a_case_that_stopped_being_multi_turn_is_listed(tmp_path: Path) -> None:
    base = _stored(tmp_path, "base", {"grew": _turns([1.0, 1.0])})
    head = _stored(tmp_path, "head", {})
    cmp = compare_reports(base, head)
    (change,) = cmp.turn_changes
    assert (change.id, change.base_turns, change.head_turns) == ("grew", 2, 0)
    assert [(t.index, t.in_base, t.in_head, t.base_score) for t in change.turns] == [
        (0, True, False, 1.0),
        (1, True, False, 1.0),
    ]
    md = render_comparison_markdown(cmp)
    assert "| `grew` | 2 → 0 ⚠️ | 0 (not in this run) | 1.000 → — | 100.0% → — |" in md
    assert "[user 1] (not in this run) user says 1" in md
    console = Console(record=True, width=200)
    render_comparison_terminal(cmp, console)
    assert "turn 1 1.000 → — (not in this run)" in console.export_text()


def test_newly_failing_case_shows_its_conversation_and_tool_calls(tmp_path: Path) -> None:
    base = _stored(tmp_path, "base", {})
    messages = [
        {"role": "user", "content": "refund | order ```42```"},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
    ]
    head = _stored(tmp_path, "head", {}, messages=messages, tool_calls=[CALL], score=0.0)
    head = head.model_copy(
        update={
            "cases": [
                c.model_copy(update={"passed": False}) if c.id == "plain" else c for c in head.cases
            ]
        }
    )
    cmp = compare_reports(base, head)
    (flip,) = cmp.newly_failing
    assert flip.messages == messages and flip.tool_calls == [CALL]
    md = render_comparison_markdown(cmp)
    block = md.split("Conversations and tool calls of newly failing cases", 1)[1]
    assert "[user] refund | order ```42```" in block
    assert "[assistant] -> refund(" in block and "[tool c1] done" in block
    assert "````text" in block  # the fence outlasts the backticks inside


def test_compare_command_reports_turns_of_stored_reports(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from releasegate.cli import app

    _stored(tmp_path, "base", {"grew": _turns([1.0, 1.0])})
    _stored(tmp_path, "head", {"grew": _turns([1.0, 0.0, 1.0])})
    args = ["compare", str(tmp_path / "base.json"), str(tmp_path / "head.json")]
    out = tmp_path / "cmp.md"
    result = CliRunner().invoke(
        app, [*args, "-o", str(tmp_path / "c.json"), "--markdown", str(out)]
    )
    assert result.exit_code in (0, 1), result.output
    data = json.loads((tmp_path / "c.json").read_text())
    (change,) = data["turn_changes"]
    assert (change["id"], change["base_turns"], change["head_turns"]) == ("grew", 2, 3)
    assert [(t["index"], t["in_base"]) for t in change["turns"]] == [
        (0, True),
        (1, True),
        (2, False),
    ]
    assert "| 2 → 3 ⚠️ |" in out.read_text()


NASTY = "<script>x</script> | ```end``` *bold*"
NEW, GONE = "(not in baseline)", "(not in this run)"


def _said(scores: list[float], prefix: str) -> list[TurnResult]:
    return [
        t.model_copy(update={"input": f"{prefix} {i} {NASTY}", "output": f"{prefix} reply {i}"})
        for i, t in enumerate(_turns(scores))
    ]


@pytest.mark.parametrize(
    ("base_scores", "head_scores", "marks"),
    [
        pytest.param([1.0], [1.0, 0.0, 1.0], ["", NEW, NEW], id="grown"),
        pytest.param([1.0, 1.0, 0.0], [0.0], ["", GONE, GONE], id="shrunk"),
        pytest.param([1.0, 1.0], [1.0, 0.0], ["", ""], id="equal"),
    ],
)  # fmt: skip
def test_every_turn_of_both_runs_is_shown_marked_and_escaped(
    tmp_path: Path, base_scores: list[float], head_scores: list[float], marks: list[str]
) -> None:
    base = _stored(tmp_path, "base", {"grew": _said(base_scores, "base")})
    head = _stored(tmp_path, "head", {"grew": _said(head_scores, "head")})
    cmp = compare_reports(base, head)
    (change,) = cmp.turn_changes
    assert [t.index for t in change.turns] == list(range(len(marks)))
    md = render_comparison_markdown(cmp)
    table = md.split("Multi-turn cases whose turns changed", 1)[1].split("<details>", 1)[0]
    rows = [r for r in table.splitlines() if r.startswith("| ") and "turns base" not in r]
    assert len(rows) == len(marks)
    for row, index, mark in zip(rows, range(len(marks)), marks, strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[2] == f"{index} {mark}".rstrip()
        if mark == "(not in baseline)":
            assert cells[3].startswith("— → ") and cells[4].startswith("— → ")
        elif mark == "(not in this run)":
            assert cells[3].endswith(" → —") and cells[4].endswith(" → —")
    transcript = md.split("Conversations of these cases", 1)[1]
    for index, mark in enumerate(marks):
        side = "base" if mark == "(not in this run)" else "head"
        line = f"[user {index}] {mark} {side} {index} {NASTY}".replace("  ", " ")
        assert line in transcript
    assert ("(not in" in md) == any(marks)
    assert ("only turns both runs have are paired" in md) == any(marks)
    # user text stays inside code fences, never live HTML or a closed fence
    outside = re.sub(r"(`{3,})text\n.*?\n\1", "", md, flags=re.S)
    assert "<script>" not in outside and "*bold*" not in outside


_ROUND_CALL = {
    "id": "w1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Rome"}'},
}


@pytest.mark.parametrize(
    ("messages", "want"),
    [
        pytest.param(  # one tool round, then the final reply
            [
                {"role": "assistant", "content": None, "tool_calls": [_ROUND_CALL]},
                {"role": "tool", "tool_call_id": "w1", "content": "25 degrees"},
                {"role": "assistant", "content": "It is 25 degrees in Rome."},
            ],
            [
                '[assistant 1] -> get_weather({"city": "Rome"})',
                "[tool w1] 25 degrees",
                "[assistant 1] It is 25 degrees in Rome.",
            ],
            id="round",
        ),
        pytest.param(  # text and an unanswered call in one reply
            [{"role": "assistant", "content": "Let me check.", "tool_calls": [_ROUND_CALL]}],
            ["[assistant 1] Let me check.", '[assistant 1] -> get_weather({"city": "Rome"})'],
            id="text-and-call",
        ),
        pytest.param(
            [{"role": "assistant", "content": "plain"}], ["[assistant 1] plain"], id="plain"
        ),
    ],
)
def test_a_turn_shows_its_messages_in_the_order_exchanged(
    tmp_path: Path, messages: list[dict[str, Any]], want: list[str]
) -> None:
    base = _stored(tmp_path, "base", {"grew": _turns([1.0])})
    head_turns = _turns([1.0, 1.0])
    final = messages[-1].get("content")
    calls = [c for m in messages for c in m.get("tool_calls") or ()]
    head_turns[1] = head_turns[1].model_copy(
        update={"messages": messages, "output": final, "tool_calls": calls or None}
    )
    head = _stored(tmp_path, "head", {"grew": head_turns})
    md = render_comparison_markdown(compare_reports(base, head))
    transcript = md.split("Conversations of these cases", 1)[1].split("</details>", 1)[0]
    lines = [line for line in transcript.splitlines() if line.startswith("[")]
    turn = lines[lines.index("[user 1] (not in baseline) user says 1") + 1 :]
    assert turn[: len(want)] == want


def test_a_report_without_turn_messages_shows_the_reply_then_its_calls(tmp_path: Path) -> None:
    base = _stored(tmp_path, "base", {"grew": _turns([1.0])})
    head = _stored(tmp_path, "head", {"grew": _turns([1.0, 1.0], {1: [_ROUND_CALL]})})
    md = render_comparison_markdown(compare_reports(base, head))
    assert '[assistant 1] reply 1\n[assistant 1] -> get_weather({"city": "Rome"})' in md
