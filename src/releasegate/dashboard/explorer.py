"""View functions of the interactions explorer: filtered, keyset-paginated pages of
recorded interactions, and one interaction with its feedback.

Pages are read newest first by id (``id < last id of the previous page``), so the n-th
page costs the same as the first however many interactions are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from releasegate.ports import ExplorerFilter, FeedbackEntry, Interaction, StoredScore

if TYPE_CHECKING:
    from releasegate.bootstrap import ControlPlaneParts

__all__ = [
    "FEEDBACK_CHOICES",
    "PAGE_SIZE",
    "Filters",
    "InteractionPage",
    "InteractionView",
    "interaction",
    "page",
    "parse_filters",
]

PAGE_SIZE = 50
#: The feedback filter's choices (query value, label).
FEEDBACK_CHOICES = (("any", "any feedback"), ("negative", "negative"), ("positive", "positive"))
_CHECK_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.#:")


@dataclass(frozen=True, slots=True)
class Filters:
    """What the explorer shows: each field narrows the list (None / False: no filter)."""

    feature: str | None = None
    version: str | None = None
    errors: bool = False
    fallbacks: bool = False
    check: str | None = None
    score_min: float | None = None
    score_max: float | None = None
    feedback: str | None = None

    @property
    def more(self) -> ExplorerFilter | None:
        """The filters on scores and feedback, None without any."""
        values = (self.check, self.score_min, self.score_max, self.feedback)
        if all(v is None for v in values):
            return None
        return ExplorerFilter(self.check, self.score_min, self.score_max, self.feedback)

    def query(self, **extra: str | int | None) -> dict[str, str]:
        """The filters (and ``extra``) as query parameters, empty ones left out."""
        out: dict[str, str] = {}
        if self.feature:
            out["feature"] = self.feature
        if self.version:
            out["version"] = self.version
        if self.errors:
            out["errors"] = "1"
        if self.fallbacks:
            out["fallbacks"] = "1"
        if self.check:
            out["check"] = self.check
        if self.score_min is not None:
            out["score_min"] = f"{self.score_min:g}"
        if self.score_max is not None:
            out["score_max"] = f"{self.score_max:g}"
        if self.feedback:
            out["feedback"] = self.feedback
        out.update({k: str(v) for k, v in extra.items() if v not in (None, "")})
        return out


@dataclass(frozen=True, slots=True)
class InteractionPage:
    """One page of the explorer.

    Attributes:
        rows: The interactions, newest first.
        next_before: The ``before`` of the next (older) page, None on the last page.
        features: Every feature, for the filter.
        versions: The chosen feature's versions, for the filter.
        score_check: The check whose score is shown per row (the filter's, else
            ``overall``); ``scores`` holds them by interaction id.
    """

    filters: Filters
    rows: list[Interaction]
    next_before: int | None
    features: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)
    score_check: str = "overall"
    scores: dict[int, StoredScore] = field(default_factory=dict)


def page(
    parts: ControlPlaneParts,
    filters: Filters,
    *,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> InteractionPage:
    """The page of interactions matching ``filters`` with ids below ``before``."""
    deployments = parts.deployments()
    features = deployments.features()
    with parts.read_uow_factory() as uow:
        # one row more than shown tells whether an older page exists
        rows = uow.interactions.page(
            feature=filters.feature,
            version=filters.version,
            errors=filters.errors,
            fallbacks=filters.fallbacks,
            before_id=before,
            limit=size + 1,
            more=filters.more,
        )
        versions = (
            [d.version for d in uow.deployments.for_feature(filters.feature)]
            if filters.feature
            else []
        )
        more = len(rows) > size
        rows = rows[:size]
        check = filters.check or "overall"
        shown = uow.scores.of_check([r.id for r in rows if r.id is not None], check)
    return InteractionPage(
        filters=filters,
        rows=rows,
        next_before=rows[-1].id if more and rows else None,
        features=features,
        versions=versions,
        score_check=check,
        scores=shown,
    )


@dataclass(frozen=True, slots=True)
class InteractionView:
    """One interaction with the feedback given on it (directly or by its session) and
    its online scores (``overall`` first, then by check, each with its reason)."""

    interaction: Interaction
    feedback: list[FeedbackEntry]
    scores: list[StoredScore] = field(default_factory=list)


def interaction(parts: ControlPlaneParts, request_id: str) -> InteractionView | None:
    """The interaction recorded under ``request_id``, or None."""
    with parts.read_uow_factory() as uow:
        found = uow.interactions.by_request_ids([request_id]).get(request_id)
        if found is None:
            return None
        fb = uow.feedback.for_request(request_id)
        scores = uow.scores.for_interaction(found.id) if found.id is not None else []
    return InteractionView(found, fb, scores)


def _score(raw: str | None) -> tuple[float | None, str | None]:
    if raw is None or not raw.strip():
        return None, None
    try:
        value = float(raw)
    except ValueError:
        return None, f"score {raw[:20]!r} is not a number"
    if not 0.0 <= value <= 1.0:
        return None, f"scores are between 0 and 1, not {raw[:20]}"
    return value, None


def parse_filters(q: Mapping[str, str]) -> tuple[Filters, list[str]]:
    """The explorer's filters from query parameters, and what was ignored and why
    (a score that is not a number in [0, 1], an unknown feedback choice, a check name
    with other characters than letters, digits and ``_-.#:``)."""
    problems: list[str] = []
    lo, why_lo = _score(q.get("score_min"))
    hi, why_hi = _score(q.get("score_max"))
    problems += [w for w in (why_lo, why_hi) if w]
    check = (q.get("check") or "").strip() or None
    if check is not None and (len(check) > 100 or not set(check) <= _CHECK_CHARS):
        problems.append("a check name has letters, digits and _-.#: only")
        check = None
    feedback = q.get("feedback") or None
    if feedback is not None and feedback not in dict(FEEDBACK_CHOICES):
        problems.append(f"unknown feedback choice {feedback[:20]!r}")
        feedback = None
    filters = Filters(
        feature=q.get("feature") or None,
        version=q.get("version") or None,
        errors=q.get("errors") == "1",
        fallbacks=q.get("fallbacks") == "1",
        check=check,
        score_min=lo,
        score_max=hi,
        feedback=feedback,
    )
    return filters, problems
