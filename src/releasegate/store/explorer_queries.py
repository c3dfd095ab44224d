"""SQL of the dashboard's reads of interactions: the explorer's keyset pages and the
recent rates per version.

Both walk indexes from the newest id down (migration 0006 adds them: by feature, by
feature and version, failed and fallback requests only, scores by check, feedback by
interaction), so a page costs about the same with a million stored interactions as
with a thousand; ``docs/dashboard.md`` has the measured times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from releasegate.canary.records import OVERALL
from releasegate.ports import (
    HALLUCINATION_CHECKS,
    HALLUCINATION_FAIL_BELOW,
    ExplorerFilter,
    VersionRates,
)
from releasegate.store.schema import feedback, interactions, scores

__all__ = ["NEGATIVE", "page_query", "version_rates"]

#: A negative rating: thumbs down, or 1-2 of 5 (as :attr:`FeedbackEntry.negative`).
NEGATIVE = sa.or_(
    sa.and_(feedback.c.scale == "thumbs", feedback.c.rating < 0.5),
    sa.and_(feedback.c.scale == "1-5", feedback.c.rating <= 2),
)


def page_query(
    *,
    feature: str | None,
    version: str | None,
    errors: bool,
    fallbacks: bool,
    before_id: int | None,
    limit: int,
    more: ExplorerFilter | None,
) -> sa.Select[Any]:
    """``SELECT`` of one explorer page, newest id first."""
    c = interactions.c
    query = sa.select(interactions).order_by(c.id.desc()).limit(max(0, limit))
    if feature is not None:
        query = query.where(c.feature == feature)
    if version is not None:
        query = query.where(c.version == version)
    if errors:
        query = query.where(c.error.is_not(None))
    if fallbacks:
        query = query.where(c.fallback_depth > 0)
    if before_id is not None:
        query = query.where(c.id < before_id)
    if more is None:
        return query
    check = more.score_check
    if check is not None:
        conds = [
            scores.c.interaction_id == c.id,
            scores.c.check_type == check,
            scores.c.status == "measured",
        ]
        if more.score_min is not None:
            conds.append(scores.c.value >= more.score_min)
        if more.score_max is not None:
            conds.append(scores.c.value <= more.score_max)
        query = query.where(sa.exists().where(*conds))
    if more.feedback is not None:
        conds = [feedback.c.interaction_id == c.id]
        if more.feedback == "negative":
            conds.append(NEGATIVE)
        elif more.feedback == "positive":
            conds.append(sa.not_(NEGATIVE))
        query = query.where(sa.exists().where(*conds))
    return query


def _hallucination_check() -> sa.ColumnElement[bool]:
    names = list(HALLUCINATION_CHECKS)
    return sa.or_(
        scores.c.check_type.in_(names),
        *(scores.c.check_type.like(f"{n}#%") for n in names),
    )


def version_rates(
    conn: sa.Connection, feature: str, versions: Sequence[str], *, window: int
) -> list[VersionRates]:
    """See :meth:`releasegate.ports.InteractionRepository.version_rates`."""
    c = interactions.c
    out = []
    for version in versions:
        recent = (
            sa.select(
                c.id, c.error, c.fallback_depth, c.prompt_tokens, c.completion_tokens, c.cost_usd
            )
            .where(c.feature == feature, c.version == version, c.shadow.is_(False))
            .order_by(c.id.desc())
            .limit(max(0, window))
            .subquery("recent")
        )
        r = recent.c
        head = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count(r.error),
                sa.func.count().filter(r.fallback_depth > 0),
                sa.func.coalesce(sa.func.sum(r.prompt_tokens), 0),
                sa.func.coalesce(sa.func.sum(r.completion_tokens), 0),
                sa.func.coalesce(sa.func.sum(r.cost_usd), 0.0),
            )
        ).one()
        ids = sa.select(r.id)
        scored = conn.execute(
            sa.select(sa.func.count()).where(
                scores.c.interaction_id.in_(ids), scores.c.check_type == OVERALL
            )
        ).scalar_one()
        per = (
            sa.select(
                scores.c.interaction_id,
                sa.func.min(scores.c.value).label("worst"),
            )
            .where(
                scores.c.interaction_id.in_(ids),
                _hallucination_check(),
                scores.c.status == "measured",
                scores.c.value.is_not(None),
            )
            .group_by(scores.c.interaction_id)
            .subquery("per")
        )
        checked, failed = conn.execute(
            sa.select(
                sa.func.count(), sa.func.count().filter(per.c.worst < HALLUCINATION_FAIL_BELOW)
            )
        ).one()
        fb, neg = conn.execute(
            sa.select(sa.func.count(), sa.func.count().filter(NEGATIVE)).where(
                feedback.c.interaction_id.in_(ids)
            )
        ).one()
        out.append(
            VersionRates(
                version=version,
                requests=int(head[0]),
                errors=int(head[1]),
                fallbacks=int(head[2]),
                prompt_tokens=int(head[3]),
                completion_tokens=int(head[4]),
                cost_usd=float(head[5]),
                scored=int(scored),
                hallucination_checked=int(checked),
                hallucination_failed=int(failed),
                feedback=int(fb),
                negative_feedback=int(neg),
            )
        )
    return out
