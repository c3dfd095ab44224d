"""Every relative link in the README, the docs and the benchmark and example READMEs
leads somewhere: the file (or folder) exists, and a `#fragment` names a heading of the
Markdown file it points to, with the anchor GitHub gives that heading."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.support.project_files import generated

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target); the target stops at whitespace or ")".
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+\1")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def doc_files() -> list[Path]:
    found = [
        ROOT / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
        *sorted((ROOT / "benchmarks").rglob("README.md")),
        *sorted((ROOT / "examples").rglob("*.md")),
    ]
    return [p for p in found if not generated(p)]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    out: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append((number, line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: inline markup dropped, lower case, every
    character but letters, digits, spaces, `-` and `_` removed, spaces to `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.lower()
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor of a Markdown file, duplicates numbered as GitHub does (`-1`, `-2`)."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def links(path: Path) -> list[tuple[int, str]]:
    """Relative link targets of a Markdown file with their line numbers (code excluded)."""
    found: list[tuple[int, str]] = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for match in LINK.finditer(INLINE_CODE.sub("", line)):
            target = match.group(1)
            if not EXTERNAL.match(target):
                found.append((number, target))
    return found


def broken(path: Path) -> list[str]:
    """What is wrong with each relative link of `path`, as `file:line: target: why`."""
    problems: list[str] = []
    name = path.relative_to(ROOT)
    for number, target in links(path):
        file_part, _, fragment = target.partition("#")
        dest = (path.parent / unquote(file_part)).resolve() if file_part else path
        where = f"{name}:{number}: {target}"
        if not dest.exists():
            problems.append(f"{where}: no such file")
        elif fragment and dest.suffix == ".md" and unquote(fragment) not in anchors(dest):
            problems.append(f"{where}: no heading with this anchor in {dest.name}")
    return problems


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Circuit breakers", "circuit-breakers"),
        ("`releasegate deploy canary`", "releasegate-deploy-canary"),
        ("Is it ready for a canary?", "is-it-ready-for-a-canary"),
        ("When PostgreSQL or Redis is down", "when-postgresql-or-redis-is-down"),
        ("Quality: an asymptotic confidence sequence", "quality-an-asymptotic-confidence-sequence"),
        ('Stages, time and "no data"', "stages-time-and-no-data"),
        ("0001_control_plane: Control plane", "0001_control_plane-control-plane"),
        (
            "What the version changes, and what it does not",
            "what-the-version-changes-and-what-it-does-not",
        ),
        ("Scores and pass/fail", "scores-and-passfail"),
        ("See [the gateway](gateway.md)", "see-the-gateway"),
    ],
)
def test_slug_is_the_anchor_github_gives(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_duplicate_headings_are_numbered_and_code_is_skipped(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n## Usage\n```yaml\n# not a heading\n[x](missing.md)\n```\n## Usage\n"
        "Run `[y](also-missing.md)` then see [it](#usage-1) and [bad](#nope).\n",
        encoding="utf-8",
    )
    assert anchors(page) == {"title", "usage", "usage-1"}
    assert links(page) == [(8, "#usage-1"), (8, "#nope")]


def test_there_are_links_to_check() -> None:
    assert sum(len(links(p)) for p in doc_files()) > 100


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    assert broken(path) == []
