"""validate_project on small projects: every issue, across every file."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.bootstrap import eval_adapters
from releasegate.errors import Issue, UsageError
from releasegate.evals.validate import has_errors, validate_project


def validate(path: Path | str | None, *, allow_unpinned: bool = False) -> list[Issue]:
    """``validate_project`` with the adapters ``releasegate validate`` uses."""
    return validate_project(path, adapters=eval_adapters(), allow_unpinned=allow_unpinned)


@pytest.fixture(autouse=True)
def _api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # validate builds the openai target as eval does, which reads its key variable; a
    # missing key is a warning (tests in test_validate_builds_like_eval.py).
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-never-sent")


def _make(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path / "releasegate.yaml"


CONFIG = """\
providers:
  target: {type: openai, model: gpt-4o-2024-11-20}
suites:
  pr:
    dataset: data/pr.yaml
    prompt: support
"""
PROMPT = """\
name: support
version: 1.0.0
model: gpt-4o-2024-11-20
template: "{{ input }} in {{ city }}"
"""
DATA = """\
- id: a
  input: weather
  vars: {city: Oslo}
  assert: [{type: contains, value: Oslo}]
"""


def test_valid_project_has_no_issues(tmp_path: Path) -> None:
    config = _make(
        tmp_path,
        {"releasegate.yaml": CONFIG, "prompts/support.yaml": PROMPT, "data/pr.yaml": DATA},
    )
    assert validate(config) == []
    assert validate(tmp_path) == []


def test_collects_issues_across_all_files(tmp_path: Path) -> None:
    config = CONFIG.replace("gpt-4o-2024-11-20", "gpt-4o") + (
        "  nightly:\n    dataset: [data/pr.yaml, data/missing.csv, data/bad.jsonl]\n"
        "    prompt: suport\n"
    )
    data = DATA + "- id: b\n  input: no city here\n- id: c\n  input: x\n  weight: -1\n"
    config_path = _make(
        tmp_path,
        {
            "releasegate.yaml": config,
            "prompts/support.yaml": PROMPT.replace("gpt-4o-2024-11-20", "claude-3-opus"),
            "prompts/broken.yaml": "name: broken\nversion: 1\n",
            "data/pr.yaml": data,
            "data/bad.jsonl": '{"id": "z", "input": "x", "assert": [{"type": "nope"}]}\n',
        },
    )
    issues = validate(config_path)
    text = "\n".join(str(i) for i in issues)
    assert has_errors(issues)
    assert "'gpt-4o' is a floating alias" in text  # provider model
    assert "'claude-3-opus' is a floating alias" in text  # prompt model
    assert "broken.yaml" in text  # bad prompt file
    assert "no prompt named 'suport'" in text and "did you mean 'support'" in text
    assert "weight: must be >= 0" in text  # bad case
    assert "dataset 'data/missing.csv' not found" in text
    assert "unknown check type 'nope'" in text
    # Case b renders no template variable 'city'; found before any model is called.
    render = [i for i in issues if i.case_id == "b"]
    assert len(render) == 1 and "'city' is undefined" in render[0].message
    assert render[0].line == 5
    # The dataset shared by two suites is reported once.
    assert sum("weight: must be >= 0" in i.message for i in issues) == 1
    pins = [i for i in issues if "floating alias" in i.message]
    assert {i.line for i in pins} == {2, 3}


def test_allow_unpinned_turns_pins_into_warnings(tmp_path: Path) -> None:
    config = _make(
        tmp_path,
        {
            "releasegate.yaml": CONFIG.replace("gpt-4o-2024-11-20", "gpt-4o"),
            "prompts/support.yaml": PROMPT,
            "data/pr.yaml": DATA,
        },
    )
    strict = validate(config)
    assert [i.severity for i in strict] == ["error"]
    relaxed = validate(config, allow_unpinned=True)
    assert [i.severity for i in relaxed] == ["warning"]
    assert not has_errors(relaxed)


def test_invalid_config_stops_with_its_issues(tmp_path: Path) -> None:
    config = _make(tmp_path, {"releasegate.yaml": CONFIG.replace("prompt: support", "prompt: [")})
    issues = validate(config)
    assert len(issues) == 1 and "invalid YAML" in issues[0].message


def test_missing_config_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        validate(tmp_path)


def test_render_issues_are_capped(tmp_path: Path) -> None:
    data = "".join(f"- {{id: c{i}, input: x}}\n" for i in range(25))
    config = _make(
        tmp_path,
        {"releasegate.yaml": CONFIG, "prompts/support.yaml": PROMPT, "data/pr.yaml": data},
    )
    issues = validate(config)
    assert len(issues) == 11
    assert "15 more cases fail to render (25 of 25 in total)" in issues[-1].message
