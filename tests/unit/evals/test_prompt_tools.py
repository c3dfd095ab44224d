"""Prompt files with `tools` and `tool_choice`: validation with file:line, hashes, the
JSON Schema, and what a request carries."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from releasegate.errors import PromptError
from releasegate.prompts import Prompt, load_prompt

ROOT = Path(__file__).resolve().parents[3]

GOOD = """\
name: weather
version: 1.0.0
model: gpt-4o-2024-11-20
template: "{{ input }}"
tools:
  - type: function
    function:
      name: get_weather
      description: Current weather in a city
      parameters:
        type: object
        properties:
          city: {type: string}
        required: [city]
  - type: function
    function:
      name: now
tool_choice: auto
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_tools_load_and_are_sent_as_openai_tools(tmp_path: Path) -> None:
    prompt = load_prompt(_write(tmp_path, GOOD))
    assert prompt.tool_schemas() == (
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather in a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        },
        {"type": "function", "function": {"name": "now"}},
    )
    assert prompt.tool_choice_value() == "auto"
    data = {
        **yaml.safe_load(GOOD),
        "tool_choice": {"type": "function", "function": {"name": "now"}},
    }
    named = Prompt.model_validate(data)
    assert named.tool_choice_value() == {"type": "function", "function": {"name": "now"}}


def test_a_prompt_without_tools_sends_none() -> None:
    prompt = Prompt(name="p", version="1.0.0", model="m", template="x")
    assert prompt.tool_schemas() is None and prompt.tool_choice_value() is None


FUNCTION_LINE = 8  # `name: get_weather`


@pytest.mark.parametrize(
    ("change", "line", "expected"),
    [
        (("name: get_weather", "name: get weather"), 8, "tools[0].function.name: must be 1-64"),
        (("name: get_weather", "name: ''"), 8, "tools[0].function.name: must be 1-64"),
        (("name: get_weather", f"name: {'x' * 65}"), 8, "must be 1-64"),
        (("name: now", "name: get_weather"), 20, "declared twice: get_weather"),
        (("type: object\n", "type: array\n"), 11, "must describe an object"),
        (("city: {type: string}", "city: {type: text}"), 11, "not a valid JSON Schema at"),
        (("required: [city]", "required: city"), 11, "not a valid JSON Schema"),
        (
            ("  - type: function\n    function:\n      name: now", "  - type: fn"),
            20,
            "type: must be",
        ),
        (("description: Current", "descripton: Current"), 10, "descripton: unknown field"),
        (("tool_choice: auto", "tool_choice: sometimes"), 22, "tool_choice: must be one of"),
        (
            ("tool_choice: auto", "tool_choice: {type: function, function: {name: later}}"),
            22,
            "names function 'later', which is not in tools (get_weather, now)",
        ),
        (("tool_choice: auto", "tool_choice: {type: function}"), 22, "tool_choice"),
        (("tool_choice: auto", "tool_choice: 3"), 22, "tool_choice"),
    ],
)
def test_invalid_tools_point_at_file_and_line(
    tmp_path: Path, change: tuple[str, str], line: int, expected: str
) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(PromptError) as info:
        load_prompt(_write(tmp_path, text))
    issues = info.value.issues
    assert any(expected in str(i) for i in issues), issues
    assert all(i.line is not None and i.file.endswith("p.yaml") for i in issues)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tools: []\n", "tools: must not be empty"),
        ("tools: {a: 1}\n", "tools:"),
        ("tool_choice: required\n", "'required' needs `tools:`"),
        ("tool_choice: {type: function, function: {name: f}}\n", "none declared"),
    ],
)
def test_tool_problems_without_tools(tmp_path: Path, text: str, expected: str) -> None:
    base = "name: p\nversion: 1.0.0\nmodel: m\ntemplate: x\n"
    with pytest.raises(PromptError) as info:
        load_prompt(_write(tmp_path, base + text))
    assert any(expected in str(i) for i in info.value.issues), info.value.issues
    assert all(i.line == 5 for i in info.value.issues)


def test_tool_choice_none_needs_no_tools(tmp_path: Path) -> None:
    base = "name: p\nversion: 1.0.0\nmodel: m\ntemplate: x\ntool_choice: none\n"
    assert load_prompt(_write(tmp_path, base)).tool_choice_value() == "none"


def test_tools_enter_the_hashes_and_leave_tool_less_hashes_alone(tmp_path: Path) -> None:
    plain = Prompt(name="p", version="1.0.0", model="m", template="x")
    # what the hashes were before tools existed
    legacy: dict[str, Any] = {
        "name": "p",
        "version": "1.0.0",
        "model": "m",
        "params": {},
        "system": None,
        "template": "x",
    }
    text = json.dumps(legacy, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert plain.content_hash == hashlib.sha256(text.encode()).hexdigest()
    tooled = load_prompt(_write(tmp_path, GOOD))
    variants = [
        GOOD,
        GOOD.replace("tool_choice: auto", "tool_choice: required"),
        GOOD.replace("tool_choice: auto\n", ""),
        GOOD.replace("Current weather", "The weather"),
        GOOD.replace("required: [city]", "required: []"),
    ]
    hashes = set()
    for i, variant in enumerate(variants):
        path = tmp_path / f"v{i}.yaml"
        path.write_text(variant, encoding="utf-8")
        p = load_prompt(path)
        hashes.add((p.content_hash, p.text_hash))
        assert p.config_hash == tooled.config_hash
    assert len(hashes) == len(variants)


def test_the_prompt_schema_covers_tools() -> None:
    schema = json.loads((ROOT / "docs/schema/prompt.schema.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    good = yaml.safe_load(GOOD)
    assert validator.is_valid(good)
    bad: list[dict[str, Any]] = [
        {**good, "tools": [{"type": "function", "function": {"description": "no name"}}]},
        {**good, "tools": [{"type": "fn", "function": {"name": "f"}}]},
        {**good, "tools": [{"type": "function", "function": {"name": "f", "extra": 1}}]},
        {**good, "tool_choice": {"type": "function"}},
    ]
    for doc in bad:
        assert not validator.is_valid(doc), doc


def _cases(*specs: dict[str, Any]) -> list[Any]:
    from releasegate.datasets.case import Case

    return [
        Case.model_validate({"id": f"c{i}", "input": "x", "assert": [spec], "line": 3 + i})
        for i, spec in enumerate(specs)
    ]


@pytest.mark.parametrize(
    ("spec", "with_tools", "severity", "words"),
    [
        ({"type": "tool-call", "value": "get_wether"}, True, "error", "did you mean"),
        ({"type": "tool-call", "function": "nope"}, True, "error", "declared: get_weather, now"),
        ({"type": "no-tool-call", "value": "nope"}, True, "warning", "not a tool of"),
        ({"type": "tool-call", "value": "get_weather"}, False, "warning", "always fails"),
        ({"type": "valid-tool-call"}, False, "warning", "never applies"),
    ],
)
def test_tool_checks_are_linted_against_the_prompt(
    tmp_path: Path, spec: dict[str, Any], with_tools: bool, severity: str, words: str
) -> None:
    from releasegate.evals._tool_lint import tool_check_issues

    text = GOOD if with_tools else "name: p\nversion: 1.0.0\nmodel: m\ntemplate: x\n"
    prompt = load_prompt(_write(tmp_path, text))
    issues = tool_check_issues(_cases(spec, spec), prompt, file="d.yaml")
    assert len(issues) == 1  # once per check, not once per case
    issue = issues[0]
    assert issue.severity == severity and words in issue.message
    assert str(issue).startswith("d.yaml:3: case 'c0'")


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "tool-call", "value": "get_weather"},
        {"type": "no-tool-call"},
        {"type": "no-tool-call", "value": "now"},
        {"type": "valid-tool-call"},
        {"type": "contains", "value": "x"},
    ],
)
def test_consistent_tool_checks_have_no_issues(tmp_path: Path, spec: dict[str, Any]) -> None:
    from releasegate.evals._tool_lint import tool_check_issues

    prompt = load_prompt(_write(tmp_path, GOOD))
    assert tool_check_issues(_cases(spec), prompt, file="d.yaml") == []


def test_no_tool_call_without_tools_is_fine() -> None:
    from releasegate.evals._tool_lint import tool_check_issues

    assert tool_check_issues(_cases({"type": "no-tool-call"}), None, file="d.yaml") == []
