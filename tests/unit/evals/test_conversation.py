"""Conversation assembly: one function orders system, few-shot, history and the last
user turn, for eval cases and gateway requests alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releasegate.datasets.case import Case
from releasegate.datasets.dataset import scan_dataset
from releasegate.errors import PromptError
from releasegate.evals._render import render_case
from releasegate.gateway._shape import apply_version
from releasegate.llm import ChatRequest
from releasegate.prompts import Prompt, Turn, assemble_conversation, load_prompt
from releasegate.providers.cache import CacheKeyer

# Text with the characters that break history built by templating JSON.
_TEXT = st.text(alphabet=st.sampled_from('ab "\\\n{}<>&é'), max_size=12)


@st.composite
def _turns(draw: st.DrawFn, max_size: int = 6) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(draw(st.integers(0, max_size))):
        role = draw(st.sampled_from(["user", "assistant", "tool"]))
        turn: dict[str, Any] = {"role": role, "content": draw(_TEXT)}
        if role == "tool":
            turn["tool_call_id"] = f"call_{i}"
        out.append(turn)
    return out


def _prompt(system: str | None, few_shot: list[dict[str, Any]]) -> Prompt:
    return Prompt(
        name="p",
        version="1.0.0",
        model="m",
        system=system,
        template="Q: {{ input }}",
        messages=[Turn.model_validate(t) for t in few_shot] or None,
    )


@given(
    system=st.one_of(st.none(), _TEXT),
    few_shot=_turns(),
    history=_turns(),
    text=_TEXT,
)
def test_every_turn_appears_once_in_order(
    system: str | None, few_shot: list[dict[str, Any]], history: list[dict[str, Any]], text: str
) -> None:
    prompt = _prompt(system, few_shot)
    case = Case(id="c", input=text, messages=tuple(Turn.model_validate(t) for t in history) or None)
    sent = render_case(prompt, case)
    expected = [
        *([{"role": "system", "content": system}] if system is not None else []),
        *few_shot,
        *history,
        {"role": "user", "content": f"Q: {text}"},
    ]
    assert sent == expected


@given(
    system=st.one_of(st.none(), _TEXT),
    few_shot=_turns(),
    history=_turns(),
    text=_TEXT,
    after=_turns(max_size=3),
)
def test_gateway_and_engine_assemble_the_same_conversation(
    system: str | None,
    few_shot: list[dict[str, Any]],
    history: list[dict[str, Any]],
    text: str,
    after: list[dict[str, Any]],
) -> None:
    prompt = _prompt(system, few_shot)
    history = [t for t in history if t["role"] != "user"]  # the last user turn is `text`
    after = [t for t in after if t["role"] != "user"]
    body = {"model": "x", "messages": [*history, {"role": "user", "content": text}, *after]}
    served = apply_version(body, model="m", params={}, prompt=prompt)["messages"]
    case = Case(id="c", input=text, messages=tuple(Turn.model_validate(t) for t in history) or None)
    assert served == [*render_case(prompt, case), *after]
    assert body["messages"][-1 - len(after)] == {"role": "user", "content": text}  # untouched


def test_gateway_replaces_a_caller_system_message_and_keeps_it_without_one() -> None:
    few = [{"role": "user", "content": "2+2"}, {"role": "assistant", "content": "4"}]
    body = {
        "messages": [
            {"role": "developer", "content": "caller"},
            {"role": "user", "content": "hi"},
        ]
    }
    with_system = apply_version(body, model="m", params={}, prompt=_prompt("S", few))
    assert with_system["messages"] == [
        {"role": "system", "content": "S"},
        *few,
        {"role": "user", "content": "Q: hi"},
    ]
    without = apply_version(body, model="m", params={}, prompt=_prompt(None, few))
    assert without["messages"] == [
        {"role": "developer", "content": "caller"},
        *few,
        {"role": "user", "content": "Q: hi"},
    ]


def test_assembly_keeps_non_text_parts_of_the_user_turn() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:,"}}
    user = {"role": "user", "content": [{"type": "text", "text": "x"}, image], "name": "ann"}
    out = assemble_conversation(
        system=None, few_shot=(), history=(), user=user, render=lambda: "rendered"
    )
    assert out == [
        {"role": "user", "name": "ann", "content": [{"type": "text", "text": "rendered"}, image]}
    ]


def test_no_user_turn_renders_nothing() -> None:
    def fail() -> str:
        raise AssertionError("rendered without a user turn")

    out = assemble_conversation(
        system={"role": "system", "content": "s"},
        few_shot=(),
        history=[{"role": "assistant", "content": "a"}],
        user=None,
        render=fail,
    )
    assert out == [{"role": "system", "content": "s"}, {"role": "assistant", "content": "a"}]


def test_history_with_tool_calls_and_results_is_sent_as_written() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    case = Case.model_validate(
        {
            "id": "t",
            "input": "and now?",
            "messages": [
                {"role": "user", "content": "call f"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": "42"},
                {"role": "assistant", "content": "It is 42."},
            ],
        }
    )
    assert render_case(None, case) == [
        {"role": "user", "content": "call f"},
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
        {"role": "assistant", "content": "It is 42."},
        {"role": "user", "content": "and now?"},
    ]


def test_few_shot_turns_change_the_prompt_hashes() -> None:
    plain = _prompt("s", [])
    few = _prompt("s", [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}])
    assert plain.content_hash != few.content_hash
    assert plain.text_hash != few.text_hash
    assert plain.config_hash == few.config_hash
    # A prompt without few-shot turns keeps the hash it had before they existed.
    assert "messages" not in plain.model_dump(exclude_none=True)


def test_cache_key_covers_every_turn_of_the_history() -> None:
    keyer = CacheKeyer({"type": "t"})
    prompt = _prompt("s", [])

    def key(history: list[dict[str, Any]]) -> str:
        case = Case(
            id="c", input="q", messages=tuple(Turn.model_validate(t) for t in history) or None
        )
        return keyer.key(ChatRequest(messages=tuple(render_case(prompt, case)), model="m"))

    base = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    keys = {
        key(base),
        key(base[:1]),
        key([base[0], {"role": "assistant", "content": "B"}]),
        key([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]),
        key([]),
    }
    assert len(keys) == 5
    assert key(base) == key([dict(t) for t in base])


PROMPT_FILE = """\
name: p
version: 1.0.0
model: m
system: sys
messages:
  - role: user
    content: hi
  - role: assistent
    content: hello
  - role: tool
    content: x
template: "{{ input }}"
"""

DATASET = """\
cases:
  - id: good
    input: q
    messages:
      - role: user
        content: 'a "quoted" {brace}'
      - role: assistant
        tool_calls: [{id: c1, type: function, function: {name: f, arguments: "{}"}}]
      - role: tool
        tool_call_id: c1
        content: "42"
  - id: bad
    input: q
    messages:
      - role: user
      - {role: bot, content: x}
  - id: not-a-list
    input: q
    messages: hello
"""


def test_prompt_file_turn_errors_point_at_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PROMPT_FILE, encoding="utf-8")
    with pytest.raises(PromptError) as info:
        load_prompt(path)
    found = [(i.line, i.message) for i in info.value.issues]
    assert found[0][0] == 8 and "messages[1].role" in found[0][1]
    assert found[1][0] == 10 and "tool_call_id" in found[1][1]


def test_dataset_turn_errors_point_at_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(DATASET, encoding="utf-8")
    dataset, issues = scan_dataset(path)
    assert dataset is not None
    assert [c.id for c in dataset.cases] == ["good"]
    found = [(i.line, i.case_id, i.message) for i in issues]
    assert found[0][:2] == (15, "bad") and "messages[0]: content: required" in found[0][2]
    assert found[1][:2] == (16, "bad") and "messages[1].role" in found[1][2]
    assert found[2][:2] == (19, "not-a-list") and "must be a list of turns" in found[2][2]
    (good,) = dataset.cases
    assert good.history()[0]["content"] == 'a "quoted" {brace}'


def test_jsonl_history_keeps_quotes_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"id": "j", "input": "q", "messages": [{"role": "user", "content": "a \\"b\\"\\nc"},'
        ' {"role": "assistant", "content": "ok"}]}\n',
        encoding="utf-8",
    )
    dataset, issues = scan_dataset(path)
    assert not issues and dataset is not None
    assert render_case(None, dataset.cases[0])[0] == {"role": "user", "content": 'a "b"\nc'}
