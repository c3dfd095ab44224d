"""is-json and json-schema."""

from __future__ import annotations

import json

import pytest

from releasegate.scorers import ScoreStatus
from releasegate.scorers.json_checks import JsonParseError, parse_json_output

from ._support import check

SCHEMA = {
    "type": "object",
    "required": ["answer", "confidence"],
    "properties": {
        "answer": {"type": "string"},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "sources": {"type": "array", "items": {"type": "string", "format": "uri"}},
    },
    "additionalProperties": False,
}


@pytest.mark.parametrize(
    "output", ['{"a": 1}', "  [1, 2]\n", '"text"', "3.5", "null", '{"é": "\U0001f600"}']
)
def test_is_json_accepts_json(output: str) -> None:
    assert check({"type": "is-json"}, output).value == 1.0


@pytest.mark.parametrize(
    ("output", "why"),
    [
        ("", "empty output"),
        ("{'a': 1}", "line 1 column 2"),
        ('{"a": 1', "invalid JSON"),
        ('Sure! {"a": 1}', "line 1 column 1"),
        ("NaN", "NaN is not valid JSON"),
        ('{"a": Infinity}', "Infinity is not valid JSON"),
        ('```json\n{"a": 1}\n```', "invalid JSON"),
    ],
)
def test_is_json_rejects(output: str, why: str) -> None:
    res = check({"type": "is-json"}, output)
    assert res.value == 0.0
    assert why in res.reason


def test_is_json_fenced_option() -> None:
    spec = {"type": "is-json", "allow_fenced": True}
    assert check(spec, '```json\n{"a": 1}\n```').value == 1.0
    assert check(spec, "\n```\n[1]\n```\n").value == 1.0
    assert check(spec, '{"plain": true}').value == 1.0
    # Prose around the block, two blocks, or another language are still not JSON.
    assert check(spec, 'Here:\n```json\n{"a": 1}\n```').value == 0.0
    assert check(spec, "```json\n{}\n```\n```json\n{}\n```").value == 0.0
    assert check(spec, '```python\n{"a": 1}\n```').value == 0.0
    assert check(spec, "```json\n\n```").value == 0.0
    assert check(spec, "```json\n{}```").value == 0.0  # closing fence not on its own line
    # Backticks inside a JSON string do not close the block (found by hypothesis).
    assert check(spec, '```json\n{"```": "a ``` b"}\n```').value == 1.0
    assert check(spec, '```json\n{\n  "```": 1\n}\n```').value == 1.0


def test_deeply_nested_json_is_measured_not_raised() -> None:
    res = check({"type": "is-json"}, "[" * 200_000 + "]" * 200_000)
    assert res.status is ScoreStatus.MEASURED
    assert res.value == 0.0 and "nested too deeply" in res.reason


def test_not_is_json() -> None:
    assert check({"type": "not-is-json"}, "plain words").value == 1.0
    assert check({"type": "not-is-json"}, "{}").value == 0.0


def test_parse_json_output_raises_typed_error() -> None:
    assert parse_json_output(' {"a": [1]} ') == {"a": [1]}
    with pytest.raises(JsonParseError, match="line 2 column 1"):
        parse_json_output('{"a": 1,\n}')


def test_json_schema_pass_and_failing_path() -> None:
    spec = {"type": "json-schema", "value": SCHEMA}
    good = {"answer": "yes", "confidence": 0.9, "sources": ["https://example.com/a"]}
    assert check(spec, json.dumps(good)).value == 1.0
    res = check(spec, json.dumps({**good, "confidence": 3}))
    assert res.value == 0.0
    assert res.reason.startswith("$.confidence: 3 is greater than the maximum of 1")
    assert res.details["path"] == "$.confidence"
    res = check(spec, json.dumps({**good, "sources": ["ok", 7]}))
    assert res.reason.startswith("$.sources[1]:")
    res = check(spec, json.dumps({"answer": "yes"}))
    assert "'confidence' is a required property" in res.reason


def test_json_schema_output_not_json() -> None:
    res = check({"type": "json-schema", "value": SCHEMA}, "I think yes")
    assert res.value == 0.0 and "invalid JSON" in res.reason


def test_json_schema_via_option_string_and_fence() -> None:
    spec = {"type": "json-schema", "schema": {"type": "array"}, "allow_fenced": True}
    assert check(spec, "```json\n[1, 2]\n```").value == 1.0
    assert check(spec, "```json\n{}\n```").value == 0.0
    as_text = {"type": "json-schema", "value": '{"type": "integer"}'}
    assert check(as_text, "7").value == 1.0
    assert check(as_text, "7.5").value == 0.0


def test_json_schema_draft_chosen_by_dollar_schema() -> None:
    # Draft 4 spells exclusiveMaximum as a boolean; under it 10 is excluded.
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "number",
        "maximum": 10,
        "exclusiveMaximum": True,
    }
    spec = {"type": "json-schema", "value": schema}
    assert check(spec, "9").value == 1.0
    assert check(spec, "10").value == 0.0


def test_json_schema_long_message_is_truncated() -> None:
    spec = {"type": "json-schema", "value": {"type": "string"}}
    res = check(spec, json.dumps(list(range(500))))
    assert res.value == 0.0 and len(res.reason) < 260 and "…" in res.reason
    assert res.reason.endswith("is not of type 'string'")  # the verdict survives the cut


def test_json_schema_unresolvable_ref_is_unmeasured() -> None:
    spec = {"type": "json-schema", "value": {"$ref": "https://example.invalid/s.json"}}
    res = check(spec, "{}")
    assert res.status is ScoreStatus.UNMEASURED
    assert "cannot be resolved" in res.reason
