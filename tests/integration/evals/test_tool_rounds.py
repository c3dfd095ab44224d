"""Tool rounds in the engine: a case's ``tool_results`` answer the model's tool calls and
the model is asked again, answered by a scripted model through the real engine (files on
disk, cache, reports)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from releasegate.bootstrap import arun_eval
from releasegate.reports.html import render_html
from releasegate.reports.markdown import render_markdown
from releasegate.results.report import CaseResult, EvalReport

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}
PROMPT = {
    "name": "assistant",
    "version": "1.0.0",
    "model": "scripted",
    "system": "Use the tools.",
    "template": "{{ input }}",
    "tools": [WEATHER, TIME],
}


def call(id_: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"id": id_, "name": name, "arguments": arguments}


SCRIPT: dict[str, Any] = {
    "rules": [
        {
            "match": "weather in Paris",
            "tool_calls": [call("w1", "get_weather", city="Paris")],
            "then": "It is 18 degrees in Paris.",
        },
        {
            "match": "compare",
            "output": "Checking both.",
            "tool_calls": [
                call("p", "get_weather", city="Paris"),
                call("o", "get_weather", city="Oslo"),
            ],
            "then": "Paris is warmer than Oslo.",
        },
        {
            "match": "time then weather",
            "tool_calls": [call("t1", "get_time")],
            "then": {
                "tool_calls": [call("w2", "get_weather", city="Oslo")],
                "then": "Noon and cold.",
            },
        },
        {"match": "forever", "tool_calls": [call("f", "get_time")]},
        {"match": "thanks", "output": "You are welcome."},
    ],
    "default": "ok",
}


def make(root: Path, cases: list[dict[str, Any]], *, cache: bool = False) -> Path:
    (root / "prompts").mkdir(parents=True, exist_ok=True)
    (root / "datasets").mkdir(exist_ok=True)
    (root / "prompts" / "assistant.yaml").write_text(yaml.safe_dump(PROMPT))
    (root / "datasets" / "cases.yaml").write_text(yaml.safe_dump(cases, sort_keys=False))
    config: dict[str, Any] = {
        "version": 1,
        "providers": {"target": {"type": "scripted", "model": "scripted", **SCRIPT}},
        "prompts": "prompts/",
        "suites": {
            "pr": {"dataset": "datasets/cases.yaml", "prompt": "assistant", "target": "target"}
        },
        "cache": {"enabled": cache, "path": ".releasegate/cache.sqlite"},
    }
    path = root / "releasegate.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


async def run(root: Path, cases: list[dict[str, Any]], *, cache: bool = False) -> EvalReport:
    return await arun_eval(make(root, cases, cache=cache), "pr", use_cache=cache)


def by_id(report: EvalReport) -> dict[str, CaseResult]:
    return {c.id: c for c in report.cases}


def tool_messages(messages: list[Any] | None) -> list[tuple[str, str]]:
    return [(m["tool_call_id"], m["content"]) for m in messages or () if m["role"] == "tool"]


async def test_one_call_answered_then_the_final_reply_is_graded(tmp_path: Path) -> None:
    cases: list[dict[str, Any]] = [
        {
            "id": "paris",
            "input": "What is the weather in Paris?",
            "tool_results": {"get_weather": {"temp_c": 18, "sky": "clear"}},
            "assert": [
                {"type": "contains", "value": "18 degrees"},
                {"type": "tool-call", "value": "get_weather", "arguments": {"city": "Paris"}},
                {"type": "valid-tool-call"},
            ],
        }
    ]
    case = by_id(await run(tmp_path, cases))["paris"]
    assert case.error is None and case.passed and case.score == 1.0
    assert case.output == "It is 18 degrees in Paris."
    # Checks see the calls of the whole turn; the transcript keeps every message.
    assert [c["function"]["name"] for c in case.tool_calls or ()] == ["get_weather"]
    assert case.messages == [
        {"role": "system", "content": "Use the tools."},
        {"role": "user", "content": "What is the weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "w1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "w1", "content": '{"temp_c": 18, "sky": "clear"}'},
    ]
    assert case.prompt_tokens > 0 and case.completion_tokens > 0


async def test_parallel_calls_get_one_result_each_matched_on_arguments(tmp_path: Path) -> None:
    cases: list[dict[str, Any]] = [
        {
            "id": "both",
            "input": "compare Paris and Oslo",
            "tool_results": {
                "get_weather": {
                    "match": [
                        {"arguments": {"city": "Paris"}, "result": {"temp_c": 18}},
                        {"arguments": {"city": "Oslo"}, "result": "3 degrees"},
                    ]
                }
            },
            "assert": [{"type": "contains", "value": "warmer"}],
        },
        {
            # Oslo matches no entry and there is no default: the reply is the answer.
            "id": "one-missing",
            "input": "compare Paris and Oslo",
            "tool_results": {
                "get_weather": {"match": [{"arguments": {"city": "Paris"}, "result": 18}]}
            },
            "assert": [{"type": "tool-call", "value": "get_weather"}],
        },
        {
            "id": "default",
            "input": "compare Paris and Oslo",
            "tool_results": {
                "get_weather": {
                    "match": [{"arguments": {"city": "Paris"}, "result": 18}],
                    "default": ["unknown city"],
                }
            },
        },
    ]
    cases_by_id = by_id(await run(tmp_path, cases))
    both = cases_by_id["both"]
    assert both.passed and both.output == "Paris is warmer than Oslo."
    assert tool_messages(both.messages) == [("p", '{"temp_c": 18}'), ("o", "3 degrees")]
    assert (both.messages or [])[2]["content"] == "Checking both."

    missing = cases_by_id["one-missing"]
    assert missing.error is None and missing.passed
    assert missing.output == "Checking both." and len(missing.tool_calls or ()) == 2
    assert missing.messages is None  # one call, no history: as a plain case

    default = cases_by_id["default"]
    assert tool_messages(default.messages) == [("p", "18"), ("o", '["unknown city"]')]


async def test_several_rounds_and_a_bound_on_them(tmp_path: Path) -> None:
    results = {"get_time": "12:00", "get_weather": "cold"}
    cases: list[dict[str, Any]] = [
        {"id": "two-rounds", "input": "time then weather", "tool_results": results},
        {
            "id": "two-rounds-allowed-one",
            "input": "time then weather",
            "tool_results": results,
            "max_tool_rounds": 1,
        },
        {
            "id": "forever",
            "input": "forever",
            "tool_results": results,
            "max_tool_rounds": 3,
            "assert": [{"type": "tool-call", "value": "get_time"}],
        },
    ]
    found = by_id(await run(tmp_path, cases))
    two = found["two-rounds"]
    assert two.error is None and two.output == "Noon and cold."
    assert tool_messages(two.messages) == [("t1", "12:00"), ("w2", "cold")]
    assert [c["function"]["name"] for c in two.tool_calls or ()] == ["get_time", "get_weather"]

    capped = found["two-rounds-allowed-one"]
    assert not capped.passed and capped.score == 0.0
    assert capped.error is not None
    assert "case 'two-rounds-allowed-one'" in capped.error
    assert "get_weather" in capped.error and "after 1 tool round(s)" in capped.error

    forever = found["forever"]
    assert not forever.passed and forever.error is not None
    assert "after 3 tool round(s)" in forever.error and "max_tool_rounds" in forever.error
    assert len(tool_messages(forever.messages)) == 3  # three rounds sent, then it stopped
    assert len(forever.tool_calls or ()) == 4


async def test_a_call_without_a_result_ends_the_case_as_before(tmp_path: Path) -> None:
    cases: list[dict[str, Any]] = [
        {
            "id": "no-results",
            "input": "What is the weather in Paris?",
            "assert": [{"type": "tool-call", "value": "get_weather"}],
        },
        {
            "id": "other-tool-only",
            "input": "What is the weather in Paris?",
            "tool_results": {"get_time": "12:00"},
            "assert": [{"type": "no-tool-call"}],
        },
    ]
    found = by_id(await run(tmp_path, cases))
    assert found["no-results"].passed and found["no-results"].output == ""
    assert found["no-results"].messages is None
    other = found["other-tool-only"]
    assert other.error is None and not other.passed  # graded: it called a tool
    assert (other.checks[0].reason or "").find("get_weather") >= 0


async def test_turns_carry_tool_rounds_forward(tmp_path: Path) -> None:
    cases: list[dict[str, Any]] = [
        {
            "id": "chat",
            "tool_results": {"get_weather": "18 degrees"},
            "turns": [
                {
                    "input": "What is the weather in Paris?",
                    "assert": [
                        {"type": "contains", "value": "18"},
                        {"type": "tool-call", "value": "get_weather"},
                    ],
                },
                {"input": "thanks", "assert": [{"type": "no-tool-call"}]},
            ],
        },
        {
            # The first turn's call has no result: the second turn cannot be sent.
            "id": "unanswered",
            "turns": [
                {"input": "What is the weather in Paris?"},
                {"input": "thanks"},
                {"input": "thanks again"},
            ],
        },
        {
            # A turn that keeps calling tools errors; the turns after it are not sent.
            "id": "looping-turn",
            "tool_results": {"get_time": "12:00"},
            "max_tool_rounds": 2,
            "turns": [{"input": "thanks"}, {"input": "forever"}, {"input": "thanks"}],
        },
        {
            # A turn's own results replace the case's for that tool.
            "id": "per-turn",
            "tool_results": {"get_weather": "case result"},
            "turns": [
                {"input": "weather in Paris"},
                {"input": "weather in Paris", "tool_results": {"get_weather": "turn result"}},
            ],
        },
    ]
    found = by_id(await run(tmp_path, cases))
    chat = found["chat"]
    assert chat.passed and chat.error is None
    assert chat.turns is not None and [t.passed for t in chat.turns] == [True, True]
    assert chat.turns[0].output == "It is 18 degrees in Paris."
    assert chat.turns[1].tool_calls is None
    roles = [m["role"] for m in chat.messages or ()]
    assert roles == ["system", "user", "assistant", "tool", "assistant", "user", "assistant"]
    assert tool_messages(chat.messages) == [("w1", "18 degrees")]
    # each turn keeps its own messages, tool rounds first, the final reply last
    first, second = chat.turns
    assert [m["role"] for m in first.messages or ()] == ["assistant", "tool", "assistant"]
    assert (first.messages or [])[-1]["content"] == "It is 18 degrees in Paris."
    assert [m["role"] for m in second.messages or ()] == ["assistant"]

    unanswered = found["unanswered"]
    assert not unanswered.passed and unanswered.turns is not None
    assert [t.index for t in unanswered.turns] == [0, 1]
    error = unanswered.turns[1].error or ""
    assert "case 'unanswered' turn 1 not sent" in error and "get_weather" in error
    assert unanswered.error == error
    # Nothing after the unanswered call was sent upstream.
    assert (unanswered.messages or [])[-1]["tool_calls"][0]["id"] == "w1"

    assert [m["role"] for m in unanswered.turns[0].messages or ()] == ["assistant"]
    assert unanswered.turns[1].messages is None  # not sent

    looping = found["looping-turn"]
    assert looping.turns is not None and [t.index for t in looping.turns] == [0, 1]
    assert looping.turns[0].passed and looping.turns[1].error is not None
    assert "case 'looping-turn' turn 1" in looping.turns[1].error
    assert "after 2 tool round(s)" in looping.turns[1].error
    assert len(looping.turns[1].tool_calls or ()) == 3 and not looping.passed
    assert looping.score == 0.0  # the failed turn and the unsent one score 0
    # The tokens of the failed turn's rounds are counted too.
    # about 20 tokens per scripted call reply, 4 for "You are welcome."
    assert looping.completion_tokens > 40
    assert len(tool_messages(looping.messages)) == 2

    per_turn = found["per-turn"]
    assert tool_messages(per_turn.messages) == [("w1", "case result"), ("w1", "turn result")]


async def test_tool_results_are_in_the_cache_key(tmp_path: Path) -> None:
    cases = [{"id": "paris", "input": "weather in Paris", "tool_results": {"get_weather": "18"}}]
    first = by_id(await run(tmp_path, cases, cache=True))["paris"]
    again = by_id(await run(tmp_path, cases, cache=True))["paris"]
    assert not first.cached and again.cached
    changed = [{**cases[0], "tool_results": {"get_weather": "25"}}]
    after = by_id(await run(tmp_path, changed, cache=True))["paris"]
    assert not after.cached  # the first call is cached, the round with the new result is not
    assert tool_messages(after.messages) == [("w1", "25")]


@pytest.mark.parametrize("renderer", [render_html, render_markdown])
async def test_reports_show_tool_results_escaped(tmp_path: Path, renderer: Any) -> None:
    cases: list[dict[str, Any]] = [
        {
            "id": "paris",
            "input": "weather in Paris",
            "tool_results": {"get_weather": "<script>alert(1)</script> 18"},
            "assert": [{"type": "contains", "value": "sunny"}],  # failing: shown in full
        }
    ]
    report = await run(tmp_path, cases)
    text = renderer(report)
    assert "[tool w1]" in text
    if renderer is render_html:
        assert "<script>alert(1)" not in text and "&lt;script&gt;alert(1)" in text
    else:
        assert "alert(1)" in text
    assert json.loads(report.model_dump_json())["cases"][0]["messages"][3]["content"].endswith("18")
