"""The dashboard app in process: security headers, sign-in rules, CSRF, scopes, and
every text escaped. (The browser tests drive the same app through a real server.)"""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from releasegate.bootstrap import ControlPlaneParts
from releasegate.dashboard import create_dashboard
from releasegate.dashboard.app import CSP
from releasegate.deploy.tokens import Scope


@pytest.fixture
def client(parts: ControlPlaneParts) -> TestClient:
    return TestClient(create_dashboard(parts), base_url="http://127.0.0.1")


def _token(parts: ControlPlaneParts, name: str, scope: Scope) -> str:
    return parts.tokens().create(name, scope, actor="admin").secret


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_every_response_has_the_strict_csp(client: TestClient) -> None:
    for path in ("/login", "/", "/static/dashboard.css", "/no-such-page"):
        r = client.get(path, follow_redirects=False)
        assert r.headers["content-security-policy"] == CSP, path
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "unsafe-inline" not in CSP and "script-src" not in CSP  # default-src 'none'


def test_sign_in_link_sets_a_strict_http_only_cookie(
    client: TestClient, parts: ControlPlaneParts
) -> None:
    secret = _token(parts, "viewer", Scope.READ)
    r = client.get(f"/login?token={secret}&next=/features/chat", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/features/chat"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and secret not in cookie
    assert client.get("/features/chat").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/\\evil"])
def test_sign_in_never_redirects_off_site(
    client: TestClient, parts: ControlPlaneParts, target: str
) -> None:
    secret = _token(parts, "viewer", Scope.READ)
    r = client.get("/login", params={"token": secret, "next": target}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_ingest_unknown_and_revoked_tokens_cannot_sign_in(
    client: TestClient, parts: ControlPlaneParts
) -> None:
    ingest = _token(parts, "app", Scope.INGEST)
    assert client.get(f"/login?token={ingest}", follow_redirects=False).status_code == 401
    assert client.get("/login?token=rg_nope", follow_redirects=False).status_code == 401
    read = _token(parts, "viewer", Scope.READ)
    client.get(f"/login?token={read}")
    assert client.get("/", follow_redirects=False).status_code == 200
    parts.tokens().revoke("viewer", actor="admin")  # the session ends with the token
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_the_sign_in_form_needs_its_csrf_token(
    client: TestClient, parts: ControlPlaneParts
) -> None:
    read = _token(parts, "viewer", Scope.READ)
    form = client.get("/login").text
    assert client.post("/login", data={"token": read}).status_code == 403
    r = client.post(
        "/login", data={"token": read, "csrf": _csrf(form), "next": "/"}, follow_redirects=False
    )
    assert r.status_code == 303


def test_operate_needs_scope_csrf_and_same_origin(
    client: TestClient, parts: ControlPlaneParts
) -> None:
    client.get(f"/login?token={_token(parts, 'viewer', Scope.READ)}")
    page = client.get("/features/chat").text
    assert "/confirm/rollback" not in page  # no buttons for a read token
    assert client.get("/features/chat/confirm/rollback?version=v2").status_code == 403
    form = {"version": "v2", "reason": "x", "csrf": _csrf(page)}
    assert client.post("/features/chat/rollback", data=form).status_code == 403
    client.get(f"/login?token={_token(parts, 'oncall', Scope.OPERATE)}")
    page = client.get("/features/chat/confirm/rollback?version=v2").text
    form["csrf"] = _csrf(page)
    evil = {"origin": "http://evil.example"}
    assert client.post("/features/chat/rollback", data=form, headers=evil).status_code == 403
    assert client.post("/features/chat/rollback", data={**form, "csrf": "x"}).status_code == 403
    assert client.post("/features/chat/rollback", data={**form, "reason": " "}).status_code == 422
    assert parts.deployments().status("chat").canary is not None  # nothing changed yet
    r = client.post("/features/chat/rollback", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert parts.deployments().status("chat").canary is None
    entry = parts.deployments().history("chat")[-1]
    assert (entry.action, entry.actor) == ("rollback", "token:oncall (dashboard)")


def test_a_refused_change_says_why(client: TestClient, parts: ControlPlaneParts) -> None:
    client.get(f"/login?token={_token(parts, 'oncall', Scope.OPERATE)}")
    csrf = _csrf(client.get("/").text)
    r = client.post("/features/docs/resume", data={"version": "v1", "csrf": csrf})
    assert r.status_code == 409 and "not paused" in r.text
    r = client.post("/features/docs/explode", data={"version": "v1", "csrf": csrf})
    assert r.status_code == 404


def test_names_and_reasons_are_escaped(client: TestClient, parts: ControlPlaneParts) -> None:
    svc = parts.deployments()
    svc.pause("docs", "v2", actor="t", reason="<script>alert(1)</script>")
    client.get(f"/login?token={_token(parts, 'viewer', Scope.READ)}")
    html = client.get("/features/docs").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_bad_forms_and_page_keys_are_refused_cleanly(
    client: TestClient, parts: ControlPlaneParts
) -> None:
    client.get(f"/login?token={_token(parts, 'oncall', Scope.OPERATE)}")
    many = "&".join(f"f{i}=x" for i in range(60))
    headers = {"content-type": "application/x-www-form-urlencoded"}
    r = client.post("/features/chat/pause", content=many, headers=headers)
    assert r.status_code == 400 and "more than 50 fields" in r.text
    r = client.post("/features/chat/pause", content=b"x" * 70_000, headers=headers)
    assert r.status_code == 400 and "larger than" in r.text
    r = client.post("/features/chat/pause", json={"version": "v2"})
    assert r.status_code == 400 and "expected a form" in r.text
    for before in ("9" * 40, "-1", "abc"):
        assert client.get(f"/interactions?before={before}").status_code == 200
