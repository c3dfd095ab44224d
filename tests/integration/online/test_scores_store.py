"""The scores repository and the retention purge on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from releasegate.bootstrap.online import purge_expired
from releasegate.canary.records import OVERALL
from releasegate.config import OnlineConfig
from releasegate.deploy.model import utcnow
from releasegate.online import FeedbackService, RecordingService
from releasegate.ports import StoredScore
from releasegate.store.database import open_database


def test_a_score_is_stored_once_and_counted(database_url: str) -> None:
    db = open_database(database_url)
    now = utcnow()
    RecordingService(db.uow(), sampler=lambda i: i.request_id != "skip").record_json(
        {"records": [{"feature": "chat", "request_id": r} for r in ("a", "b", "skip")]}
    )
    uow = db.uow()
    with uow:
        ids = {i.request_id: i.id or 0 for i in uow.interactions.for_feature("chat")}
        assert uow.scores.counts(now + timedelta(seconds=1)).backlog == 2
        first = StoredScore(ids["a"], OVERALL, 0.5, "measured", now, cost_usd=0.25)
        assert uow.scores.add(first) and first.id is not None
        again = StoredScore(ids["a"], OVERALL, 0.9, "measured", now)
        assert not uow.scores.add(again)  # already scored: nothing written
        assert uow.scores.add(StoredScore(ids["a"], "contains", 1.0, "measured", now))
        uow.commit()
    uow = db.uow(write=False)
    with uow:
        rows = uow.scores.for_interaction(ids["a"])
        counts = uow.scores.counts(now + timedelta(seconds=1))
        unscored = uow.scores.unscored(before=now + timedelta(seconds=1))
    assert [(r.check, r.value) for r in rows] == [(OVERALL, 0.5), ("contains", 1.0)]
    assert (counts.backlog, counts.scored_total, counts.scored_last_minute) == (1, 1, 1)
    assert counts.judge_cost_usd == 0.25 and counts.oldest_unscored_at is not None
    assert unscored == [ids["b"]]
    db.close()


def test_retention_deletes_old_interactions_with_their_scores_and_feedback(
    database_url: str,
) -> None:
    db = open_database(database_url)
    old = (utcnow() - timedelta(days=40)).isoformat()
    fresh = datetime.now(UTC).isoformat()
    RecordingService(db.uow(), sampler=lambda i: True).record_json(
        {
            "records": [
                {"feature": "chat", "request_id": "old", "at": old},
                {"feature": "chat", "request_id": "new", "at": fresh},
                {"feature": "keep", "request_id": "kept", "at": old},
            ]
        }
    )
    FeedbackService(db.uow()).give_json({"request_id": "old", "rating": "down"})
    uow = db.uow()
    with uow:
        oid = uow.interactions.by_request_ids(["old"])["old"].id or 0
        uow.scores.add(StoredScore(oid, OVERALL, 1.0, "measured", utcnow()))
        uow.commit()
    online = OnlineConfig.model_validate(
        {"retention_days": 30, "features": {"keep": {"checks": [{"type": "contains", "value": "x"}],
                                                      "retention_days": 365}}}
    )  # fmt: skip
    assert purge_expired(db.uow, online) == 1
    uow = db.uow(write=False)
    with uow:
        left = sorted(uow.interactions.by_request_ids(["old", "new", "kept"]))
        assert uow.scores.for_interaction(oid) == []
        assert uow.feedback.for_request("old") == []
    assert left == ["kept", "new"]
    db.close()
