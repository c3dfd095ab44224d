"""Every route states its scope in the OpenAPI document, and enforces exactly that scope.

The routes are taken from the app itself: a new route is walked too, and an app with a
route that declares no scope cannot be built at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from releasegate.api.app import create_app
from releasegate.api.auth import SCOPE_EXTENSION, declare_scopes
from releasegate.control.deployments import DeploymentService
from releasegate.control.tokens import TokenService
from releasegate.deploy.tokens import Scope
from releasegate.store.database import Database, open_database

LEVEL: dict[str, Scope | None] = {"none": None, **{s.label: s for s in Scope}}
# Who calls: a label and the scope their token grants (None: no or a bad token).
CALLERS = ["no token", "invalid token", "revoked admin", "ingest", "read", "operate", "admin"]
SAMPLE = {"feature": "chat", "version": "v1", "name": "nobody"}


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


@pytest.fixture
def app(db: Database) -> FastAPI:
    return create_app(db.uow, fallback_model="fallback-1")


def _headers(db: Database) -> dict[str, tuple[Scope | None, dict[str, str]]]:
    tokens = TokenService(db.uow())
    out: dict[str, tuple[Scope | None, dict[str, str]]] = {
        "no token": (None, {}),
        "invalid token": (None, {"Authorization": "Bearer rg_not-a-token"}),
    }
    revoked = tokens.create("old-admin", Scope.ADMIN, actor="t").secret
    tokens.revoke("old-admin", actor="t")
    out["revoked admin"] = (None, {"Authorization": f"Bearer {revoked}"})
    for scope in Scope:
        secret = tokens.create(scope.label, scope, actor="t").secret
        out[scope.label] = (scope, {"Authorization": f"Bearer {secret}"})
    return out


def _operations(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    ops = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            for method in sorted(route.methods):
                ops.append((method, route.path, route))
    return ops


def test_every_route_states_its_scope_in_openapi(app: FastAPI) -> None:
    spec = TestClient(app).get("/openapi.json").json()
    ops = _operations(app)
    assert len(ops) >= 19
    for method, path, _ in ops:
        operation = spec["paths"][path][method.lower()]
        scope = operation.get(SCOPE_EXTENSION)
        assert scope in LEVEL, f"{method} {path} states no scope"
        assert (
            f"Required scope: {'none' if scope == 'none' else f'`{scope}`'}"
            in (operation["description"])
        )
    stated = {
        (m.upper(), p) for p, item in spec["paths"].items() for m in item if m != "parameters"
    }
    assert stated == {(m, p) for m, p, _ in ops}


def test_every_route_enforces_the_scope_it_states(app: FastAPI, db: Database) -> None:
    DeploymentService(db.uow()).register("chat", "v1", prompt="p@1", model="m", actor="t")
    callers = _headers(db)
    spec = TestClient(app).get("/openapi.json").json()
    wrong: list[str] = []
    with TestClient(app) as client:
        for method, path, _ in _operations(app):
            needed = LEVEL[spec["paths"][path][method.lower()][SCOPE_EXTENSION]]
            url = re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)
            for who in CALLERS:
                granted, headers = callers[who]
                # An empty JSON body: an admitted caller gets past auth and meets 404/409/422.
                body = {} if method in ("POST", "PUT", "PATCH") else None
                r = client.request(method, url, headers=headers, json=body)
                if needed is None or (granted is not None and granted.grants(needed)):
                    ok = r.status_code not in (401, 403)
                else:
                    ok = r.status_code == (401 if granted is None else 403)
                if not ok:
                    wrong.append(f"{method} {path} as {who}: {r.status_code} {r.text[:120]}")
    assert wrong == []


def test_an_app_with_an_undeclared_route_cannot_be_built() -> None:
    app = FastAPI()

    @app.get("/v1/secret")
    def secret() -> dict[str, str]:
        return {"token": "leak"}

    with pytest.raises(RuntimeError, match=r"/v1/secret must declare exactly one scope"):
        declare_scopes(app)


# -- the token audit trail is admin-only; the reserved pseudo-feature is unreachable ----

RESERVED = ["_tokens", "_x", "_", "__init__"]


@pytest.mark.parametrize("feature", RESERVED)
def test_reserved_feature_names_are_unreachable_with_any_scope(
    app: FastAPI, db: Database, feature: str
) -> None:
    callers = _headers(db)
    with TestClient(app) as client:
        for who in ("read", "operate", "admin"):
            h = callers[who][1]
            reads = [
                client.get(f"/v1/features/{feature}/history", headers=h),
                client.get(f"/v1/features/{feature}", headers=h),
                client.get(f"/v1/features/{feature}/versions/token_create", headers=h),
                client.get(f"/v1/features/{feature}/route", params={"unit_key": "u"}, headers=h),
            ]
            for r in reads:
                assert r.status_code == 422, (who, r.url, r.text)
                assert "reserved" in r.text and "old-admin" not in r.text
            body = {"feature": feature, "version": "token_revoke", "prompt": "p@1", "model": "m"}
            r = client.post("/v1/deployments", json=body, headers=h)
            assert r.status_code in (403, 422), (who, r.text)
            for action in ("approve", "promote", "pause"):
                r = client.post(
                    f"/v1/features/{feature}/versions/token_revoke/{action}", json={}, headers=h
                )
                assert r.status_code in (403, 422), (who, action, r.text)
        assert feature not in client.get("/v1/features", headers=callers["read"][1]).json()
    trail = TokenService(db.uow()).history()
    assert [e.action for e in trail] == ["token_create", "token_revoke"] + ["token_create"] * 4


def test_token_audit_trail_is_served_to_admin_tokens_only(app: FastAPI, db: Database) -> None:
    callers = _headers(db)
    with TestClient(app) as client:
        for who in ("no token", "invalid token", "ingest", "read", "operate"):
            r = client.get("/v1/tokens/history", headers=callers[who][1])
            assert r.status_code in (401, 403), who
            assert "old-admin" not in r.text
        r = client.get("/v1/tokens/history", headers=callers["admin"][1])
        assert r.status_code == 200
        trail = r.json()
        assert [(e["action"], e["reason"]) for e in trail[:2]] == [
            ("token_create", "old-admin"),
            ("token_revoke", "old-admin"),
        ]
        assert all(e["feature"] == "_tokens" for e in trail)
