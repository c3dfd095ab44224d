"""`releasegate dataset export` on SQLite and PostgreSQL: the matching query and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from releasegate.bootstrap import open_database
from releasegate.datasets import load_dataset
from releasegate.online import FeedbackService, RecordingService
from releasegate.online.export import case_id
from tests.e2e.deploy._cli import run

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _seed(url: str) -> None:
    db = open_database(url)
    try:
        records = [
            {
                "feature": "chat",
                "request_id": f"r{i}",
                "prompt": [{"role": "user", "content": f"question {i}"}],
                "response": f"answer {i}",
                "error": "timeout" if i % 3 == 0 else None,
                "version": "v1" if i < 6 else "v2",
            }
            for i in range(10)
        ]
        RecordingService(db.uow(), clock=lambda: T0).record_json({"records": records})
        FeedbackService(db.uow(), clock=lambda: T0).give_json(
            {"feedback": [{"request_id": "r1", "rating": 2}, {"request_id": "r2", "rating": 5}]}
        )
    finally:
        db.close()


def test_export_through_the_command(database_url: str, tmp_path: Path) -> None:
    _seed(database_url)
    out = tmp_path / "prod.jsonl"
    args = ("dataset", "export", "--feature", "chat", "--out", str(out), "--db", database_url)
    r = run(*args, "--where", "error")
    assert r.returncode == 0, r.stderr
    assert "added 4 case(s)" in r.stdout  # r0, r3, r6, r9
    r = run(*args)
    assert r.returncode == 0 and "added 1 case(s), 4 already there" in r.stdout  # + r1
    cases = load_dataset(out).cases
    assert [c.id for c in cases] == [case_id(f"r{i}") for i in (0, 3, 6, 9, 1)]
    assert cases[-1].input == "question 1" and cases[-1].metadata["served_version"] == "v1"
    r = run(*args, "--version", "v2", "--where", "negative-feedback")
    assert r.returncode == 0 and "added 0 case(s)" in r.stdout
    r = run(*args, "--where", "slow")
    assert r.returncode == 2 and "--where must be one of" in r.stderr


def test_low_scores_on_the_database(database_url: str, tmp_path: Path) -> None:
    from releasegate.canary.records import OVERALL
    from releasegate.ports import StoredScore

    _seed(database_url)
    db = open_database(database_url)
    try:
        with db.uow() as uow:
            found = uow.interactions.by_request_ids([f"r{i}" for i in range(10)])
            for rid, value in (("r4", 0.1), ("r5", 0.7)):
                uow.scores.add(StoredScore(found[rid].id or 0, OVERALL, value, "measured", T0))
            uow.commit()
    finally:
        db.close()
    out = tmp_path / "low.yaml"
    args = ("dataset", "export", "--feature", "chat", "--out", str(out), "--db", database_url)
    r = run(*args, "--where", "low-score")
    assert r.returncode == 0 and "added 1 case(s)" in r.stdout, r.stderr
    r = run(*args, "--where", "low-score", "--below", "0.8")
    assert r.returncode == 0 and "added 1 case(s), 1 already there" in r.stdout
    cases = load_dataset(out).cases
    assert [c.metadata["online_score"] for c in cases] == [0.1, 0.7]
