"""Recording and feedback through the real API (uvicorn) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from releasegate.control.tokens import TokenService
from releasegate.deploy.tokens import Scope
from releasegate.online.limits import MAX_BODY_BYTES
from releasegate.store import create_engine
from releasegate.store.database import Database, open_database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


def bearer(db: Database, scope: Scope) -> dict[str, str]:
    secret = TokenService(db.uow()).create(f"t-{scope.label}", scope, actor="t").secret
    return {"Authorization": f"Bearer {secret}"}


def rec(request_id: str, **extra: Any) -> dict[str, Any]:
    return {"feature": "chat", "request_id": request_id, "response": "ok", **extra}


def count(database_url: str, table: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_record_retry_conflict_and_feedback_join(
    api_server: str, db: Database, database_url: str
) -> None:
    h = bearer(db, Scope.INGEST)
    with httpx.Client(base_url=api_server, headers=h, timeout=30) as c:
        fb = c.post("/v1/feedback", json={"request_id": "r1", "rating": "down", "comment": "x"})
        assert fb.status_code == 200, fb.text
        assert fb.json()["feedback"][0]["status"] == "pending"
        batch = {
            "records": [
                rec(
                    "r1",
                    version="v1",
                    served_version="v1",
                    model="m-1",
                    arm="incumbent",
                    unit_key="u1",
                    session_id="s1",
                    prompt=[{"role": "user", "content": "hi, I am ann@example.com"}],
                    context=["doc one"],
                    latency_ms=120.5,
                    ttft_ms=30,
                    prompt_tokens=10,
                    completion_tokens=5,
                    cost_usd=0.001,
                    fallback_depth=0,
                    metadata={"plan": "pro"},
                    at="2025-03-01T12:00:00+00:00",
                ),
                rec("r2", error="timeout", fallback_depth=1, shadow=True),
            ]
        }
        first = c.post("/v1/interactions", json=batch)
        assert first.status_code == 200, first.text
        assert first.json() == {
            "created": 2,
            "duplicates": 0,
            "conflicts": [],
            "feedback_joined": 1,
            "warnings": [
                "feature 'chat' has no registered deployment: its records are stored, but "
                "no version of it can be compared or scored against a canary (a typo?)"
            ],
        }
        again = c.post("/v1/interactions", json=batch)
        assert again.json()["duplicates"] == 2 and again.json()["created"] == 0
        changed = c.post("/v1/interactions", json={"records": [rec("r2", response="other")]})
        assert changed.json()["conflicts"][0]["request_id"] == "r2"
        late = c.post("/v1/feedback", json={"feedback": [{"session_id": "s1", "rating": 4}]})
        assert late.json()["feedback"][0] == {
            "index": 0,
            "status": "joined",
            "served_version": "v1",
        }
    assert count(database_url, "interactions") == 2
    with db.uow() as uow:
        stored = uow.interactions.by_request_ids(["r1", "r2"])
        assert stored["r1"].prompt == [{"role": "user", "content": "hi, I am [EMAIL]"}]
        assert stored["r1"].at.isoformat() == "2025-03-01T12:00:00+00:00"
        assert stored["r1"].metadata == {"plan": "pro"} and stored["r1"].ttft_ms == 30
        assert stored["r2"].response == "ok" and stored["r2"].fallback_used
        joined = uow.feedback.for_request("r1")
        assert [(f.scale, f.rating, f.served_version) for f in joined] == [
            ("thumbs", 0.0, "v1"),
            ("1-5", 4.0, "v1"),
        ]


def test_bad_and_oversized_payloads_write_nothing(
    api_server: str, db: Database, database_url: str
) -> None:
    h = bearer(db, Scope.INGEST)
    with httpx.Client(base_url=api_server, headers=h, timeout=60) as c:
        bad = c.post(
            "/v1/interactions",
            json={"records": [rec("a"), rec("b", latency_ms=-3, session_id="x" * 201)]},
        )
        assert bad.status_code == 422
        fields = {d["field"] for d in bad.json()["detail"]}
        assert fields == {"records[1].latency_ms", "records[1].session_id"}
        assert "nothing was recorded" in bad.json()["error"]["message"]
        many = c.post("/v1/interactions", json={"records": [rec(f"r{i}") for i in range(501)]})
        assert many.status_code == 413 and "limit is 500" in many.text
        huge = c.post(
            "/v1/interactions",
            content=b'{"records": ["' + b"x" * (MAX_BODY_BYTES + 10) + b'"]}',
            headers={"Content-Type": "application/json"},
        )
        assert huge.status_code == 413 and huge.json()["detail"][0]["field"] == "body"
        broken = c.post(
            "/v1/interactions", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 422 and "not valid JSON" in broken.text
        nul = c.post("/v1/interactions", json={"records": [rec("n", response="a\u0000b")]})
        assert nul.status_code == 422 and "NUL" in nul.text
        fb = c.post("/v1/feedback", json={"feedback": [{"request_id": "a", "rating": 9}]})
        assert fb.status_code == 422 and fb.json()["detail"][0]["field"] == "feedback[0].rating"
    assert count(database_url, "interactions") == 0
    assert count(database_url, "feedback") == 0


def test_ingest_tokens_record_only_and_only_ingest_or_admin_record(
    api_server: str, db: Database
) -> None:
    tokens = {scope: bearer(db, scope) for scope in Scope}
    with httpx.Client(base_url=api_server, timeout=30) as c:
        ingest = tokens[Scope.INGEST]
        assert c.get("/v1/features", headers=ingest).status_code == 403
        body = {"feature": "chat", "version": "v1", "prompt": "p@1", "model": "m"}
        assert c.post("/v1/deployments", json=body, headers=ingest).status_code == 403
        assert c.get("/v1/tokens", headers=ingest).status_code == 403
        for scope, status in [
            (Scope.READ, 403),
            (Scope.OPERATE, 403),
            (Scope.ADMIN, 200),
            (Scope.INGEST, 200),
        ]:
            r = c.post(
                "/v1/interactions",
                json={"records": [rec(f"by-{scope.label}")]},
                headers=tokens[scope],
            )
            assert r.status_code == status, (scope, r.text)
        assert c.post("/v1/interactions", json={"records": []}).status_code == 401
        created = c.post(
            "/v1/tokens", json={"name": "app", "scope": "ingest"}, headers=tokens[Scope.ADMIN]
        )
        assert created.status_code == 201 and created.json()["scope"] == "ingest"
