"""The API's limits are the store's limits: at the limit works, one more is a 422 (never a
500), on SQLite and PostgreSQL; the recorded actor ``WHO (token NAME)`` always fits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from releasegate.api.app import create_app
from releasegate.api.auth import ACTOR_HEADER
from releasegate.control.deployments import DeploymentService
from releasegate.control.tokens import TokenService
from releasegate.deploy import names
from releasegate.deploy.tokens import Scope
from releasegate.store.database import Database, open_database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


def _body(**over: str) -> dict[str, str]:
    return {"feature": "chat", "version": "v1", "prompt": "p@1", "model": "m"} | over


FIELDS = {
    "feature": (names.MAX_FEATURE, lambda v: _body(feature=v)),
    "version": (names.MAX_VERSION, lambda v: _body(version=v)),
    "model": (names.MAX_MODEL, lambda v: _body(model=v)),
    "prompt name": (names.MAX_PROMPT_NAME, lambda v: _body(prompt=f"{v}@1")),
    "prompt version": (names.MAX_PROMPT_VERSION, lambda v: _body(prompt=f"p@{v}")),
}


@pytest.mark.parametrize("field", list(FIELDS))
def test_register_fields_at_and_over_their_limits(db: Database, field: str) -> None:
    limit, body = FIELDS[field]
    secret = TokenService(db.uow()).create("ops", Scope.OPERATE, actor="t").secret
    h = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(db.uow)) as client:
        r = client.post("/v1/deployments", json=body("a" * (limit + 1)), headers=h)
        assert r.status_code == 422, r.text
        assert str(limit) in r.text
        r = client.post("/v1/deployments", json=body("a" * limit), headers=h)
        assert r.status_code == 201, r.text
    assert DeploymentService(db.uow()).features() == [body("a" * limit)["feature"]]


def test_token_name_at_and_over_its_limit(db: Database) -> None:
    secret = TokenService(db.uow()).create("root", Scope.ADMIN, actor="t").secret
    h = {"Authorization": f"Bearer {secret}"}
    limit = names.MAX_TOKEN_NAME
    with TestClient(create_app(db.uow)) as client:
        r = client.post("/v1/tokens", json={"name": "t" * (limit + 1), "scope": "read"}, headers=h)
        assert r.status_code == 422
        r = client.post("/v1/tokens", json={"name": "t" * limit, "scope": "read"}, headers=h)
        assert r.status_code == 201


@pytest.mark.parametrize("name_length", [1, 40, names.MAX_TOKEN_NAME])
@pytest.mark.parametrize("scope", [Scope.OPERATE, Scope.ADMIN])
def test_actor_header_fits_the_recorded_actor_with_any_token_name(
    db: Database, name_length: int, scope: Scope
) -> None:
    token_name = "n" * name_length
    secret = TokenService(db.uow()).create(token_name, scope, actor="t").secret
    room = names.MAX_ACTOR - len(f" (token {token_name})")
    with TestClient(create_app(db.uow)) as client:

        def call(who: str | None, n: int) -> int:
            h = {"Authorization": f"Bearer {secret}"}
            if who is not None:
                h[ACTOR_HEADER] = who
            if scope is Scope.ADMIN:
                body = {"name": f"made-{n}", "scope": "read"}
                return client.post("/v1/tokens", json=body, headers=h).status_code
            body = _body(version=f"v{n}")
            return client.post("/v1/deployments", json=body, headers=h).status_code

        assert call("w" * (room + 1), 1) == 422
        assert call("w" * (room + 300), 2) == 422
        assert call("w" * room, 3) == 201
        assert call(None, 4) == 201  # no header: token:NAME
        assert call("", 5) == 422  # a blank actor is refused, never dropped
    if scope is Scope.OPERATE:
        entries = DeploymentService(db.uow()).history("chat")
        assert [len(e.actor) for e in entries] == [
            names.MAX_ACTOR,
            len(f"token:{token_name}"),
        ]
    else:
        trail = TokenService(db.uow()).history()
        assert len(trail[-2].actor) == names.MAX_ACTOR


def test_actor_header_over_the_limit_explains_the_limit(db: Database) -> None:
    secret = TokenService(db.uow()).create("ops", Scope.OPERATE, actor="t").secret
    h = {"Authorization": f"Bearer {secret}", ACTOR_HEADER: "w" * 500}
    with TestClient(create_app(db.uow)) as client:
        r = client.post("/v1/deployments", json=_body(), headers=h)
    assert r.status_code == 422
    assert r.json()["detail"].startswith(
        f"{ACTOR_HEADER} is 500 characters long; with token 'ops' the limit is "
        f"{names.MAX_ACTOR - len(' (token ops)')}"
    )


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        (_body(feature="team/chat"), "feature", "should match pattern"),
        (_body(version="2024/11"), "version", "should match pattern"),
        (_body(feature="_tokens"), "feature", "should match pattern"),
        (_body(version="v" * 101), "version", "should have at most 100 characters"),
        (_body(model="m" * 201), "model", "should have at most 200 characters"),
    ],
)
def test_invalid_bodies_get_a_one_line_error_naming_field_and_rule(
    db: Database, body: dict[str, str], field: str, rule: str
) -> None:
    secret = TokenService(db.uow()).create("ops", Scope.OPERATE, actor="t").secret
    with TestClient(create_app(db.uow)) as client:
        r = client.post("/v1/deployments", json=body, headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 422
    payload = r.json()
    assert payload["error"]["message"].startswith(f"{field}: String {rule}")
    assert payload["detail"][0]["loc"] == ["body", field]
    assert all("input" not in d for d in payload["detail"])


@pytest.mark.parametrize("bad", ["a%00b", "caf%ED%B3%A9", "x%00"])
def test_paths_no_record_can_have_are_422_not_500(db: Database, bad: str) -> None:
    DeploymentService(db.uow()).register("chat", "v1", prompt="p@1", model="m", actor="t")
    secret = TokenService(db.uow()).create("root", Scope.ADMIN, actor="t").secret
    h = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(db.uow), raise_server_exceptions=False) as client:
        responses = [
            client.get(f"/v1/features/{bad}", headers=h),
            client.get(f"/v1/features/{bad}/history", headers=h),
            client.get(f"/v1/features/chat/versions/{bad}", headers=h),
            client.get(f"/v1/features/{bad}/route", params={"unit_key": "u"}, headers=h),
            client.post(f"/v1/features/chat/versions/{bad}/approve", json={}, headers=h),
            client.delete(f"/v1/tokens/{bad}", headers=h),
        ]
    for r in responses:
        assert r.status_code in (404, 422), (r.url, r.status_code, r.text)
