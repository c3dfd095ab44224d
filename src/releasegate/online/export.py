"""Production interactions back into the golden dataset: every incident a regression case.

:func:`export_cases` turns recorded interactions (already redacted when they were
stored) into dataset cases in the project's own format, with their provenance in
``metadata``; :func:`write_cases` adds them to a dataset file. A case's id is derived
from the request id, so exporting the same interaction twice never duplicates it: ids
already in the file are skipped.

The exported case holds the user's text as ``input`` and the retrieved chunks as
``context``; what production answered is kept as ``metadata.production_output`` (and
the tool calls it made as ``metadata.production_tool_calls``) for the
person who writes the case's checks (an exported case has none of its own: the
dataset's ``defaults`` apply until someone adds them).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from releasegate.canary.records import OVERALL
from releasegate.datasets.dataset import load_dataset
from releasegate.errors import UsageError
from releasegate.ports import FeedbackEntry, Interaction, UnitOfWork

__all__ = ["EXPORT_HEADER", "ExportResult", "Where", "case_id", "export_cases", "write_cases"]

Where = Literal["negative-feedback", "error", "low-score"]
WHERE: tuple[Where, ...] = ("negative-feedback", "error", "low-score")
#: ``low-score``: an overall online score below this, unless the caller says otherwise
LOW_SCORE = 0.5
#: First line of a YAML file written by the export: only such files are appended to.
EXPORT_HEADER = "# Production cases exported by `releasegate dataset export`; add checks to each."


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What :func:`write_cases` did.

    Attributes:
        path: The dataset file.
        added: Cases written.
        already: Cases skipped because their id was already in the file.
        without_input: Interactions skipped because they held no user text.
    """

    path: Path
    added: int
    already: int
    without_input: int


def case_id(request_id: str) -> str:
    """The case id of an interaction: stable across exports, never a raw request id."""
    return "prod-" + hashlib.sha256(request_id.encode()).hexdigest()[:16]


def _text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        joined = "\n".join(t for t in parts if isinstance(t, str))
        return joined or None
    return None


def _user_text(i: Interaction) -> str | None:
    for message in reversed(i.prompt or []):
        if isinstance(message, dict) and message.get("role") == "user":
            text = _text(message.get("content"))
            if text and text.strip():
                return text
    return None


def _case(i: Interaction, text: str, why: list[str], fb: Sequence[FeedbackEntry]) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "source": "production",
        "feature": i.feature,
        "request_id": i.request_id,
        "served_version": i.served_version or i.version,
        "assigned_version": i.version,
        "model": i.model,
        "at": i.at.isoformat(),
        "production_output": i.response,
        "production_tool_calls": i.tool_calls or None,
    }
    if i.error is not None:
        meta["error"] = i.error
    if i.fallback_depth:
        meta["fallback_depth"] = i.fallback_depth
    if fb:
        meta["feedback"] = [
            {"rating": e.rating, "scale": e.scale, "comment": e.comment} for e in fb
        ]
    case: dict[str, Any] = {"id": case_id(i.request_id), "input": text}
    if i.context:
        case["context"] = list(i.context)
    case["tags"] = ["production", *why]
    case["metadata"] = {k: v for k, v in meta.items() if v is not None}
    return case


def export_cases(
    uow: UnitOfWork,
    feature: str,
    *,
    version: str | None = None,
    where: Iterable[Where] = WHERE,
    below: float = LOW_SCORE,
    limit: int = 1000,
) -> tuple[list[dict[str, Any]], int]:
    """Dataset cases from ``feature``'s interactions that match ``where``.

    Args:
        uow: The unit of work to read through.
        feature: The feature.
        version: Only interactions served by this version.
        where: ``negative-feedback``, ``error`` and/or ``low-score`` (an overall online
            score below ``below``); default all three, any kind.
        below: The ``low-score`` threshold, in [0, 1].
        limit: At most this many interactions, oldest first.

    Returns:
        ``(cases, without_input)``: the cases as mappings in dataset form, and how many
        matching interactions held no user text to make a case of.

    Raises:
        UsageError: an unknown ``where``.
    """
    kinds = set(where)
    unknown = kinds - set(WHERE)
    if not 0.0 <= below <= 1.0:
        raise UsageError(f"--below must be a score from 0 to 1, got {below:g}")
    if unknown or not kinds:
        got = ", ".join(sorted(unknown)) or "nothing"
        raise UsageError(f"--where must be one of {', '.join(WHERE)}, got {got}")
    with uow:
        found = uow.interactions.matching(
            feature,
            version=version,
            errors="error" in kinds,
            negative_feedback="negative-feedback" in kinds,
            score_below=below if "low-score" in kinds else None,
            limit=limit,
        )
        overall = {i.request_id: _overall(uow, i) for i in found} if "low-score" in kinds else {}
        feedback = {i.request_id: list(uow.feedback.for_request(i.request_id)) for i in found}
    cases, without = [], 0
    for i in found:
        text = _user_text(i)
        if text is None:
            without += 1
            continue
        fb = feedback.get(i.request_id, [])
        score = overall.get(i.request_id)
        hits = (
            ("error", i.error is not None),
            ("negative-feedback", any(e.negative for e in fb)),
            ("low-score", score is not None and score < below),
        )
        why = [w for w, hit in hits if hit]
        case = _case(i, text, why, fb)
        if score is not None:
            case["metadata"]["online_score"] = score
        cases.append(case)
    return cases, without


def _overall(uow: UnitOfWork, i: Interaction) -> float | None:
    if i.id is None:
        return None
    for s in uow.scores.for_interaction(i.id):
        if s.check == OVERALL:
            return s.value
    return None


def _feedback_of(uow: UnitOfWork, i: Interaction) -> list[FeedbackEntry]:
    # rated by request, or by session and joined to this interaction
    mine = list(uow.feedback.for_request(i.request_id))
    if i.session_id is not None:
        seen = {e.id for e in mine}
        mine += [
            e
            for e in uow.feedback.for_session(i.session_id)
            if e.interaction_id == i.id and e.id not in seen
        ]
    return mine


def _existing_ids(path: Path) -> set[str]:
    if not path.exists() or path.stat().st_size == 0:
        return set()
    if path.suffix in (".yaml", ".yml"):
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]
        if first.strip() != EXPORT_HEADER:
            raise UsageError(
                f"{path}: not a file written by `releasegate dataset export`; export into a "
                "new file (or a .jsonl file, which is appended to) and list it in the "
                "suite's datasets, so that your own comments and layout are never rewritten"
            )
    return {c.id for c in load_dataset(path).cases}


def write_cases(
    path: Path, cases: Sequence[dict[str, Any]], *, without_input: int = 0
) -> ExportResult:
    """Add ``cases`` to the dataset file ``path`` (``.jsonl``, ``.yaml`` or ``.yml``).

    A new file is created. A JSONL file is appended to; a YAML file only when this export
    wrote it (its first line is :data:`EXPORT_HEADER`). Cases whose id is already in
    the file are skipped. The file is replaced atomically: an interrupted export leaves
    the old file whole.

    Raises:
        UsageError: another suffix, or a YAML file the export did not write.
        DatasetError: the existing file is not a valid dataset (it is left untouched).
    """
    if path.suffix not in (".jsonl", ".yaml", ".yml"):
        raise UsageError(f"{path}: the export writes .jsonl, .yaml or .yml datasets")
    have = _existing_ids(path)
    new = [c for c in cases if c["id"] not in have]
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if path.suffix == ".jsonl":
        lines = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in new)
        text = (old if not old or old.endswith("\n") else old + "\n") + lines
    else:
        items = yaml.safe_dump(new, sort_keys=False, allow_unicode=True, width=100) if new else ""
        text = (old if old else EXPORT_HEADER + "\ncases:\n") + items
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ExportResult(path, len(new), len(cases) - len(new), without_input)
