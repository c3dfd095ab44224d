"""Which prompt the gateway serves a version: its snapshot, else the prompt file."""

from __future__ import annotations

from pathlib import Path

from releasegate.control.deployments import DeploymentService
from releasegate.gateway._build import _prompt_lookup
from releasegate.prompts import Prompt
from releasegate.store.database import open_database

OLD = Prompt(name="p", version="1.0.0", model="m", system="old", template="{{ input }}")
NEW = OLD.model_copy(update={"version": "1.1.0", "system": "new"})


def test_snapshot_first_then_the_file_then_nothing(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'rg.sqlite'}", create=True)
    svc = DeploymentService(db.uow())
    svc.register("chat", "v1", prompt="p@1.0.0", model="m", actor="t", snapshot=OLD)
    files = {"p": NEW}  # the file has moved on to 1.1.0
    lookup = _prompt_lookup(files, db, retry_s=0.0)
    assert lookup("p", "1.0.0") == OLD  # from the snapshot
    assert lookup("p", "1.1.0") == NEW  # no snapshot: the file at that version
    assert lookup("p", "2.0.0") is None and lookup("q", "1.0.0") is None
    # Registered later with a snapshot: found on the next look-up, then kept.
    later = OLD.model_copy(update={"version": "2.0.0", "system": "later"})
    svc.register("chat", "v2", prompt="p@2.0.0", model="m", actor="t", snapshot=later)
    assert lookup("p", "2.0.0") == later
    db.close()  # the store is gone: snapshots already read still serve, files too
    assert lookup("p", "1.0.0") == OLD and lookup("p", "2.0.0") == later
    assert lookup("p", "1.1.0") == NEW
