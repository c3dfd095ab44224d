"""docs/checks.md stays in step with the registered checks and its examples are valid."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ._support import build
from .test_robustness import SPECS

DOC = Path(__file__).resolve().parents[3] / "docs" / "checks.md"


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def test_reference_table_lists_every_deterministic_check() -> None:
    table_rows = [line for line in _doc().splitlines() if line.startswith("| `")]
    documented: set[str] = set()
    for row in table_rows:
        first_cell = row.split("|")[1]
        documented.update(re.findall(r"`([a-z-]+)`", first_cell))
    # valid-tool-call needs the declared tools (test_tool_checks.py covers it)
    assert documented == set(SPECS) | {"valid-tool-call"}


def _asserts(block: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(block, dict):
        if "type" in block:
            found.append(block)
        for key, val in block.items():
            if key == "assert":
                found.extend(val)
    elif isinstance(block, list):
        for item in block:
            found.extend(_asserts(item))
    return found


def test_yaml_examples_build() -> None:
    blocks = re.findall(r"^```yaml\n(.*?)^```$", _doc(), flags=re.DOTALL | re.MULTILINE)
    specs = [spec for block in blocks for spec in _asserts(yaml.safe_load(block))]
    assert len(specs) >= 20
    for spec in specs:
        scorer = build(spec, where="docs/checks.md")
        assert scorer.name == spec["type"]
