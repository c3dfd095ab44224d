"""`releasegate eval` and `validate` on a prompt with tools, answered by a scripted model
that makes tool calls: exit codes, and tool calls in every report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

PROMPT = {
    "name": "assistant",
    "version": "1.0.0",
    "model": "scripted",
    "system": "Use the tools when they help.",
    "template": "{{ input }}",
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather in a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
            },
        }
    ],
    "tool_choice": "auto",
}

RESPONSES: dict[str, Any] = {
    "weather": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
    "chat": "Hello! How can I help?",
    "bad-args": {
        "tool_calls": [{"name": "get_weather", "arguments": '"<script>alert(1)</script>"'}]
    },
    "no-function": {"output": "", "tool_calls": [{"id": "call_9", "type": "function"}]},
    "wrong-city": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Lyon"}}]},
}

CASES: list[dict[str, Any]] = [
    {
        "id": "weather",
        "input": "Weather in Paris?",
        "tags": ["good"],
        "assert": [
            {"type": "tool-call", "value": "get_weather", "arguments": {"city": "Paris"}},
            {"type": "valid-tool-call"},
        ],
    },
    {
        "id": "chat",
        "input": "Hi",
        "tags": ["good"],
        "assert": [{"type": "no-tool-call"}, {"type": "contains", "value": "Hello"}],
    },
    {
        "id": "bad-args",
        "input": "Weather?",
        "assert": [{"type": "valid-tool-call"}],
    },
    {
        "id": "no-function",
        "input": "Weather in Oslo?",
        "assert": [{"type": "tool-call", "value": "get_weather"}],
    },
    {
        "id": "wrong-city",
        "input": "Weather in Paris?",
        "assert": [
            {
                "type": "tool-call",
                "value": "get_weather",
                "schema": {"properties": {"city": {"const": "Paris"}}},
            }
        ],
    },
]


def make(root: Path, prompt: dict[str, Any] | None = None) -> None:
    (root / "prompts").mkdir(parents=True)
    (root / "datasets").mkdir()
    (root / "prompts" / "assistant.yaml").write_text(yaml.safe_dump(prompt or PROMPT))
    (root / "datasets" / "cases.yaml").write_text(yaml.safe_dump(CASES, sort_keys=False))
    config = {
        "version": 1,
        "providers": {"target": {"type": "scripted", "model": "scripted", "responses": RESPONSES}},
        "prompts": "prompts/",
        "suites": {
            "pr": {
                "dataset": "datasets/cases.yaml",
                "prompt": "assistant",
                "target": "target",
                "gate": {"min_pass_rate": 1.0},
            }
        },
        "cache": {"enabled": True, "path": ".releasegate/cache.sqlite"},
    }
    (root / "releasegate.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_eval_with_tool_calls_gates_and_reports(tmp_path: Path) -> None:
    make(tmp_path)
    run = cli(
        tmp_path,
        "eval",
        "--suite",
        "pr",
        "-o",
        "out/r.json",
        "--markdown",
        "out/r.md",
        "--html",
        "out/r.html",
    )
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    report = json.loads((tmp_path / "out/r.json").read_text())
    cases = {c["id"]: c for c in report["cases"]}
    assert {k: c["passed"] for k, c in cases.items()} == {
        "weather": True,
        "chat": True,
        "bad-args": False,
        "no-function": False,
        "wrong-city": False,
    }
    call = cases["weather"]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert cases["chat"]["tool_calls"] is None
    reasons = {k: [ch["reason"] for ch in c["checks"]] for k, c in cases.items()}
    assert "arguments are a JSON string, not an object" in reasons["bad-args"][0]
    assert "no 'function'" in reasons["no-function"][0]
    assert "$.city" in reasons["wrong-city"][0]
    assert all(ch["status"] == "measured" for c in cases.values() for ch in c["checks"])
    assert report["identity"]["prompt_hash"]

    markdown = (tmp_path / "out/r.md").read_text()
    assert "tool calls:" in markdown and "get_weather(" in markdown
    assert "tool_calls[0]:" in markdown  # the entry without a function, shown as JSON
    html = (tmp_path / "out/r.html").read_text()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html
    assert "get_weather({&#34;city&#34;: &#34;Paris&#34;})" in html

    # A re-run is served from the cache, tool calls included.
    again = cli(tmp_path, "eval", "--suite", "pr", "-o", "out/r2.json")
    assert again.returncode == 1, again.stderr
    second = json.loads((tmp_path / "out/r2.json").read_text())
    assert second["summary"]["n_cached"] == len(CASES)
    assert [c["tool_calls"] for c in second["cases"]] == [c["tool_calls"] for c in report["cases"]]
    assert [c["passed"] for c in second["cases"]] == [c["passed"] for c in report["cases"]]


def test_eval_passes_on_the_good_cases(tmp_path: Path) -> None:
    make(tmp_path)
    run = cli(tmp_path, "eval", "--suite", "pr", "--tag", "good", "-o", "r.json")
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["n_passed"] == 2


def test_validate_names_the_file_and_line_of_a_bad_tool(tmp_path: Path) -> None:
    bad = {**PROMPT, "tool_choice": {"type": "function", "function": {"name": "get_time"}}}
    make(tmp_path, bad)
    run = cli(tmp_path, "validate")
    assert run.returncode == 2, run.stdout + run.stderr
    out = run.stdout + run.stderr
    assert "assistant.yaml:" in out
    assert "get_time" in out and "not in tools" in out


def test_validate_refuses_a_tool_call_check_on_an_undeclared_function(tmp_path: Path) -> None:
    make(tmp_path)
    cases = [{"id": "typo", "input": "x", "assert": [{"type": "tool-call", "value": "get_wether"}]}]
    (tmp_path / "datasets" / "cases.yaml").write_text(yaml.safe_dump(cases))
    run = cli(tmp_path, "validate")
    assert run.returncode == 2, run.stdout + run.stderr
    out = " ".join((run.stdout + run.stderr).split())
    assert "cases.yaml" in out and "get_wether" in out and "get_weather" in out
    run = cli(tmp_path, "eval", "--suite", "pr")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "get_wether" in run.stdout + run.stderr


def test_validate_accepts_the_tool_checks(tmp_path: Path) -> None:
    make(tmp_path)
    run = cli(tmp_path, "validate")
    assert run.returncode == 0, run.stdout + run.stderr
