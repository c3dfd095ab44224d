"""Prompt snapshots through the control-plane API and its client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from releasegate.api.app import create_api
from releasegate.api.client import ApiClient
from releasegate.bootstrap import ControlPlaneParts
from releasegate.control.deployments import DeploymentService
from releasegate.deploy.tokens import Scope
from releasegate.errors import DeploymentError
from releasegate.prompts import Prompt
from releasegate.store.database import Database, open_database
from tests.integration.api.test_api import ViaTestClient, auth, token

P1 = Prompt(name="p", version="1.0.0", model="m-1", system="S1", template="{{ input }}")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    with TestClient(create_api(ControlPlaneParts.on_database(db))) as c:
        yield c


def test_client_sends_the_snapshot_and_status_shows_its_hash(
    client: TestClient, db: Database
) -> None:
    api = ApiClient(
        "http://testserver", token=token(db, Scope.OPERATE), transport=ViaTestClient(client)
    )
    dep = api.register("chat", "v1", prompt="p@1.0.0", model="m-1", snapshot=P1)
    assert dep.snapshot_hash == P1.content_hash
    api.register("chat", "v0", prompt="p@1.0.0", model="m-1")
    shown = {d.version: d.snapshot_hash for d in api.status("chat").deployments}
    assert shown == {"v1": P1.content_hash, "v0": None}
    stored = DeploymentService(db.uow()).get("chat", "v1")
    assert stored.prompt_snapshot is not None
    assert stored.prompt_snapshot["prompt"]["system"] == "S1"  # the API kept the full prompt
    edited = P1.model_copy(update={"system": "S2"})
    with pytest.raises(DeploymentError, match="already registered with other content"):
        api.register("faq", "f1", prompt="p@1.0.0", model="m-1", snapshot=edited)
    api.close()


def test_an_invalid_snapshot_is_refused(client: TestClient, db: Database) -> None:
    body = {
        "feature": "chat",
        "version": "v1",
        "prompt": "p@1.0.0",
        "model": "m-1",
        "prompt_snapshot": {"name": "p", "version": "1.0.0"},
    }
    r = client.post("/v1/deployments", json=body, headers=auth(token(db, Scope.OPERATE)))
    assert r.status_code in (400, 422) and "not a valid prompt" in r.text
    body["prompt_snapshot"] = P1.model_dump(mode="json")
    body["prompt"] = "p@2.0.0"
    r = client.post("/v1/deployments", json=body, headers=auth(token(db, Scope.OPERATE, "b")))
    assert r.status_code in (400, 422) and "names p@2.0.0" in r.text
