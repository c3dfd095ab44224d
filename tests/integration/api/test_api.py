from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from releasegate.api.app import create_api
from releasegate.api.client import ApiClient
from releasegate.bootstrap import ControlPlaneParts
from releasegate.control.tokens import TokenService
from releasegate.deploy.status import Status
from releasegate.deploy.tokens import Scope
from releasegate.errors import DeploymentError, NotFound, UsageError
from releasegate.store.database import Database, open_database


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    # The app as `api serve` builds it, through the composition root.
    with TestClient(
        create_api(ControlPlaneParts.on_database(db), fallback_model="fallback-1")
    ) as c:
        yield c


class ViaTestClient(httpx.BaseTransport):
    """Forward httpx requests to a TestClient (the app runs in-process)."""

    def __init__(self, tc: TestClient) -> None:
        self.tc = tc

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        r = self.tc.request(
            request.method, str(request.url), content=request.read(), headers=dict(request.headers)
        )
        return httpx.Response(r.status_code, headers=dict(r.headers), content=r.content)


def token(db: Database, scope: Scope, name: str | None = None) -> str:
    return TokenService(db.uow()).create(name or scope.label, scope, actor="test").secret


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_no_token_is_401_and_bad_token_is_401(client: TestClient) -> None:
    r = client.get("/v1/features/chat")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/features/chat", headers=auth("rg_nope")).status_code == 401
    assert client.get("/v1/health").status_code == 200


def test_scopes(client: TestClient, db: Database) -> None:
    read, operate, admin = (token(db, s) for s in (Scope.READ, Scope.OPERATE, Scope.ADMIN))
    body = {"feature": "chat", "version": "v1", "prompt": "p@1", "model": "m"}
    r = client.post("/v1/deployments", json=body, headers=auth(read))
    assert r.status_code == 403 and "needs operate" in r.json()["detail"]
    assert client.post("/v1/deployments", json=body, headers=auth(operate)).status_code == 201
    assert client.get("/v1/tokens", headers=auth(operate)).status_code == 403
    assert client.get("/v1/tokens", headers=auth(admin)).status_code == 200
    assert client.get("/v1/features/chat", headers=auth(admin)).status_code == 200
    r = client.post("/v1/features/chat/rollback", json={"reason": "x"}, headers=auth(read))
    assert r.status_code == 403


def test_revoked_token_is_refused(client: TestClient, db: Database) -> None:
    secret = token(db, Scope.READ, "temp")
    assert client.get("/v1/features", headers=auth(secret)).status_code == 200
    TokenService(db.uow()).revoke("temp", actor="test")
    assert client.get("/v1/features", headers=auth(secret)).status_code == 401


def test_operations_through_the_client(client: TestClient, db: Database) -> None:
    secret = token(db, Scope.OPERATE)
    api = ApiClient(
        "http://testserver", token=secret, actor="alice", transport=ViaTestClient(client)
    )
    api.register("chat", "v1", prompt="chat@1", model="m-1")
    api.approve("chat", "v1", reason="ok")
    api.promote("chat", "v1")
    api.register("chat", "v2", prompt="chat@2", model="m-2")
    api.approve("chat", "v2")
    dep = api.canary("chat", "v2", share=0.005)
    assert dep.status is Status.CANARY and dep.share == pytest.approx(0.005)
    state = api.status("chat")
    assert state.active is not None and state.active.version == "v1"
    assert state.canary is not None and state.canary.version == "v2"
    route = api.route("chat", "user-1")
    assert route.version in ("v1", "v2")
    with pytest.raises(DeploymentError, match="already has a canary"):
        api.register("chat", "v3", prompt="chat@3", model="m")
        api.approve("chat", "v3")
        api.canary("chat", "v3", share=0.1)
    serving = api.rollback("chat", reason="abort canary")
    assert serving is not None and serving.version == "v1"
    with pytest.raises(DeploymentError, match="no previous good version"):
        api.rollback("chat", reason="nothing to restore")
    with pytest.raises(NotFound):
        api.promote("chat", "v9")
    with pytest.raises(UsageError, match="422"):
        api.canary("chat", "v3", share=2.0)
    history = api.history("chat")
    assert history[-1].action == "rollback"
    assert history[-1].actor == "alice (token operate)"
    api.close()


def test_route_falls_back_and_openapi_is_published(client: TestClient, db: Database) -> None:
    secret = token(db, Scope.READ)
    r = client.get("/v1/features/ghost/route", params={"unit_key": "u"}, headers=auth(secret))
    assert r.status_code == 200 and r.json()["arm"] == "fallback"
    spec = client.get("/openapi.json").json()
    assert "/v1/features/{feature}/rollback" in spec["paths"]
    assert any(s.get("type") == "http" for s in spec["components"]["securitySchemes"].values())


def test_approve_with_report_body_is_checked(client: TestClient, db: Database) -> None:
    secret = token(db, Scope.OPERATE)
    h = auth(secret)
    body = {"feature": "chat", "version": "v1", "prompt": "p@1", "model": "m", "min_score": 0.9}
    client.post("/v1/deployments", json=body, headers=h)
    r = client.post(
        "/v1/features/chat/versions/v1/approve",
        json={"report": {"schema_version": 99}},
        headers=h,
    )
    assert r.status_code == 422 and "schema_version" in r.json()["error"]["message"]
    r = client.post("/v1/features/chat/versions/v1/approve", json={}, headers=h)
    assert r.status_code == 409 and "requires an eval score" in r.json()["error"]["message"]


def test_client_reports_unreachable_api() -> None:
    api = ApiClient("http://127.0.0.1:9", token="rg_x", timeout_s=2.0)
    with pytest.raises(UsageError, match="cannot reach"):
        api.status("chat")
    api.close()
