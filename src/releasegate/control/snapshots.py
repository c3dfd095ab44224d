"""Prompt snapshots: the prompt a deployment was registered with, kept in its record.

A snapshot is ``{"content_hash": str, "prompt": {...}}``: the :class:`Prompt` model's
JSON dump (every field it holds: system, template, params, model, tools...) and its
content hash. The registry keeps one content per prompt ``name@version``; the gateway
serves a version from its snapshot before looking at the project's prompt files.
"""

from __future__ import annotations

from typing import Any

from releasegate.errors import DeploymentError, UsageError
from releasegate.prompts import Prompt

__all__ = ["check_same_prompt", "make_snapshot", "snapshot_prompt"]


def make_snapshot(prompt: Prompt | None, name: str, version: str) -> dict[str, Any] | None:
    """The snapshot of ``prompt`` (None for None).

    Raises:
        UsageError: the prompt is not ``name@version``.
    """
    if prompt is None:
        return None
    if (prompt.name, prompt.version) != (name, version):
        raise UsageError(
            f"the prompt snapshot is {prompt.ref}, but the deployment names {name}@{version}"
        )
    return {"content_hash": prompt.content_hash, "prompt": prompt.model_dump(mode="json")}


def snapshot_prompt(snapshot: dict[str, Any]) -> Prompt:
    """The :class:`Prompt` a stored snapshot holds.

    Raises:
        pydantic.ValidationError: the stored dump is not a valid prompt.
    """
    return Prompt.model_validate(snapshot["prompt"])


def check_same_prompt(existing: dict[str, Any] | None, new: dict[str, Any], ref: str) -> None:
    """Refuse a snapshot of ``ref`` whose content differs from the one already stored.

    Raises:
        DeploymentError: naming both content hashes and the way out (a new version).
    """
    if existing is None or existing.get("content_hash") == new["content_hash"]:
        return
    raise DeploymentError(
        f"prompt {ref} is already registered with other content "
        f"(stored {str(existing.get('content_hash'))[:12]}, this file "
        f"{str(new['content_hash'])[:12]}); a registered prompt version never changes: "
        "give the edited prompt a new version and register that"
    )
