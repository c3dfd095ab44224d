"""Which files under the project's root are its own (for the tests that read them all)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_LEFT_BY_RUNS = frozenset({"out", "node_modules", "site-packages", ".venv"})


def generated(path: Path) -> bool:
    """A file a run left in the tree, not one of the project's own: a benchmark's
    ``out/`` folder (results, the peers' virtualenvs), installed packages."""
    return bool(_LEFT_BY_RUNS & set(path.relative_to(ROOT).parts))
