"""What the dashboard reads from the store, on SQLite and PostgreSQL, matching the
in-memory store: explorer filters on scores and feedback, recent rates per version, the
scoring backlog per feature, stored eval reports."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from releasegate.ports import (
    DuplicateKey,
    ExplorerFilter,
    FeedbackEntry,
    Interaction,
    StoredScore,
    UnitOfWork,
)
from releasegate.store.database import open_database
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData
from tests.support.control import T0
from tests.support.eval_reports import report_pair


def _records(n: int) -> list[Interaction]:
    return [
        Interaction(
            request_id=f"r-{i}",
            feature="chat" if i % 3 else "docs",
            arm="incumbent",
            at=T0 + timedelta(seconds=i),
            content_hash=hashlib.sha256(str(i).encode()).hexdigest(),
            version="v2" if i % 4 == 0 else "v1",
            error="boom" if i % 5 == 0 else None,
            fallback_depth=1 if i % 6 == 0 else 0,
            prompt_tokens=10 + i,
            completion_tokens=5,
            cost_usd=0.001,
            score_due=i % 2 == 0,
            shadow=i == 59,
        )
        for i in range(60)
    ]


def _fill(uow: UnitOfWork) -> None:
    with uow:
        records = _records(60)
        uow.interactions.add_many(records)
        for r in records:
            i = int(r.request_id.split("-")[1])
            assert r.id is not None
            if i % 2 == 0 and i < 40:  # due and scored; 40..58 stay in the backlog
                uow.scores.add(StoredScore(r.id, "overall", i / 60, "measured", T0, "mean"))
                value = 0.2 if i % 8 == 0 else 0.9
                uow.scores.add(StoredScore(r.id, "faithfulness", value, "measured", T0, "why"))
                uow.scores.add(StoredScore(r.id, "repetition#2", None, "unmeasured", T0, "x"))
            if i % 7 == 0:
                fb = uow.feedback.add(
                    FeedbackEntry(
                        rating=0.0 if i % 14 == 0 else 1.0,
                        scale="thumbs",
                        at=T0,
                        request_id=r.request_id,
                    )
                )
                assert fb.id is not None
                uow.feedback.join(fb.id, r.id)
        uow.commit()


def _walk(uow: UnitOfWork, **filters: object) -> list[str]:
    seen: list[str] = []
    before = None
    while True:
        with uow:
            rows = uow.interactions.page(before_id=before, limit=4, **filters)  # type: ignore[arg-type]
        seen += [r.request_id for r in rows]
        if len(rows) < 4:
            return seen
        before = rows[-1].id


@pytest.fixture
def stores(database_url: str):  # type: ignore[no-untyped-def]
    db = open_database(database_url)
    memory = InMemoryUnitOfWork(MemoryData())
    for uow in (db.uow(), memory):
        _fill(uow)
    yield db, memory
    db.close()


def test_score_and_feedback_filters_agree_with_memory(stores) -> None:  # type: ignore[no-untyped-def]
    db, memory = stores
    cases = [
        ExplorerFilter(check="faithfulness", score_max=0.5),
        ExplorerFilter(score_min=0.5),  # the overall score
        ExplorerFilter(score_min=0.1, score_max=0.3),
        ExplorerFilter(check="faithfulness"),
        ExplorerFilter(check="repetition#2"),  # unmeasured rows never match
        ExplorerFilter(feedback="negative"),
        ExplorerFilter(feedback="positive"),
        ExplorerFilter(feedback="any", check="overall", score_max=0.2),
    ]
    for more in cases:
        for extra in ({}, {"feature": "chat"}, {"errors": True}):
            got = _walk(db.uow(), more=more, **extra)
            assert got == _walk(memory, more=more, **extra), (more, extra)
    low = _walk(db.uow(), more=ExplorerFilter(check="faithfulness", score_max=0.5))
    assert low == [f"r-{i}" for i in (32, 24, 16, 8, 0)]
    assert _walk(db.uow(), more=ExplorerFilter(check="repetition#2")) == []
    assert _walk(db.uow(), more=ExplorerFilter(feedback="negative")) == [
        "r-56",
        "r-42",
        "r-28",
        "r-14",
        "r-0",
    ]


def test_version_rates_agree_with_memory(stores) -> None:  # type: ignore[no-untyped-def]
    db, memory = stores
    for uow in (db.uow(), memory):
        with uow:
            v1, v2, none = uow.interactions.version_rates("chat", ["v1", "v2", "v9"], window=10)
        # the latest ten of chat@v1 (shadow r-59 left out): 58, 55, 53, 50, 49, 47, 46,
        # 43, 41, 38; errors 55 and 50; only 38 is scored; 49 has (positive) feedback
        assert (v1.version, v1.requests, v1.errors, v1.fallbacks) == ("v1", 10, 2, 0)
        assert (v1.prompt_tokens, v1.completion_tokens) == (10 * 10 + 480, 50)
        assert (v1.scored, v1.hallucination_checked, v1.hallucination_failed) == (1, 1, 0)
        assert (v1.feedback, v1.negative_feedback) == (1, 0)
        # chat@v2 (multiples of 4, not of 3): 56, 52, 44, 40, 32, 28, 20, 16, 8, 4;
        # errors 40, 20; faithfulness below 0.5 on 32, 16, 8; 56 and 28 thumbs down
        assert (v2.requests, v2.errors, v2.fallbacks) == (10, 2, 0)
        assert (v2.scored, v2.hallucination_checked, v2.hallucination_failed) == (6, 6, 3)
        assert (v2.feedback, v2.negative_feedback) == (2, 2)
        assert none.requests == 0 and none.hallucination_checked == 0
    with db.uow() as a, memory as b:
        assert a.interactions.version_rates("docs", ["v1", "v2"], window=7) == (
            b.interactions.version_rates("docs", ["v1", "v2"], window=7)
        )
        assert a.interactions.version_rates("chat", ["v1", "v2"], window=100) == (
            b.interactions.version_rates("chat", ["v1", "v2"], window=100)
        )


def test_scores_of_one_check_agree_with_memory(stores) -> None:  # type: ignore[no-untyped-def]
    db, memory = stores
    with db.uow() as a, memory as b:
        ids = list(range(1, 70))
        got = a.scores.of_check(ids, "faithfulness")
        mem = b.scores.of_check(ids, "faithfulness")
        assert {k: (v.value, v.reason) for k, v in got.items()} == {
            k: (v.value, v.reason) for k, v in mem.items()
        }
        assert len(got) == 20 and a.scores.of_check([], "overall") == {}


def test_backlog_by_feature_agrees_with_memory(stores) -> None:  # type: ignore[no-untyped-def]
    db, memory = stores
    with db.uow() as a, memory as b:
        got = a.scores.backlog_by_feature()
        assert got == b.scores.backlog_by_feature()
    # due and unscored: even ids 40..58 -> docs: 42, 48, 54; chat: 40, 44, 46, 50, 52, 56, 58
    assert got == {"docs": (3, T0 + timedelta(seconds=42)), "chat": (7, T0 + timedelta(seconds=40))}


def test_eval_reports_round_trip(database_url: str) -> None:
    db = open_database(database_url)
    base, head = report_pair()
    try:
        for uow in (db.uow(), InMemoryUnitOfWork(MemoryData())):
            with uow:
                stored = uow.eval_reports.add(base)
                assert stored.id is not None and stored.baseline_delta is None
                uow.eval_reports.add(head)
                with pytest.raises(DuplicateKey):
                    uow.eval_reports.add(head)
            with uow:  # the refused insert ended the unit of work: add again, commit
                uow.eval_reports.add(base)
                uow.eval_reports.add(head)
                uow.commit()
            with uow:
                runs = uow.eval_reports.runs()
                assert [r.run_id for r in runs] == ["run-head", "run-base"]
                h = runs[0]
                assert (h.suite, h.prompt_name, h.prompt_version) == ("pr", "support", "1.1.0")
                assert h.gate_passed is False and h.n_cases == 12
                assert h.baseline_delta is not None and h.baseline_delta < 0
                assert h.started_at.tzinfo is not None
                assert [r.run_id for r in uow.eval_reports.runs(suite="pr", limit=1)] == [
                    "run-head"
                ]
                assert uow.eval_reports.runs(prompt="other") == []
                assert uow.eval_reports.get("run-head") == head
                assert uow.eval_reports.get("nope") is None
    finally:
        db.close()
