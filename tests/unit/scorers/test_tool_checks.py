"""Tool-call checks: every shape a model can send, and never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.errors import ConfigError
from releasegate.scorers import AssertSpec, Sample, ScoreStatus, build_scorer, run_check
from releasegate.scorers.tool_checks import parse_tool_call, subset_match

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"enum": ["c", "f"]},
                "days": {"type": "integer", "minimum": 1},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
SEARCH = {"type": "function", "function": {"name": "search"}}  # no parameters declared
TOOLS = (WEATHER, SEARCH)


def call(name: Any, arguments: Any, id_: str = "call_1") -> dict[str, Any]:
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": arguments}}


def sample(*calls: Any, output: str = "", tools: tuple[Any, ...] = TOOLS) -> Sample:
    return Sample(output, tool_calls=tuple(calls), tools=tools)


async def score(spec: dict[str, Any], s: Sample) -> tuple[float | None, str, ScoreStatus]:
    check = build_scorer(AssertSpec.model_validate(spec))
    result = await run_check(check, s)
    return result.value, result.reason, result.status


# -- tool-call -----------------------------------------------------------------------

TOOL_CALL_CASES = [
    # (spec, sample, passes, words in the reason)
    ({"value": "get_weather"}, sample(call("get_weather", '{"city": "Paris"}')), True, "called"),
    (
        {"value": "get_weather"},
        sample(output="It is sunny in Paris."),
        False,
        "answered in text",
    ),
    ({"value": "get_weather"}, sample(), False, "no tool call and no text"),
    ({"value": "get_weather"}, sample(call("search", "{}")), False, "called: search"),
    (
        {"value": "get_weather"},
        sample(call("search", "{}"), call("get_weather", '{"city":"Oslo"}', "c2")),
        True,
        "tool_calls[1]",
    ),
    ({"value": "get_weather"}, sample({"id": "x", "type": "function"}), False, "no 'function'"),
    ({"value": "get_weather"}, sample({"function": "get_weather"}), False, "'function' is string"),
    (
        {"value": "get_weather"},
        sample({"function": {"arguments": "{}"}}),
        False,
        "no function name",
    ),
    ({"value": "get_weather"}, sample("get_weather"), False, "not an object"),
    ({"value": "get_weather"}, sample(None), False, "null, not an object"),
    (
        {"value": "get_weather"},
        sample(call("get_weather", {"city": "Paris"})),
        False,
        "arguments are object, not a JSON string",
    ),
    (
        {"value": "get_weather"},
        sample(call("get_weather", "{city: Paris}")),
        False,
        "arguments are not JSON",
    ),
    ({"value": "get_weather"}, sample(call("get_weather", "")), False, "empty"),
    ({"value": "get_weather"}, sample(call("get_weather", "[1, 2]")), False, "JSON array"),
    ({"value": "get_weather"}, sample(call("get_weather", '"Paris"')), False, "JSON string"),
    ({"value": "get_weather"}, sample(call("get_weather", "null")), False, "JSON null"),
    ({"value": "get_weather"}, sample(call("get_weather", "NaN")), False, "not JSON"),
    ({"value": "get_weather"}, sample(call("get_weather", "[" * 100_000)), False, "not JSON"),
    (
        {"value": "get_weather", "arguments": {"city": "Paris"}},
        sample(call("get_weather", '{"city": "Paris", "unit": "c"}')),
        True,
        "called",
    ),
    (
        {"value": "get_weather", "arguments": {"city": "Paris"}},
        sample(call("get_weather", '{"city": "Lyon"}')),
        False,
        'city: expected "Paris", got "Lyon"',
    ),
    (
        {"value": "get_weather", "arguments": {"city": "Paris", "days": 2}},
        sample(call("get_weather", '{"city": "Paris"}')),
        False,
        "days: missing",
    ),
    (
        {"function": "get_weather", "arguments": {"opts": {"deep": True}}},
        sample(call("get_weather", '{"opts": {"deep": 1, "x": 2}}')),
        False,
        "opts.deep",
    ),
    (
        {"value": "get_weather", "arguments": {"days": 2}},
        sample(call("get_weather", '{"days": 2.0}')),
        True,
        "called",
    ),
    (
        {"value": "get_weather", "schema": {"type": "object", "required": ["unit"]}},
        sample(call("get_weather", '{"city": "Paris"}')),
        False,
        "'unit' is a required property",
    ),
    (
        {"value": "get_weather", "schema": {"type": "object", "required": ["unit"]}},
        sample(call("get_weather", '{"unit": "c"}')),
        True,
        "called",
    ),
]


@pytest.mark.parametrize(("spec", "s", "passes", "words"), TOOL_CALL_CASES)
async def test_tool_call(spec: dict[str, Any], s: Sample, passes: bool, words: str) -> None:
    value, reason, status = await score({"type": "tool-call", **spec}, s)
    assert status is ScoreStatus.MEASURED
    assert value == (1.0 if passes else 0.0), reason
    assert words in reason


# -- no-tool-call ----------------------------------------------------------------------

NO_TOOL_CALL_CASES = [
    ({}, sample(output="Sunny."), True, "no tool call"),
    ({}, sample(call("search", "{}")), False, "1 tool call(s): search"),
    ({}, sample({"id": "x"}), False, "no 'function'"),
    ({"value": "get_weather"}, sample(call("search", "{}")), True, "no call to get_weather"),
    ({"value": "get_weather"}, sample(call("get_weather", "{}")), False, "called get_weather"),
    ({"value": "get_weather"}, sample(output="text"), True, "no call"),
    ({"value": "get_weather"}, sample([1]), False, "cannot tell"),
]


@pytest.mark.parametrize(("spec", "s", "passes", "words"), NO_TOOL_CALL_CASES)
async def test_no_tool_call(spec: dict[str, Any], s: Sample, passes: bool, words: str) -> None:
    value, reason, status = await score({"type": "no-tool-call", **spec}, s)
    assert status is ScoreStatus.MEASURED
    assert value == (1.0 if passes else 0.0), reason
    assert words in reason


# -- valid-tool-call -------------------------------------------------------------------

VALID_CASES = [
    ({}, sample(call("get_weather", '{"city": "Paris", "unit": "c"}')), True, "1 valid"),
    ({}, sample(call("search", '{"anything": [1, 2]}')), True, "valid"),
    (
        {},
        sample(call("get_weather", '{"city":"A"}'), call("search", "{}", "c2")),
        True,
        "2 valid tool call(s): get_weather, search",
    ),
    ({}, sample(output="Sunny in Paris"), False, "answered in text"),
    ({"allow_none": True}, sample(output="Sunny in Paris"), True, "allowed"),
    ({}, sample(call("get_time", "{}")), False, "undeclared tool (declared: get_weather, search)"),
    ({}, sample(call("get_weather", '{"unit": "c"}')), False, "'city' is a required property"),
    ({}, sample(call("get_weather", '{"city": 3}')), False, "$.city"),
    ({}, sample(call("get_weather", '{"city": "A", "days": 0}')), False, "$.days"),
    ({}, sample(call("get_weather", '{"city": "A", "extra": 1}')), False, "extra"),
    ({}, sample(call("get_weather", '"Paris"')), False, "not an object"),
    ({}, sample(call("search", "[]")), False, "JSON array, not an object"),
    ({}, sample(call("get_weather", "{bad")), False, "not JSON"),
    ({}, sample(call("get_weather", None)), False, "arguments are null"),
    ({}, sample({"type": "function"}), False, "no 'function'"),
    (
        {},
        sample(call("get_weather", '{"city":"A"}'), call("get_weather", '{"city": 1}', "c2")),
        False,
        "tool_calls[1] (get_weather)",
    ),
]


@pytest.mark.parametrize(("spec", "s", "passes", "words"), VALID_CASES)
async def test_valid_tool_call(spec: dict[str, Any], s: Sample, passes: bool, words: str) -> None:
    value, reason, status = await score({"type": "valid-tool-call", **spec}, s)
    assert status is ScoreStatus.MEASURED
    assert value == (1.0 if passes else 0.0), reason
    assert words in reason


async def test_valid_tool_call_without_declared_tools_is_not_applicable() -> None:
    value, reason, status = await score(
        {"type": "valid-tool-call"}, sample(call("search", "{}"), tools=())
    )
    assert status is ScoreStatus.NOT_APPLICABLE and value is None
    assert reason == "needs tools"


async def test_valid_tool_call_with_a_broken_declared_schema_is_unmeasured() -> None:
    broken = {"type": "function", "function": {"name": "f", "parameters": {"type": 5}}}
    _, reason, status = await score(
        {"type": "valid-tool-call"}, sample(call("f", "{}"), tools=(broken,))
    )
    assert status is ScoreStatus.UNMEASURED and "not a valid JSON Schema" in reason


@pytest.mark.parametrize("kind", ["tool-call", "no-tool-call", "valid-tool-call"])
async def test_a_failed_target_call_scores_zero(kind: str) -> None:
    spec = {"type": kind, **({"value": "f"} if kind == "tool-call" else {})}
    check = build_scorer(AssertSpec.model_validate(spec))
    result = await run_check(check, Sample("", error="HTTP 500", tools=TOOLS))
    assert result.value == 0.0 and "target error" in result.reason


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"type": "tool-call"}, "needs the function name"),
        ({"type": "tool-call", "value": ""}, "non-empty string"),
        ({"type": "tool-call", "value": ["a"]}, "non-empty string"),
        ({"type": "tool-call", "value": "f", "function": "g"}, "either as value or"),
        ({"type": "tool-call", "value": "f", "arguments": [1]}, "must be an object"),
        ({"type": "tool-call", "value": "f", "schema": {"type": 5}}, "invalid JSON Schema"),
        ({"type": "tool-call", "value": "f", "schema": "x"}, "JSON Schema object"),
        ({"type": "tool-call", "value": "f", "argumnts": {}}, "unknown option"),
        ({"type": "no-tool-call", "value": 3}, "non-empty string"),
        ({"type": "valid-tool-call", "value": "f"}, "takes no value"),
        ({"type": "valid-tool-call", "allow_none": "yes"}, "true or false"),
    ],
)
def test_bad_specs_are_config_errors(spec: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        build_scorer(AssertSpec.model_validate(spec), where="d.yaml:3")


@pytest.mark.parametrize(
    ("expected", "actual", "diff"),
    [
        ({}, {"a": 1}, None),
        ({"a": 1}, {"a": 1, "b": 2}, None),
        ({"a": True}, {"a": 1}, "a: expected true, got 1"),
        ({"a": 1}, {"a": True}, "a: expected 1, got true"),
        ({"a": [1, 2]}, {"a": [1, 2]}, None),
        ({"a": [1, 2]}, {"a": [2, 1]}, "a: expected [1, 2], got [2, 1]"),
        ({"a": {"b": {"c": "x"}}}, {"a": {"b": {"c": "x", "d": 0}}}, None),
        ({"a": {"b": 1}}, {"a": 5}, "a: expected {"),
        ({"a": None}, {"a": None}, None),
        ({"a": None}, {}, "a: missing"),
    ],
)
def test_subset_match(expected: dict[str, Any], actual: dict[str, Any], diff: str | None) -> None:
    got = subset_match(expected, actual)
    if diff is None:
        assert got is None
    else:
        assert got is not None and got.startswith(diff)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=12,
)
ENTRY = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"function": st.fixed_dictionaries({"name": JSON | st.sampled_from(["get_weather"])})},
        optional={"id": JSON, "type": JSON},
    ).flatmap(
        lambda d: st.one_of(JSON, JSON.map(json.dumps), st.text(max_size=20)).map(
            lambda a: {**d, "function": {**d["function"], "arguments": a}}  # type: ignore[dict-item]
        )
    ),
)
SPECS = [
    {"type": "tool-call", "value": "get_weather"},
    {"type": "tool-call", "value": "get_weather", "arguments": {"city": "Paris"}},
    {"type": "tool-call", "value": "get_weather", "schema": {"type": "object"}},
    {"type": "no-tool-call"},
    {"type": "no-tool-call", "value": "get_weather"},
    {"type": "valid-tool-call"},
]
CHECKS = [build_scorer(AssertSpec.model_validate(s)) for s in SPECS]


@settings(max_examples=300, deadline=None)
@given(calls=st.lists(ENTRY, max_size=4), output=st.text(max_size=20))
async def test_arbitrary_tool_calls_never_crash_the_checks(calls: list[Any], output: str) -> None:
    s = Sample(output, tool_calls=tuple(calls), tools=TOOLS)
    for check in CHECKS:
        result = await check.score(s)  # straight to the check: an exception would escape
        assert result.status is ScoreStatus.MEASURED, result.reason
        assert result.value in (0.0, 1.0) and result.reason


@given(entry=JSON)
def test_parse_tool_call_never_raises(entry: Any) -> None:
    parsed = parse_tool_call(0, entry)
    assert (parsed.arguments is None) == (parsed.problem is not None)
