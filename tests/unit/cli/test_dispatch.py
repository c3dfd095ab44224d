"""The path table and lifespan of ``releasegate serve``'s dispatcher, on the real
applications built in process."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import pytest
from starlette.routing import Mount
from starlette.testclient import TestClient

from releasegate.api.app import create_api
from releasegate.bootstrap import ControlPlaneParts
from releasegate.cli._dispatch import APP_NAMES, TABLE, Dispatcher, owner_of
from releasegate.control.router import Router
from releasegate.dashboard.app import create_dashboard
from releasegate.gateway import Gateway, MemoryRecorder, create_gateway

GATEWAY_PATHS = {
    ("POST", "/v1/chat/completions"),
    ("GET", "/v1/models"),
    ("POST", "/v1/embeddings"),
    ("GET", "/metrics"),
}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _paths(app: Any) -> set[str]:
    found = set()
    for route in app.routes:
        if isinstance(route, Mount):
            found.add(_concrete(route.path) + "/file.css")
        else:
            found.add(_concrete(route.path))
    return found


@pytest.fixture
def parts() -> ControlPlaneParts:
    return ControlPlaneParts.in_memory()


def _gateway(parts: ControlPlaneParts) -> Gateway:
    return create_gateway(
        router=Router(parts.read_uow_factory, ttl_s=0),
        upstreams={},
        prompts={},
        recorder=MemoryRecorder(),
    )


def test_every_path_of_every_application_reaches_that_application(
    parts: ControlPlaneParts,
) -> None:
    api_paths = _paths(create_api(parts))
    dashboard_paths = _paths(create_dashboard(parts))
    assert {"/openapi.json", "/docs", "/v1/features/x", "/v1/feedback"} <= api_paths
    assert {"/", "/login", "/interactions/x", "/static/file.css"} <= dashboard_paths
    for path in api_paths:
        assert owner_of(path) == "api", path
    for path in dashboard_paths:
        assert owner_of(path) == "dashboard", path
    for _method, path in GATEWAY_PATHS:
        assert owner_of(path) == "gateway", path
    assert owner_of("/healthz") == owner_of("/readyz") == "dispatcher"
    # no application claims another's path: the three sets are disjoint
    assert not api_paths & dashboard_paths
    assert not {p for _m, p in GATEWAY_PATHS} & (api_paths | dashboard_paths)


def test_the_table_routes_only_the_gateway_paths_to_the_gateway() -> None:
    gateway_owned = {p for p, name in TABLE.exact.items() if name == "gateway"}
    assert gateway_owned == {p for _m, p in GATEWAY_PATHS}
    assert owner_of("/v1/chat/completions/") == "api"  # exact, not a prefix
    assert owner_of("/v1/modelsx") == "api"
    assert owner_of("/v1") == "dashboard"
    assert owner_of("/anything/else") == "dashboard"


def test_the_gateway_answers_each_of_its_paths(parts: ControlPlaneParts) -> None:
    with TestClient(Dispatcher({"gateway": _gateway(parts)})) as client:
        for method, path in GATEWAY_PATHS:
            response = client.request(method, path, content=b"{}")
            assert "no route" not in response.text, path  # the gateway's own answer
        assert client.get("/v1/models").json()["object"] == "list"


def test_all_three_mounted(parts: ControlPlaneParts) -> None:
    gateway = _gateway(parts)
    closed: list[str] = []
    apps = {"dashboard": create_dashboard(parts), "api": create_api(parts), "gateway": gateway}
    dispatcher = Dispatcher(apps, on_shutdown=[lambda: closed.append("db")])
    assert dispatcher.mounted == APP_NAMES
    with TestClient(dispatcher) as client:
        assert gateway.ready and dispatcher.ready
        assert client.get("/readyz").json() == {"status": "ready", "apps": list(APP_NAMES)}
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/models").status_code == 200
        assert client.get("/v1/health").json()["status"] == "ok"
        assert client.get("/v1/features").status_code == 401
        login = client.get("/login")
        assert login.status_code == 200 and "content-security-policy" in login.headers
        assert client.get("/", follow_redirects=False).status_code in (302, 303, 307)
    assert not gateway.ready and not dispatcher.ready
    assert closed == ["db"]


@pytest.mark.parametrize(
    ("mounted", "absent"),
    [
        ("gateway", ["/v1/health", "/login", "/docs"]),
        ("api", ["/v1/models", "/v1/chat/completions", "/metrics", "/login", "/"]),
        ("dashboard", ["/v1/models", "/v1/health", "/openapi.json", "/metrics"]),
    ],
)
def test_a_path_of_an_application_not_mounted_is_404(
    parts: ControlPlaneParts, mounted: str, absent: list[str]
) -> None:
    build = {
        "gateway": lambda: _gateway(parts),
        "api": lambda: create_api(parts),
        "dashboard": lambda: create_dashboard(parts),
    }
    with TestClient(Dispatcher({mounted: build[mounted]()})) as client:
        for path in absent:
            response = client.get(path)
            assert response.status_code == 404, path
            if not (mounted == "gateway" and path.startswith("/v1/")):
                assert f"mounts: {mounted}" in response.json()["error"]["message"]


class _Recording:
    """A minimal ASGI application that records the lifespan events it gets."""

    def __init__(self, name: str, log: list[str], *, fail: bool = False) -> None:
        self.name, self.log, self.fail = name, log, fail

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.log.append(f"{self.name} up")
                if self.fail:
                    await send({"type": "lifespan.startup.failed", "message": "no database"})
                    return
                await send({"type": "lifespan.startup.complete"})
            else:
                self.log.append(f"{self.name} down")
                await send({"type": "lifespan.shutdown.complete"})
                return


def test_lifespan_reaches_every_application_in_order() -> None:
    log: list[str] = []
    apps = {n: _Recording(n, log) for n in ("dashboard", "gateway", "api")}
    with TestClient(Dispatcher(apps)):
        assert log == ["gateway up", "api up", "dashboard up"]
    assert log[3:] == ["dashboard down", "api down", "gateway down"]


def test_a_failed_start_up_stops_the_started_ones_and_fails() -> None:
    log: list[str] = []
    apps = {"gateway": _Recording("gateway", log), "api": _Recording("api", log, fail=True)}
    closed: list[bool] = []
    dispatcher = Dispatcher(apps, on_shutdown=[lambda: closed.append(True)])
    with pytest.raises(RuntimeError, match="api: no database"), TestClient(dispatcher):
        pass
    assert log == ["gateway up", "api up", "gateway down"]
    assert closed == [True] and not dispatcher.ready


def test_unknown_or_no_application_is_refused() -> None:
    with pytest.raises(ValueError, match="mount at least one"):
        Dispatcher({})
    with pytest.raises(ValueError, match="worker"):
        Dispatcher({"worker": _Recording("worker", [])})
