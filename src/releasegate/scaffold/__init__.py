"""Project scaffolding for ``releasegate init``.

The templates are plain files shipped inside the package (``scaffold/templates``), so
what ``init`` writes can be read, linted and tested like any other file.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from releasegate.errors import UsageError

__all__ = ["LOCAL_SCAFFOLD_FILES", "SCAFFOLD_FILES", "scaffold_project"]

# Destination in the new project -> template file inside the package.
SCAFFOLD_FILES: dict[str, str] = {
    "releasegate.yaml": "releasegate.yaml",
    "prompts/support-answer.yaml": "prompts/support-answer.yaml",
    "datasets/pr.yaml": "datasets/pr.yaml",
    "datasets/nightly.yaml": "datasets/nightly.yaml",
    ".github/workflows/releasegate.yml": "workflows/releasegate.yml",
    ".github/workflows/releasegate-nightly.yml": "workflows/releasegate-nightly.yml",
}

# ``init --local``: a project on the bundled local model (no key, no network, no CI files:
# a CI runner would need the ``local`` extra and its compile).
LOCAL_SCAFFOLD_FILES: dict[str, str] = {
    "releasegate.yaml": "local/releasegate.yaml",
    "prompts/support-answer.yaml": "local/prompts/support-answer.yaml",
    "datasets/pr.yaml": "local/datasets/pr.yaml",
}


def _template(name: str) -> str:
    return (resources.files(__package__) / "templates" / name).read_text(encoding="utf-8")


def scaffold_project(
    directory: str | Path, *, force: bool = False, local: bool = False
) -> list[Path]:
    """Write the starter project into ``directory`` (created if missing).

    Args:
        directory: where to write.
        force: overwrite files that already exist.
        local: write the project that runs on the bundled local model
            (SmolLM2-135M-Instruct through the ``local`` provider) instead of a hosted one.

    Returns:
        The files written, in order.

    Raises:
        UsageError: when a file exists and ``force`` is false (nothing is written then).
    """
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a directory")
    files = LOCAL_SCAFFOLD_FILES if local else SCAFFOLD_FILES
    existing = [rel for rel in files if (root / rel).exists()]
    if existing and not force:
        raise UsageError(f"{root}: would overwrite {', '.join(existing)}; use --force to overwrite")
    written: list[Path] = []
    for rel, name in files.items():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(_template(name), encoding="utf-8")
        written.append(dest)
    return written
