"""SQL implementations of the online repositories: interactions and feedback."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from releasegate.canary.records import OVERALL
from releasegate.ports import (
    DuplicateKey,
    ExplorerFilter,
    FeedbackEntry,
    FeedbackRepository,
    Interaction,
    InteractionRepository,
    VersionRates,
)
from releasegate.store.explorer_queries import page_query, version_rates
from releasegate.store.repositories import from_db, to_db
from releasegate.store.schema import feedback, interactions, scores

__all__ = ["SqlFeedbackRepository", "SqlInteractionRepository"]

_CHUNK = 500  # keys per IN (...) list: well below every backend's parameter limit
_INSERT = sa.insert(interactions)
# Built once with an expanding parameter: a statement built per call with the keys in it
# costs SQLAlchemy a coercion and a cache key per key.
_BY_REQUEST_IDS = sa.select(interactions).where(
    interactions.c.request_id.in_(sa.bindparam("ids", expanding=True))
)
_IDS_BY_REQUEST_IDS = sa.select(interactions.c.request_id, interactions.c.id).where(
    interactions.c.request_id.in_(sa.bindparam("ids", expanding=True))
)


def _aware(value: Any) -> Any:
    result = from_db(value)
    if result is None:  # pragma: no cover - NOT NULL columns
        raise ValueError("missing timestamp")
    return result


class SqlInteractionRepository(InteractionRepository):
    """The ``interactions`` table."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(i: Interaction) -> dict[str, Any]:
        return {
            "request_id": i.request_id,
            "feature": i.feature,
            "version": i.version,
            "deployment_id": i.deployment_id,
            "arm": i.arm,
            "unit_key": i.unit_key,
            "session_id": i.session_id,
            "prompt": i.prompt,
            "response": i.response,
            "latency_ms": i.latency_ms,
            "prompt_tokens": i.prompt_tokens,
            "completion_tokens": i.completion_tokens,
            "cost_usd": i.cost_usd,
            "error": i.error,
            "fallback_used": i.fallback_used,
            "shadow": i.shadow,
            "created_at": to_db(i.at),
            "served_version": i.served_version,
            "model": i.model,
            "context": i.context,
            "ttft_ms": i.ttft_ms,
            "fallback_depth": i.fallback_depth,
            "meta": i.metadata,
            "content_hash": i.content_hash,
            "score_due": i.score_due,
            "canary_id": i.canary_id,
            "canary_stage": i.canary_stage,
            "tool_calls": i.tool_calls,
            "tools": i.tools,
        }

    @staticmethod
    def _row(r: sa.RowMapping) -> Interaction:
        return Interaction(
            id=r["id"],
            request_id=r["request_id"],
            feature=r["feature"],
            arm=r["arm"],
            at=_aware(r["created_at"]),
            content_hash=r["content_hash"],
            version=r["version"],
            served_version=r["served_version"],
            model=r["model"],
            unit_key=r["unit_key"],
            session_id=r["session_id"],
            prompt=r["prompt"],
            response=r["response"],
            context=r["context"],
            latency_ms=r["latency_ms"],
            ttft_ms=r["ttft_ms"],
            prompt_tokens=int(r["prompt_tokens"]),
            completion_tokens=int(r["completion_tokens"]),
            cost_usd=float(r["cost_usd"]),
            error=r["error"],
            fallback_depth=int(r["fallback_depth"]),
            shadow=bool(r["shadow"]),
            metadata=r["meta"],
            deployment_id=r["deployment_id"],
            score_due=bool(r["score_due"]),
            canary_id=r["canary_id"],
            canary_stage=r["canary_stage"],
            tool_calls=r["tool_calls"],
            tools=r["tools"],
        )

    def add_many(self, records: Sequence[Interaction]) -> None:
        if not records:
            return
        # One executemany INSERT (a refused key aborts the whole unit of work), then the
        # new ids by request id: cheaper than INSERT ... RETURNING with its row order
        # kept, which costs SQLAlchemy about a quarter more per row.
        try:
            self.conn.execute(_INSERT, [self._values(r) for r in records])
        except sa.exc.IntegrityError as exc:
            raise DuplicateKey(f"a request id of this batch is taken: {exc.orig}") from exc
        ids: dict[str, int] = {}
        wanted = [r.request_id for r in records]
        for start in range(0, len(wanted), _CHUNK):
            chunk = {"ids": wanted[start : start + _CHUNK]}
            ids.update(
                (rid, int(new_id)) for rid, new_id in self.conn.execute(_IDS_BY_REQUEST_IDS, chunk)
            )
        for record in records:
            record.id = ids[record.request_id]

    def by_request_ids(self, request_ids: Collection[str]) -> dict[str, Interaction]:
        wanted = list(dict.fromkeys(request_ids))
        found: dict[str, Interaction] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = {"ids": wanted[start : start + _CHUNK]}
            for r in self.conn.execute(_BY_REQUEST_IDS, chunk).mappings():
                found[r["request_id"]] = self._row(r)
        return found

    def in_session(self, session_id: str) -> list[Interaction]:
        query = (
            sa.select(interactions)
            .where(interactions.c.session_id == session_id)
            .order_by(interactions.c.created_at, interactions.c.id)
        )
        return [self._row(r) for r in self.conn.execute(query).mappings()]

    def for_feature(self, feature: str, *, limit: int = 100) -> list[Interaction]:
        query = (
            sa.select(interactions)
            .where(interactions.c.feature == feature)
            .order_by(interactions.c.created_at.desc(), interactions.c.id.desc())
            .limit(limit)
        )
        return [self._row(r) for r in self.conn.execute(query).mappings()]

    def matching(
        self,
        feature: str,
        *,
        version: str | None = None,
        errors: bool = False,
        negative_feedback: bool = False,
        score_below: float | None = None,
        limit: int = 1000,
    ) -> list[Interaction]:
        served = sa.func.coalesce(interactions.c.served_version, interactions.c.version)
        query = sa.select(interactions).where(
            interactions.c.feature == feature, interactions.c.shadow.is_(False)
        )
        if version is not None:
            query = query.where(served == version)
        kinds: list[sa.ColumnElement[bool]] = []
        if errors:
            kinds.append(interactions.c.error.is_not(None))
        if negative_feedback:
            negative = sa.or_(
                sa.and_(feedback.c.scale == "thumbs", feedback.c.rating < 0.5),
                sa.and_(feedback.c.scale == "1-5", feedback.c.rating <= 2),
            )
            kinds.append(
                sa.exists().where(feedback.c.interaction_id == interactions.c.id, negative)
            )
        if score_below is not None:
            kinds.append(
                sa.exists().where(
                    scores.c.interaction_id == interactions.c.id,
                    scores.c.check_type == OVERALL,
                    scores.c.value < score_below,
                )
            )
        if kinds:
            query = query.where(sa.or_(*kinds))
        query = query.order_by(interactions.c.created_at, interactions.c.id).limit(limit)
        return [self._row(r) for r in self.conn.execute(query).mappings()]

    def count(self) -> int:
        query = sa.select(sa.func.count()).select_from(interactions)
        return int(self.conn.execute(query).scalar_one())

    def by_ids(self, ids: Collection[int]) -> dict[int, Interaction]:
        wanted = list(dict.fromkeys(ids))
        found: dict[int, Interaction] = {}
        for start in range(0, len(wanted), _CHUNK):
            query = sa.select(interactions).where(
                interactions.c.id.in_(wanted[start : start + _CHUNK])
            )
            for r in self.conn.execute(query).mappings():
                found[int(r["id"])] = self._row(r)
        return found

    def purge(
        self,
        before: datetime,
        *,
        feature: str | None = None,
        exclude: Collection[str] = (),
        limit: int = 1000,
    ) -> int:
        query = (
            sa.select(interactions.c.id)
            .where(interactions.c.created_at < to_db(before))
            .order_by(interactions.c.created_at, interactions.c.id)
            .limit(limit)
        )
        if feature is not None:
            query = query.where(interactions.c.feature == feature)
        if exclude:
            query = query.where(interactions.c.feature.not_in(list(exclude)))
        ids = list(self.conn.execute(query).scalars())
        if not ids:
            return 0
        # Children first: SQLite may run without foreign-key enforcement (no cascade).
        self.conn.execute(sa.delete(scores).where(scores.c.interaction_id.in_(ids)))
        self.conn.execute(sa.delete(feedback).where(feedback.c.interaction_id.in_(ids)))
        self.conn.execute(sa.delete(interactions).where(interactions.c.id.in_(ids)))
        return len(ids)

    def page(
        self,
        *,
        feature: str | None = None,
        version: str | None = None,
        errors: bool = False,
        fallbacks: bool = False,
        before_id: int | None = None,
        limit: int = 50,
        more: ExplorerFilter | None = None,
    ) -> list[Interaction]:
        query = page_query(
            feature=feature,
            version=version,
            errors=errors,
            fallbacks=fallbacks,
            before_id=before_id,
            limit=limit,
            more=more,
        )
        return [self._row(r) for r in self.conn.execute(query).mappings()]

    def version_rates(
        self, feature: str, versions: Sequence[str], *, window: int
    ) -> list[VersionRates]:
        return version_rates(self.conn, feature, versions, window=window)


class SqlFeedbackRepository(FeedbackRepository):
    """The ``feedback`` table, read joined to ``interactions`` for the served version."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    _SERVED = sa.func.coalesce(interactions.c.served_version, interactions.c.version)

    def _select(self) -> sa.Select[Any]:
        return sa.select(feedback, self._SERVED.label("served")).select_from(
            feedback.outerjoin(interactions, feedback.c.interaction_id == interactions.c.id)
        )

    @staticmethod
    def _row(r: sa.RowMapping) -> FeedbackEntry:
        return FeedbackEntry(
            id=r["id"],
            rating=float(r["rating"]),
            scale=r["scale"],
            at=_aware(r["created_at"]),
            request_id=r["request_id"],
            session_id=r["session_id"],
            comment=r["comment"],
            key=r["key"],
            interaction_id=r["interaction_id"],
            served_version=r["served"],
        )

    def _all(self, query: sa.Select[Any]) -> list[FeedbackEntry]:
        ordered = query.order_by(feedback.c.created_at, feedback.c.id)
        return [self._row(r) for r in self.conn.execute(ordered).mappings()]

    def add(self, entry: FeedbackEntry) -> FeedbackEntry:
        try:
            result = self.conn.execute(
                sa.insert(feedback)
                .values(
                    request_id=entry.request_id,
                    session_id=entry.session_id,
                    interaction_id=entry.interaction_id,
                    rating=entry.rating,
                    scale=entry.scale,
                    comment=entry.comment,
                    created_at=to_db(entry.at),
                    key=entry.key,
                )
                .returning(feedback.c.id)
            )
        except sa.exc.IntegrityError as exc:
            raise DuplicateKey(f"feedback key {entry.key!r}: {exc.orig}") from exc
        entry.id = int(result.scalar_one())
        return entry

    def by_key(self, key: str) -> FeedbackEntry | None:
        found = self._all(self._select().where(feedback.c.key == key))
        return found[0] if found else None

    def pending(
        self, *, request_ids: Collection[str], session_ids: Collection[str]
    ) -> list[FeedbackEntry]:
        rids, sids = list(dict.fromkeys(request_ids)), list(dict.fromkeys(session_ids))
        out: dict[int, FeedbackEntry] = {}
        by_request, by_session = self._pending_queries()
        for keys, query in ((rids, by_request), (sids, by_session)):
            for start in range(0, len(keys), _CHUNK):
                rows = self.conn.execute(query, {"keys": keys[start : start + _CHUNK]})
                for e in map(self._row, rows.mappings()):
                    out[e.id or 0] = e
        return sorted(out.values(), key=lambda e: (e.at, e.id or 0))

    _PENDING: tuple[sa.Select[Any], sa.Select[Any]] | None = None

    def _pending_queries(self) -> tuple[sa.Select[Any], sa.Select[Any]]:
        """Unjoined feedback by request ids, and by session ids (without a request id);
        built once, with an expanding ``keys`` parameter."""
        if SqlFeedbackRepository._PENDING is None:
            keys: sa.BindParameter[Any] = sa.bindparam("keys", expanding=True)
            unjoined = feedback.c.interaction_id.is_(None)
            order = (feedback.c.created_at, feedback.c.id)
            SqlFeedbackRepository._PENDING = (
                self._select().where(unjoined, feedback.c.request_id.in_(keys)).order_by(*order),
                self._select()
                .where(unjoined, feedback.c.request_id.is_(None), feedback.c.session_id.in_(keys))
                .order_by(*order),
            )
        return SqlFeedbackRepository._PENDING

    def join(self, feedback_id: int, interaction_id: int) -> None:
        self.conn.execute(
            sa.update(feedback)
            .where(feedback.c.id == feedback_id, feedback.c.interaction_id.is_(None))
            .values(interaction_id=interaction_id)
        )

    def for_request(self, request_id: str) -> list[FeedbackEntry]:
        return self._all(
            self._select().where(
                sa.or_(
                    feedback.c.request_id == request_id,
                    interactions.c.request_id == request_id,
                )
            )
        )

    def for_session(self, session_id: str) -> list[FeedbackEntry]:
        return self._all(self._select().where(feedback.c.session_id == session_id))
