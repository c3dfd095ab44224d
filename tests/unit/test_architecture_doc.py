"""docs/architecture.md's module map names every top-level module and package, and only
those that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "releasegate"


def _module_map() -> str:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = doc.split("## Module map", 1)[1]
    block = section.split("```", 2)[1]
    return block.split("src/releasegate/", 1)[1].split("\ntests/", 1)[0]


def _tree() -> set[str]:
    names = {p.name for p in PACKAGE.glob("*.py")}
    names |= {f"{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    return names


def test_the_module_map_lists_the_tree() -> None:
    listed = set(re.findall(r"^  (\S+)", _module_map(), flags=re.MULTILINE))
    assert listed == _tree()
