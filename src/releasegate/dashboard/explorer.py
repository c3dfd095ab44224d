"""View functions of the interactions explorer: filtered, keyset-paginated pages of
recorded interactions, and one interaction with its feedback.

Pages are read newest first by id (``id < last id of the previous page``), so the n-th
page costs the same as the first however many interactions are stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from releasegate.ports import FeedbackEntry, Interaction

if TYPE_CHECKING:
    from releasegate.bootstrap import ControlPlaneParts

__all__ = ["PAGE_SIZE", "Filters", "InteractionPage", "InteractionView", "interaction", "page"]

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Filters:
    """What the explorer shows: each field narrows the list (None / False: no filter)."""

    feature: str | None = None
    version: str | None = None
    errors: bool = False
    fallbacks: bool = False

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
    """

    filters: Filters
    rows: list[Interaction]
    next_before: int | None
    features: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)


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
        )
        versions = (
            [d.version for d in uow.deployments.for_feature(filters.feature)]
            if filters.feature
            else []
        )
    more = len(rows) > size
    rows = rows[:size]
    return InteractionPage(
        filters=filters,
        rows=rows,
        next_before=rows[-1].id if more and rows else None,
        features=features,
        versions=versions,
    )


@dataclass(frozen=True, slots=True)
class InteractionView:
    """One interaction with the feedback given on it (directly or by its session)."""

    interaction: Interaction
    feedback: list[FeedbackEntry]


def interaction(parts: ControlPlaneParts, request_id: str) -> InteractionView | None:
    """The interaction recorded under ``request_id``, or None."""
    with parts.read_uow_factory() as uow:
        found = uow.interactions.by_request_ids([request_id]).get(request_id)
        if found is None:
            return None
        fb = uow.feedback.for_request(request_id)
    return InteractionView(found, fb)
