"""Keyset pages of interactions on SQLite and PostgreSQL, matching the in-memory store."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from releasegate.ports import Interaction, UnitOfWork
from releasegate.store.database import open_database
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData
from tests.support.control import T0


def _records(n: int) -> list[Interaction]:
    return [
        Interaction(
            request_id=f"page-{i}",
            feature="chat" if i % 3 else "docs",
            arm="incumbent",
            at=T0 + timedelta(seconds=i % 5),  # many equal times: ids decide the order
            content_hash=hashlib.sha256(str(i).encode()).hexdigest(),
            version="v2" if i % 4 == 0 else "v1",
            error="boom" if i % 5 == 0 else None,
            fallback_depth=2 if i % 6 == 0 else 0,
        )
        for i in range(n)
    ]


def _walk(uow: UnitOfWork, **filters: object) -> list[str]:
    seen: list[str] = []
    before = None
    while True:
        with uow:
            rows = uow.interactions.page(before_id=before, limit=7, **filters)  # type: ignore[arg-type]
        seen += [r.request_id for r in rows]
        if len(rows) < 7:
            return seen
        before = rows[-1].id


def test_pages_agree_with_the_in_memory_store(database_url: str) -> None:
    db = open_database(database_url)
    memory = InMemoryUnitOfWork(MemoryData())
    try:
        for uow in (db.uow(), memory):
            with uow:
                uow.interactions.add_many(_records(60))
                uow.commit()
        for filters in (
            {},
            {"feature": "chat"},
            {"feature": "chat", "version": "v2"},
            {"errors": True},
            {"fallbacks": True, "feature": "docs"},
        ):
            got = _walk(db.uow(), **filters)
            assert got == _walk(memory, **filters), filters
            assert len(got) == len(set(got))
        assert _walk(db.uow())[:3] == ["page-59", "page-58", "page-57"]  # newest first
        assert set(_walk(db.uow(), errors=True)) == {f"page-{i}" for i in range(0, 60, 5)}
        with db.uow() as uow:
            assert uow.interactions.page(limit=0) == []
    finally:
        db.close()
