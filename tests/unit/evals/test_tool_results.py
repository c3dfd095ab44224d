"""``tool_results`` of a case: the result a call gets (plain or matched on arguments),
and the file:line errors of malformed ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from releasegate.datasets.case import Case, ToolResult
from releasegate.datasets.dataset import scan_dataset
from releasegate.evals._tool_lint import tool_check_issues
from releasegate.evals._tool_rounds import run_exchange
from releasegate.llm import ChatRequest, ChatResponse, Usage
from releasegate.prompts import load_prompt


@pytest.mark.parametrize(
    ("written", "arguments", "sent"),
    [
        ("sunny", {"city": "Paris"}, "sunny"),
        ("", None, ""),
        ({"temp_c": 18, "note": "é"}, {}, '{"temp_c": 18, "note": "é"}'),
        (["a", 1], "not an object", '["a", 1]'),
        (None, {}, "null"),
        (3.5, {}, "3.5"),
        ({"default": 1}, {}, '{"default": 1}'),  # no `match` key: a plain mapping result
    ],
)
def test_a_plain_result_answers_every_call(written: Any, arguments: Any, sent: str) -> None:
    assert ToolResult.model_validate(written).result_for(arguments) == sent


MATCHED = {
    "match": [
        {"arguments": {"city": "Paris"}, "result": "18"},
        {"arguments": {"city": "Oslo", "unit": "c"}, "result": {"t": 3}},
        {"arguments": {}, "result": "anything else that is an object"},
    ]
}


@pytest.mark.parametrize(
    ("arguments", "sent"),
    [
        ({"city": "Paris"}, "18"),
        ({"city": "Paris", "unit": "f"}, "18"),  # a subset match
        ({"city": "Oslo", "unit": "c"}, '{"t": 3}'),
        ({"city": "Oslo"}, "anything else that is an object"),
        (["Paris"], None),  # arguments that are not an object match nothing
        (None, None),
    ],
)
def test_matched_results_pick_the_first_entry_contained_in_the_arguments(
    arguments: Any, sent: str | None
) -> None:
    assert ToolResult.model_validate(MATCHED).result_for(arguments) == sent


def test_a_default_answers_what_no_entry_matches() -> None:
    written = {"match": [{"arguments": {"city": "Paris"}, "result": 1}], "default": None}
    result = ToolResult.model_validate(written)
    assert result.result_for({"city": "Rome"}) == "null"
    assert result.result_for("{broken") == "null"
    no_default = ToolResult.model_validate({"match": written["match"]})
    assert no_default.result_for({"city": "Rome"}) is None


def test_turn_results_are_added_to_the_case_results() -> None:
    case = Case.model_validate(
        {
            "id": "c",
            "tool_results": {"a": "case a", "b": "case b"},
            "turns": [{"input": "x"}, {"input": "y", "tool_results": {"b": "turn b", "c": 1}}],
        }
    )
    first, second = case.turn_cases()
    assert first.tool_results is not None and sorted(first.tool_results) == ["a", "b"]
    assert second.tool_results is not None
    assert {k: v.result_for({}) for k, v in second.tool_results.items()} == {
        "a": "case a",
        "b": "turn b",
        "c": "1",
    }
    assert case.max_tool_rounds == 5


DATASET = """\
cases:
  - id: good
    input: q
    tool_results:
      get_weather: {temp_c: 18}
  - id: not-a-mapping
    input: q
    tool_results: [get_weather]
  - id: empty-match
    input: q
    tool_results:
      get_weather: {match: []}
  - id: entry-without-result
    input: q
    tool_results:
      get_weather:
        match:
          - arguments: {city: Paris}
  - id: arguments-not-a-mapping
    input: q
    tool_results:
      get_weather:
        match:
          - {arguments: Paris, result: x}
  - id: unknown-key
    input: q
    tool_results:
      get_weather: {match: [{arguments: {}, result: x}], defualt: y}
  - id: rounds
    input: q
    max_tool_rounds: 0
  - id: in-a-turn
    turns:
      - input: hi
        tool_results: {get_weather: {match: nope}}
"""


def test_malformed_tool_results_are_errors_at_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(DATASET, encoding="utf-8")
    dataset, issues = scan_dataset(path)
    assert dataset is not None and [c.id for c in dataset.cases] == ["good"]
    found = {str(i.case_id): (i.line, i.message) for i in issues}
    assert sorted(found) == sorted(
        [
            "not-a-mapping",
            "empty-match",
            "entry-without-result",
            "arguments-not-a-mapping",
            "unknown-key",
            "rounds",
            "in-a-turn",
        ]
    )
    assert found["not-a-mapping"][0] == 8 and "tool_results" in found["not-a-mapping"][1]
    assert found["empty-match"][0] == 12 and "non-empty list" in found["empty-match"][1]
    assert found["entry-without-result"][0] == 18
    assert "tool_results.get_weather.match[0].result" in found["entry-without-result"][1]
    assert found["arguments-not-a-mapping"][0] == 24
    assert "match[0].arguments" in found["arguments-not-a-mapping"][1]
    assert found["unknown-key"][0] == 28 and "defualt" in found["unknown-key"][1]
    assert found["rounds"][0] == 31 and "max_tool_rounds" in found["rounds"][1]
    assert found["in-a-turn"][0] == 35 and "turns[0].tool_results" in found["in-a-turn"][1]


def test_defaults_tool_results_merge_by_tool(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        """\
defaults:
  tool_results: {get_time: "12:00", get_weather: sunny}
  max_tool_rounds: 2
cases:
  - {id: a, input: q}
  - {id: b, input: q, tool_results: {get_weather: rain}, max_tool_rounds: 4}
""",
        encoding="utf-8",
    )
    dataset, issues = scan_dataset(path)
    assert not issues and dataset is not None
    a, b = dataset.cases
    assert a.tool_results is not None and b.tool_results is not None
    assert {k: v.result_for({}) for k, v in a.tool_results.items()} == {
        "get_time": "12:00",
        "get_weather": "sunny",
    }
    assert {k: v.result_for({}) for k, v in b.tool_results.items()} == {
        "get_time": "12:00",
        "get_weather": "rain",
    }
    assert (a.max_tool_rounds, b.max_tool_rounds) == (2, 4)


@pytest.mark.parametrize(
    ("tools", "results", "words"),
    [
        (
            ["get_weather", "now"],
            {"get_wether": "x"},
            ["'get_wether' is not a tool", "did you mean"],
        ),
        (["get_weather"], {"lookup": "x", "get_weather": "y"}, ["declared: get_weather"]),
        ([], {"get_weather": "x"}, ["not a tool of", "never calls it"]),
    ],
)
def test_results_for_undeclared_tools_are_warnings(
    tmp_path: Path, tools: list[str], results: dict[str, Any], words: list[str]
) -> None:
    prompt_file = tmp_path / "p.yaml"
    declared = [{"type": "function", "function": {"name": n}} for n in tools]
    prompt_file.write_text(
        yaml.safe_dump(
            {"name": "p", "version": "1.0.0", "model": "m", "template": "x"}
            | ({"tools": declared} if declared else {})
        ),
        encoding="utf-8",
    )
    prompt = load_prompt(prompt_file)
    cases = [Case(id=f"c{i}", input="q", line=3 + i, tool_results=results) for i in range(2)]
    issues = tool_check_issues(cases, prompt, file="d.yaml")
    assert len(issues) == 1  # once per tool, not once per case
    (issue,) = issues
    assert issue.severity == "warning" and str(issue).startswith("d.yaml:3: case 'c0'")
    for word in words:
        assert word in issue.message
    declared_ok = {n: "r" for n in tools}
    assert (
        tool_check_issues(
            [Case(id="ok", input="q", tool_results=declared_ok)], prompt, file="d.yaml"
        )
        == []
    )


_NAMES = ("a", "b", "c")


@st.composite
def _replies(draw: st.DrawFn) -> list[ChatResponse]:
    out: list[ChatResponse] = []
    for r in range(draw(st.integers(1, 8))):
        names = draw(st.lists(st.sampled_from(_NAMES), max_size=3))
        calls = tuple(
            {"id": f"r{r}c{i}", "type": "function", "function": {"name": n, "arguments": "{}"}}
            for i, n in enumerate(names)
        )
        out.append(ChatResponse(text=f"reply {r}", usage=Usage(1, 1), tool_calls=calls))
    return out


@given(
    replies=_replies(),
    answered=st.sets(st.sampled_from(_NAMES)),
    max_rounds=st.integers(1, 4),
)
async def test_an_exchange_never_sends_an_unanswered_call_and_is_bounded(
    replies: list[ChatResponse], answered: set[str], max_rounds: int
) -> None:
    sent: list[ChatRequest] = []

    async def send(request: ChatRequest) -> ChatResponse | str:
        sent.append(request)
        return (
            replies[len(sent) - 1]
            if len(sent) <= len(replies)
            else ChatResponse(text="end", usage=Usage(1, 1))
        )

    results = {n: ToolResult.model_validate(f"result of {n}") for n in answered}
    first = ChatRequest(messages=({"role": "user", "content": "q"},), model="m")
    exchange = await run_exchange(first, send, results=results, max_rounds=max_rounds, where="x")
    assert len(sent) <= max_rounds + 1
    for request in sent:  # every call in a request is answered right after it, by id
        messages = list(request.messages)
        for i, message in enumerate(messages):
            ids = [c["id"] for c in message.get("tool_calls") or ()]
            after = [m["tool_call_id"] for m in messages[i + 1 : i + 1 + len(ids)]]
            assert after == ids
    last = exchange.replies[-1]
    names = {c["function"]["name"] for c in last.tool_calls}
    if exchange.error is not None:
        assert len(sent) == max_rounds + 1 and names <= answered and last.tool_calls
    elif exchange.unanswered:
        assert set(exchange.unanswered) == names - answered
    else:
        assert not last.tool_calls
    answer = exchange.answer()
    assert answer is not None and answer.text == last.text
    assert len(answer.tool_calls) == sum(len(r.tool_calls) for r in exchange.replies)
    assert answer.usage.prompt_tokens == len(exchange.replies)
