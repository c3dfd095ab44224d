"""Recording production interactions: validate a batch whole, redact, store once.

Request ids are idempotency keys. A record whose request id is already stored with the
same content is a *duplicate* (a retried batch; nothing written); with different content
it is a *conflict*: reported, and the stored record kept. A batch with any invalid field
is refused whole before anything is written (:class:`~releasegate.online.records.RecordError`).
Feedback that arrived before its interaction is joined in the same transaction.

While the feature has a canary, each new record's request facts are added to that
canary's arm statistics in the same transaction (see :mod:`releasegate.online.arm_facts`),
summed over the batch and written in a fixed order (concurrent writers never deadlock on
them): a retried batch writes nothing and so adds nothing. With a sampler, each new record is
marked due a score when it is stored, and the ``enqueue`` callback is given the ids of
those after the transaction commits (a failure there is logged: the worker's sweep
finds records that were never enqueued).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import orjson

from releasegate.deploy.model import Deployment, utcnow
from releasegate.online.arm_facts import (
    FactsBatch,
    count_request,
    counting_canary,
    feedback_facts,
    is_canary,
)
from releasegate.online.feedback import pick_for_session
from releasegate.online.records import RecordIn, parse_records
from releasegate.online.records_fast import dump_records
from releasegate.online.redaction import Redactor
from releasegate.ports import DuplicateKey, Interaction, UnitOfWork

__all__ = ["BatchResult", "Conflict", "RecordingService", "content_hash", "legacy_content_hash"]

_ATTEMPTS = 3
_LEGACY_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
_REDACTED = ("prompt", "response", "tool_calls", "context", "error", "metadata")
_log = logging.getLogger(__name__)

#: One record ready to store: its interaction, whether its arm is derived, its JSON form.
_Prepared = tuple[Interaction, bool, dict[str, Any]]
#: Decides, when an interaction is recorded, whether it is scored (see online/scoring.py).
Sampler = Callable[[Interaction], bool]
#: Called with the ids of the new interactions due a score, after they are committed.
Enqueue = Callable[[Sequence[int]], None]


@dataclass(frozen=True, slots=True)
class Conflict:
    """A record whose request id is already stored with different content."""

    index: int
    request_id: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "request_id": self.request_id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What a batch did.

    Attributes:
        created: Records stored now.
        duplicates: Records already stored with the same content (retries).
        conflicts: Records refused because their request id holds other content.
        feedback_joined: Earlier feedback joined to the records stored now.
        warnings: Sentences about records stored but probably not meant: a feature with
            no registered deployment, or a version not registered for its feature (a
            typo?). Each named once per batch.
    """

    created: int
    duplicates: int
    conflicts: list[Conflict] = field(default_factory=list)
    feedback_joined: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "conflicts": [c.to_json() for c in self.conflicts],
            "feedback_joined": self.feedback_joined,
            "warnings": list(self.warnings),
        }


class RecordingService:
    """Stores batches of interaction records.

    Args:
        uow: The unit of work (one transaction per batch).
        redactor: Applied to prompts, responses, tool calls, context, errors and
            metadata before anything is stored (defaults: e-mail, phone, card numbers).
        clock: Time of records sent without ``at``.
        sampler: Whether a new interaction is due a score (None: none is).
        enqueue: Given the ids of new interactions due a score, after commit.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        *,
        redactor: Redactor | None = None,
        clock: Callable[[], datetime] = utcnow,
        sampler: Sampler | None = None,
        enqueue: Enqueue | None = None,
    ) -> None:
        self.uow = uow
        self.redactor = redactor or Redactor()
        self.clock = clock
        self.sampler = sampler
        self.enqueue = enqueue

    def record_json(self, body: Any, *, reserved: Collection[str] = ()) -> BatchResult:
        """Validate a decoded ``{"records": [...]}`` body and store it; ``reserved``
        lists the reserved pseudo-features its records may name (the gateway's own).

        Raises:
            RecordError: any invalid field (every one listed; nothing stored).
            TooLarge: more records than the documented limit.
        """
        dumped = dump_records(body, reserved=reserved)  # the fast path, when it can vouch
        if dumped is None:
            return self.record(parse_records(body, reserved=reserved))
        now = self.clock()
        return self._record([self._prepare(data, at or now) for data, at in dumped])

    def record(self, records: Sequence[RecordIn]) -> BatchResult:
        """Store validated records in one transaction (see the module docstring)."""
        now = self.clock()
        return self._record(
            [
                self._prepare(r.model_dump(mode="json", exclude_none=True), r.at or now)
                for r in records
            ]
        )

    def _record(self, prepared: list[_Prepared]) -> BatchResult:
        for attempt in range(_ATTEMPTS):
            try:
                result, due = self._store(prepared)
            except DuplicateKey:  # a concurrent writer took a request id: look again
                if attempt == _ATTEMPTS - 1:
                    raise
            else:
                self._enqueue(due)
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _enqueue(self, due: list[int]) -> None:
        if not due or self.enqueue is None:
            return
        try:
            self.enqueue(due)
        except Exception:  # the records are stored; the worker's sweep picks them up
            _log.exception("could not enqueue %d interaction(s) for scoring", len(due))

    def _prepare(self, data: dict[str, Any], at: datetime) -> _Prepared:
        """The interaction of one valid record in its JSON form (``RecordIn.model_dump(
        mode="json", exclude_none=True)``, redacted here in place), recorded ``at``."""
        get = data.get
        for name in _REDACTED:
            if name in data:
                data[name] = self.redactor.value(data[name])
        digest = content_hash(data)
        arm = get("arm")
        interaction = Interaction(
            request_id=data["request_id"],
            feature=data["feature"],
            arm=arm or "",
            at=at,
            content_hash=digest,
            version=get("version"),
            served_version=get("served_version"),
            model=get("model"),
            unit_key=get("unit_key"),
            session_id=get("session_id"),
            prompt=get("prompt"),
            response=get("response"),
            context=get("context"),
            tool_calls=get("tool_calls"),
            tools=get("tools"),
            latency_ms=get("latency_ms"),
            ttft_ms=get("ttft_ms"),
            prompt_tokens=data["prompt_tokens"],
            completion_tokens=data["completion_tokens"],
            cost_usd=data["cost_usd"],
            error=get("error"),
            fallback_depth=data["fallback_depth"],
            shadow=data["shadow"],
            metadata=get("metadata"),
        )
        return interaction, arm is None, data

    def _store(self, prepared: Sequence[_Prepared]) -> tuple[BatchResult, list[int]]:
        with self.uow as uow:
            ids = [i.request_id for i, _, _ in prepared]
            stored = uow.interactions.by_request_ids(ids)
            deployments: dict[tuple[str, str], Deployment | None] = {}
            canaries: dict[str, Deployment | None] = {}
            registered: dict[str, bool] = {}  # feature -> has any deployment
            warnings: dict[str, None] = {}  # ordered, each once
            seen: dict[str, str] = {}
            new: list[Interaction] = []
            duplicates = 0
            conflicts: list[Conflict] = []
            facts = FactsBatch()
            for index, (template, derive_arm, data) in enumerate(prepared):
                rid = template.request_id
                known = stored[rid].content_hash if rid in stored else seen.get(rid)
                if known is not None:
                    if known == template.content_hash or (
                        rid in stored and known == legacy_content_hash(data)
                    ):
                        duplicates += 1
                    else:
                        conflicts.append(
                            Conflict(
                                index,
                                rid,
                                "this request id is already recorded with different "
                                "content; the recorded one was kept",
                            )
                        )
                    continue
                seen[rid] = template.content_hash
                rec = replace(template)  # per attempt: a failed one leaves no ids
                dep = None
                if rec.version is not None:
                    key = (rec.feature, rec.version)
                    if key not in deployments:
                        deployments[key] = uow.deployments.get(*key)
                    dep = deployments[key]
                rec.deployment_id = dep.id if dep is not None else None
                if derive_arm:
                    rec.arm = "canary" if dep is not None and is_canary(dep) else "incumbent"
                if rec.feature not in canaries:
                    versions = uow.deployments.for_feature(rec.feature)
                    canaries[rec.feature] = counting_canary(versions)
                    registered[rec.feature] = bool(versions)
                    if not versions:
                        warnings[_no_feature(rec.feature)] = None
                if dep is None and rec.version is not None and registered[rec.feature]:
                    warnings[_no_version(rec.feature, rec.version)] = None
                count_request(uow, rec, canaries[rec.feature], facts)
                rec.score_due = self.sampler is not None and self.sampler(rec)
                new.append(rec)
            uow.interactions.add_many(new)
            joined = _join_pending(uow, new, facts)
            facts.write(uow)
            uow.commit()
        due = [i.id for i in new if i.score_due and i.id is not None]
        result = BatchResult(len(new), duplicates, conflicts, joined, list(warnings))
        return result, due


def content_hash(data: Any) -> str:
    """SHA-256 (hex) of a record's JSON form: compact, keys sorted, UTF-8 (orjson); where
    orjson cannot encode a value (an integer beyond 64 bits) the same form from
    :mod:`json`. Equal records hash equal whatever their keys' order.

    Raises:
        TypeError: ``data`` is not JSON-serializable.
    """
    try:
        raw = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        raw = text.encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()


def legacy_content_hash(data: Any) -> str:
    """The content hash that records stored before :func:`content_hash` carry (the same
    JSON from :mod:`json`, with its default spacing; about 8 times slower): a retry of
    such a record still counts as a duplicate, not a conflict."""
    text = _LEGACY_JSON.encode(data)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _no_feature(feature: str) -> str:
    return (
        f"feature {feature!r} has no registered deployment: its records are stored, but "
        "no version of it can be compared or scored against a canary (a typo?)"
    )


def _no_version(feature: str, version: str) -> str:
    return (
        f"version {version!r} is not registered for feature {feature!r}: its records are "
        "stored without a deployment (a typo?)"
    )


def _join_pending(uow: UnitOfWork, new: Sequence[Interaction], facts: FactsBatch) -> int:
    if not new:
        return 0
    by_request = {i.request_id: i for i in new}
    by_session: dict[str, list[Interaction]] = {}
    for i in new:
        if i.session_id is not None:
            by_session.setdefault(i.session_id, []).append(i)
    joined = 0
    for fb in uow.feedback.pending(request_ids=list(by_request), session_ids=list(by_session)):
        if fb.request_id is not None:
            target = by_request.get(fb.request_id)
        else:
            target = pick_for_session(by_session.get(fb.session_id or "", []), fb.at)
        if target is not None and target.id is not None and fb.id is not None:
            uow.feedback.join(fb.id, target.id)
            facts.add(target, feedback_facts(fb))
            joined += 1
    return joined
