"""A served request is assembled by the function the eval engine uses for a case."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.datasets.case import Case
from releasegate.evals._render import render_case
from releasegate.prompts import Prompt, Turn
from tests.integration.gateway import conftest

FEW_SHOT = [
    {"role": "user", "content": "2+2?"},
    {"role": "assistant", "content": "4"},
]


async def test_request_is_assembled_like_an_eval_case(
    make_rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt = Prompt(
        name="chat",
        version="1.0.0",
        model="m-1",
        system="You are v1.",
        template="Q: {{ input }}",
        messages=[Turn.model_validate(t) for t in FEW_SHOT],
    )
    monkeypatch.setitem(conftest.PROMPTS, ("chat", "1.0.0"), prompt)
    rig = await make_rig()
    history = [
        {"role": "user", "content": 'say "hi"\nplease'},
        {"role": "assistant", "content": "hi"},
    ]
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    tool_loop = [
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
    ]
    messages = [
        {"role": "system", "content": "caller system"},
        *history,
        {"role": "user", "content": "and now?"},
        *tool_loop,
    ]
    resp = await rig.client.post(
        "/v1/chat/completions",
        json={"model": "x", "messages": messages},
        headers={"X-Releasegate-Feature": "chat", "X-Releasegate-Unit": "u1"},
    )
    assert resp.status_code == 200, resp.text
    sent = rig.primary.requests[-1].body["messages"]
    case = Case(id="c", input="and now?", messages=tuple(Turn.model_validate(t) for t in history))
    assert sent == [*render_case(prompt, case), *tool_loop]
    assert sent[:4] == [{"role": "system", "content": "You are v1."}, *FEW_SHOT, history[0]]
    assert sent[5] == {"role": "user", "content": "Q: and now?"}
    (record,) = rig.recorder.records
    assert record["messages"] == sent  # the recorded conversation is the one sent


WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
CALLER_TOOL = {"type": "function", "function": {"name": "mine", "parameters": {}}}


def _tool_prompt(**tools: Any) -> Prompt:
    return Prompt.model_validate(
        {"name": "chat", "version": "1.0.0", "model": "m-1", "template": "{{ input }}", **tools}
    )


async def _sent_body(
    make_rig: Any, monkeypatch: pytest.MonkeyPatch, prompt: Prompt, body: dict[str, Any]
) -> dict[str, Any]:
    monkeypatch.setitem(conftest.PROMPTS, ("chat", "1.0.0"), prompt)
    rig = await make_rig()
    resp = await rig.client.post(
        "/v1/chat/completions",
        json={"model": "x", "messages": [{"role": "user", "content": "Paris?"}], **body},
        headers={"X-Releasegate-Feature": "chat", "X-Releasegate-Unit": "u1"},
    )
    assert resp.status_code == 200, resp.text
    sent: dict[str, Any] = rig.primary.requests[-1].body
    return sent


async def test_prompt_tools_reach_the_upstream_as_the_engine_sends_them(
    make_rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt = _tool_prompt(tools=[WEATHER], tool_choice="required")
    sent = await _sent_body(make_rig, monkeypatch, prompt, {})
    assert sent["tools"] == list(prompt.tool_schemas() or ()) == [WEATHER]
    assert sent["tool_choice"] == prompt.tool_choice_value() == "required"


async def test_prompt_tools_replace_the_callers_tools_and_choice(
    make_rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = {
        "tools": [CALLER_TOOL],
        "tool_choice": {"type": "function", "function": {"name": "mine"}},
    }
    sent = await _sent_body(make_rig, monkeypatch, _tool_prompt(tools=[WEATHER]), caller)
    assert sent["tools"] == [WEATHER]
    assert "tool_choice" not in sent  # the caller's named a tool no longer offered


async def test_caller_tools_pass_through_without_prompt_tools(
    make_rig: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    caller = {"tools": [CALLER_TOOL], "tool_choice": "auto"}
    sent = await _sent_body(make_rig, monkeypatch, _tool_prompt(), caller)
    assert sent["tools"] == [CALLER_TOOL] and sent["tool_choice"] == "auto"
    sent = await _sent_body(make_rig, monkeypatch, _tool_prompt(tool_choice="none"), caller)
    assert sent["tools"] == [CALLER_TOOL] and sent["tool_choice"] == "none"
