from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.deploy.model import AuditEntry, Deployment
from releasegate.deploy.status import Status
from releasegate.errors import ConfigError, DeploymentError
from releasegate.store.engine import ENV_VAR, resolve_url
from releasegate.store.memory import InMemoryUnitOfWork


def test_url_precedence_and_normalisation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_url() == "sqlite:///.releasegate/releasegate.db"
    assert not (tmp_path / ".releasegate").exists()  # resolving creates nothing
    monkeypatch.setenv(ENV_VAR, "postgresql://u@h/db")
    assert resolve_url() == "postgresql+psycopg://u@h/db"
    assert resolve_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ConfigError, match="unsupported database 'mysql'"):
        resolve_url("mysql://u@h/db")
    with pytest.raises(ConfigError, match="invalid database URL"):
        resolve_url("not a url")


def dep(version: str, status: Status) -> Deployment:
    return Deployment("chat", version, "p", "1", "m", status=status)


def test_memory_fake_enforces_one_active_and_uncommitted_changes_vanish() -> None:
    uow = InMemoryUnitOfWork()
    with uow:
        uow.deployments.add(dep("v1", Status.ACTIVE))
        uow.commit()
    with uow:
        uow.deployments.add(dep("v2", Status.ACTIVE))
        with pytest.raises(DeploymentError, match="two active"):
            uow.commit()
    with uow:
        uow.deployments.add(dep("v3", Status.PENDING))  # never committed
    with uow:
        assert [d.version for d in uow.deployments.for_feature("chat")] == ["v1"]
        uow.audit.append(AuditEntry(feature="chat", action="x", actor="t"))
        uow.commit()
        assert len(uow.audit.for_feature("chat")) == 1
