"""The demo's project files: written from the package into a directory, and read back.

The files live in ``releasegate/demo/project`` (package data): a ``releasegate.yaml``,
three prompt versions, the golden dataset, the rollout plans and the simulated traffic.
Only the model server's URL is filled in when they are written (its port is chosen at
run time).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from releasegate._yaml import load_yaml_file
from releasegate.deploy.plans import RolloutPlan
from releasegate.errors import ConfigError, UsageError

__all__ = ["FEATURE", "Traffic", "load_plan", "load_traffic", "write_project"]

#: The feature the demo deploys.
FEATURE = "review-sentiment"
_URL_MARK = "__MODEL_URL__"


def _files(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            if child.name != "__pycache__":
                out.extend(_files(child, rel + "/"))
        elif child.name.endswith((".yaml", ".md")):
            out.append((rel, child))
    return out


def write_project(directory: Path, model_url: str) -> list[Path]:
    """Write the demo project into ``directory`` (created if missing), with the model
    server at ``model_url`` (an OpenAI-compatible ``/v1`` base URL).

    Returns:
        The files written.

    Raises:
        UsageError: ``directory`` is a file, or a folder that is not empty (the demo
            starts from a fresh database and never overwrites files).
    """
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UsageError(
            f"--dir {directory}: choose a new or empty directory (the demo writes a project "
            "and a fresh database there)"
        )
    written = []
    for rel, source in _files(resources.files(__package__) / "project"):
        dest = directory / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(source.read_text(encoding="utf-8").replace(_URL_MARK, model_url), "utf-8")
        written.append(dest)
    return written


def _load(path: Path) -> object:
    return load_yaml_file(path).data


def load_plan(path: Path) -> RolloutPlan:
    """The rollout plan in ``path`` (a YAML mapping with ``name`` and ``stages``).

    Raises:
        ConfigError: the file is not a valid plan.
    """
    try:
        return RolloutPlan.model_validate(_load(path))
    except ValueError as exc:
        raise ConfigError(f"{path}: not a rollout plan: {exc}") from None


@dataclass(frozen=True)
class Traffic:
    """What the simulated users send: ``reviews``, from ``users`` distinct user ids."""

    users: int
    reviews: tuple[str, ...]


def load_traffic(path: Path) -> Traffic:
    """The simulated traffic in ``path``.

    Raises:
        ConfigError: the file lacks ``users`` (a positive integer) or ``reviews``.
    """
    data = _load(path)
    users = data.get("users") if isinstance(data, dict) else None
    reviews = data.get("reviews") if isinstance(data, dict) else None
    if not isinstance(users, int) or users < 1 or not isinstance(reviews, list) or not reviews:
        raise ConfigError(f"{path}: needs users (a positive integer) and a list of reviews")
    return Traffic(users=users, reviews=tuple(str(r) for r in reviews))
