"""The committed JSON Schemas and config reference match the code, and validate files."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_schema", ROOT / "scripts" / "gen_schema.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "docs" / "schema" / name).read_text("utf-8"))
    return data


def test_committed_files_equal_generated() -> None:
    for rel, text in _generator().render_all().items():
        path = ROOT / rel
        assert path.exists(), f"{rel} missing: run python scripts/gen_schema.py"
        assert path.read_text(encoding="utf-8") == text, (
            f"{rel} is stale: run python scripts/gen_schema.py"
        )


def test_check_mode_reports_stale_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gen = _generator()
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    assert gen.main(["--check"]) == 1
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    assert (tmp_path / "docs" / "config.md").read_text(encoding="utf-8").startswith("# Config")


def test_schemas_are_valid_json_schemas() -> None:
    for name in ("releasegate", "prompt", "dataset", "report"):
        jsonschema.Draft202012Validator.check_schema(_schema(f"{name}.schema.json"))


def test_dataset_schema_accepts_both_layouts_and_rejects_bad_cases() -> None:
    validator = jsonschema.Draft202012Validator(_schema("dataset.schema.json"))
    listed = yaml.safe_load("- {id: a, input: hi, assert: [{type: contains, value: hi}]}")
    mapped = yaml.safe_load(
        "defaults: {tags: [x], assert: [{type: regex, value: a}]}\n"
        "cases:\n  - {id: a, input: {q: 1}, weight: 2}\n"
    )
    assert validator.is_valid(listed)
    assert validator.is_valid(mapped)
    assert not validator.is_valid([{"input": "no id"}])
    assert not validator.is_valid([{"id": "a", "input": "x", "weight": -1}])
    assert not validator.is_valid({"defaults": {"id": "x"}, "cases": []})
    assert not validator.is_valid([{"id": "a", "input": "x", "line": 3}])


def test_dataset_schema_covers_conversations_and_turns() -> None:
    validator = jsonschema.Draft202012Validator(_schema("dataset.schema.json"))
    history = yaml.safe_load(
        "- id: h\n  input: now?\n  messages:\n"
        "    - {role: user, content: hi}\n"
        "    - {role: assistant, tool_calls: [{id: c, type: function}]}\n"
        "    - {role: tool, tool_call_id: c, content: '42'}\n"
    )
    turns = yaml.safe_load(
        "- id: t\n  on_turn_failure: stop\n  turn_aggregate: min\n"
        "  turns: [{input: hi, assert: [{type: contains, value: hi}]}, {input: bye}]\n"
    )
    assert validator.is_valid(history)
    assert validator.is_valid(turns)
    assert not validator.is_valid([{"id": "x"}])  # neither input nor turns
    assert not validator.is_valid([{"id": "x", "input": "q", "messages": [{"role": "bot"}]}])
    assert not validator.is_valid([{"id": "x", "turns": [{"input": "q"}], "turn_aggregate": "p"}])


def test_prompt_and_config_schemas_match_the_loaders() -> None:
    prompt = _schema("prompt.schema.json")
    assert "path" not in prompt["properties"]
    assert set(prompt["required"]) == {"name", "version", "model", "template"}
    assert "messages" in prompt["properties"]
    config = _schema("releasegate.schema.json")
    assert {"providers", "suites", "prompts", "pricing", "cache"} <= set(config["properties"])


def test_config_reference_lists_every_key() -> None:
    from releasegate.config import GateConfig, ProjectConfig, ProviderConfig, SuiteConfig

    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    for model in (ProjectConfig, ProviderConfig, SuiteConfig, GateConfig):
        assert f"## {model.__name__}" in text
        for name, field in model.model_fields.items():
            assert f"| `{field.alias or name}` |" in text
