"""Prompt snapshots stored in SQLite and PostgreSQL, and the migration that adds them."""

from __future__ import annotations

import sqlalchemy as sa

from releasegate.control.deployments import DeploymentService
from releasegate.control.snapshots import snapshot_prompt
from releasegate.errors import DeploymentError
from releasegate.prompts import Prompt
from releasegate.store import create_engine, downgrade, upgrade
from releasegate.store.database import open_database

P1 = Prompt(
    name="p",
    version="1.0.0",
    model="m-1",
    params={"temperature": 0.2, "max_tokens": 50},
    system="Réponds brièvement.",
    template="Q: {{ input }}",
)


def test_snapshot_round_trips_and_is_found_by_prompt_version(database_url: str) -> None:
    db = open_database(database_url)
    svc = DeploymentService(db.uow())
    svc.register("chat", "v0", prompt="p@1.0.0", model="m-1", actor="t")
    svc.register("chat", "v1", prompt="p@1.0.0", model="m-1", actor="t", snapshot=P1)
    svc.approve("chat", "v1", actor="t")
    stored = svc.promote("chat", "v1", actor="t")  # later updates keep the snapshot
    dep = svc.get("chat", "v1")
    assert dep.snapshot_hash == P1.content_hash == stored.snapshot_hash
    assert dep.prompt_snapshot is not None and snapshot_prompt(dep.prompt_snapshot) == P1
    assert svc.get("chat", "v0").prompt_snapshot is None
    with db.uow(write=False) as uow:
        found = uow.deployments.prompt_snapshot("p", "1.0.0")
        assert found is not None and found["content_hash"] == P1.content_hash
        assert uow.deployments.prompt_snapshot("p", "9.9.9") is None
    edited = P1.model_copy(update={"template": "{{ input }}"})
    try:
        svc.register("faq", "f1", prompt="p@1.0.0", model="m-1", actor="t", snapshot=edited)
    except DeploymentError as exc:
        assert "already registered with other content" in str(exc)
    else:
        raise AssertionError("a changed prompt under the same version was accepted")
    db.close()


def test_migration_adds_and_removes_the_column(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        downgrade(engine, "0007_upstream_health")
        cols = {c["name"] for c in sa.inspect(engine).get_columns("deployments")}
        assert "prompt_snapshot" not in cols
        upgrade(engine)
        cols = {c["name"] for c in sa.inspect(engine).get_columns("deployments")}
        assert "prompt_snapshot" in cols
    finally:
        engine.dispose()
