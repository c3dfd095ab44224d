"""User feedback: thumbs or 1-5 ratings by request id or session id, joined to the
interaction (and so the version) that served it.

Feedback may arrive before its interaction (the application's recorder batches, the
user clicks at once): it is kept unjoined and joined by :mod:`releasegate.online.recording`
when the interaction arrives. A rating joined to an interaction that was counted in a
canary's statistics is added to them in the same transaction (see
:mod:`releasegate.online.arm_facts`). Feedback by session joins the session's latest interaction
served at or before the feedback's time (the earliest one when all are later).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from releasegate.deploy.model import utcnow
from releasegate.online.arm_facts import add_facts, feedback_facts
from releasegate.online.records import FeedbackIn, parse_feedback
from releasegate.online.redaction import Redactor
from releasegate.ports import DuplicateKey, FeedbackEntry, Interaction, UnitOfWork

__all__ = ["FeedbackOutcome", "FeedbackService", "pick_for_session"]

_ATTEMPTS = 3


def pick_for_session(interactions: Sequence[Interaction], at: datetime) -> Interaction | None:
    """The interaction of a session that feedback given at ``at`` rates: the latest one
    served at or before ``at``, else the earliest; None for no interactions."""
    if not interactions:
        return None
    ordered = sorted(interactions, key=lambda i: (i.at, i.id or 0))
    before = [i for i in ordered if i.at <= at]
    return before[-1] if before else ordered[0]


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    """What became of one feedback item.

    Attributes:
        index: Its position in the request.
        status: ``joined`` (to a recorded interaction), ``pending`` (kept until the
            interaction arrives) or ``duplicate`` (its key was already stored; nothing
            written).
        served_version: The version that served the joined interaction.
    """

    index: int
    status: str
    served_version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "status": self.status, "served_version": self.served_version}


class FeedbackService:
    """Stores feedback and joins it to interactions.

    Args:
        uow: The unit of work (one transaction per call).
        redactor: Applied to comments before they are stored (defaults: e-mail, phone,
            card numbers).
        clock: Time of feedback sent without ``at``.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        *,
        redactor: Redactor | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.uow = uow
        self.redactor = redactor or Redactor()
        self.clock = clock

    def give_json(self, body: Any) -> list[FeedbackOutcome]:
        """Validate a decoded request body (one item or ``{"feedback": [...]}``) and store it.

        Raises:
            RecordError: invalid items (nothing stored); TooLarge: too many.
        """
        return self.give(parse_feedback(body))

    def give(self, items: Sequence[FeedbackIn]) -> list[FeedbackOutcome]:
        """Store validated feedback, all of it in one transaction."""
        now = self.clock()
        entries = [self._entry(item, now) for item in items]
        for attempt in range(_ATTEMPTS):
            try:
                return self._store(entries)
            except DuplicateKey:
                if attempt == _ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _entry(self, item: FeedbackIn, now: datetime) -> FeedbackEntry:
        thumbs = item.rating in ("up", "down")
        rating = (1.0 if item.rating == "up" else 0.0) if thumbs else float(item.rating)
        comment = self.redactor.text(item.comment) if item.comment is not None else None
        return FeedbackEntry(
            rating=rating,
            scale="thumbs" if thumbs else "1-5",
            at=item.at or now,
            request_id=item.request_id,
            session_id=item.session_id,
            comment=comment,
            key=item.key,
        )

    def _store(self, entries: Sequence[FeedbackEntry]) -> list[FeedbackOutcome]:
        out: list[FeedbackOutcome] = []
        with self.uow as uow:
            keys: set[str] = set()
            for index, template in enumerate(entries):
                entry = FeedbackEntry(**{f: getattr(template, f) for f in _FIELDS})
                if entry.key is not None and (
                    entry.key in keys or uow.feedback.by_key(entry.key) is not None
                ):
                    out.append(FeedbackOutcome(index, "duplicate"))
                    continue
                if entry.key is not None:
                    keys.add(entry.key)
                target = _target(uow, entry)
                if target is not None:
                    entry.interaction_id = target.id
                uow.feedback.add(entry)
                if target is not None:
                    add_facts(uow, target, feedback_facts(entry))
                served = (target.served_version or target.version) if target else None
                out.append(FeedbackOutcome(index, "joined" if target else "pending", served))
            uow.commit()
        return out


_FIELDS = ("rating", "scale", "at", "request_id", "session_id", "comment", "key")


def _target(uow: UnitOfWork, entry: FeedbackEntry) -> Interaction | None:
    if entry.request_id is not None:
        return uow.interactions.by_request_ids([entry.request_id]).get(entry.request_id)
    if entry.session_id is not None:
        return pick_for_session(uow.interactions.in_session(entry.session_id), entry.at)
    return None  # pragma: no cover - validation requires one of them
