"""Docs and code stand alone: they never cite requirement ids of a document that is not in
the repository ("SPEC R-1.9", "SPEC 3", "(R-2.2)"), neither in user docs nor in the
package's docstrings and comments (which `help()` and the API docs show)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.project_files import generated

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r"\bSPEC\b|\bR-\d+(?:\.\d+)*\b")
TEXT_SUFFIXES = {".md", ".json", ".yaml", ".yml", ".txt", ".html", ".j2", ".toml", ".csv", ".jsonl"}


def user_facing_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in ("docs", "examples", "benchmarks", "src/releasegate/scaffold/templates"):
        files += [
            p
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and p.suffix in TEXT_SUFFIXES and not generated(p)
        ]
    files += [p for p in (ROOT / "src" / "releasegate").rglob("*.py") if p.is_file()]
    return sorted(files)


def citations(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if CITATION.search(line)]


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        ("Prompts are versioned files (SPEC R-1.9).", True),
        ("# CI integration (SPEC R-1.9, R-1.10)", True),
        ("the canary analysis (SPEC 3) calls it", True),
        ("| router | decisions per second | R-2.2 |", True),
        ("gpt-4o-2024-11-20 and R-squared, SPECIAL_CHARS, spec files", False),
        ("HTTP 404 for model X-1.2", False),
    ],
)
def test_the_pattern_finds_citations_and_nothing_else(text: str, cited: bool) -> None:
    assert bool(citations(text)) is cited


def test_there_are_docs_to_check() -> None:
    names = {p.name for p in user_facing_files()}
    assert {"README.md", "ci.md", "deployments.md", "cli.md", "config.md"} <= names


@pytest.mark.parametrize("path", user_facing_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_requirement_ids_in_user_docs(path: Path) -> None:
    assert citations(path.read_text(encoding="utf-8", errors="replace")) == []
