"""Ports: what services need from the world, as interfaces.

* :class:`Clock` and :class:`SaltSource`: the time and the rollout salts a service
  stamps on what it writes (defaults :class:`SystemClock` and :class:`RandomSalts`;
  tests pass fixed ones).
* Persistence: repository interfaces and the unit of work. :mod:`releasegate.store`
  provides the SQL adapters and :mod:`releasegate.store.memory` an in-memory fake.

Services depend only on these; the composition root (:mod:`releasegate.bootstrap`)
chooses the adapters.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from types import TracebackType
from typing import Protocol, runtime_checkable

from releasegate.deploy.bucketing import new_salt
from releasegate.deploy.model import ApiToken, AuditEntry, Deployment, utcnow

__all__ = [
    "AuditRepository",
    "Clock",
    "DeploymentRepository",
    "RandomSalts",
    "SaltSource",
    "SystemClock",
    "TokenRepository",
    "UnitOfWork",
]


@runtime_checkable
class Clock(Protocol):
    """Wall-clock time for timestamps a service writes."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


@runtime_checkable
class SaltSource(Protocol):
    """Fresh rollout salts (see :mod:`releasegate.deploy.bucketing`)."""

    def new_salt(self) -> str:
        """A salt never handed out before: 16 hex characters."""
        ...


class SystemClock:
    """The system's UTC time (:func:`~releasegate.deploy.model.utcnow`)."""

    def now(self) -> datetime:
        return utcnow()


class RandomSalts:
    """Salts from the operating system's secure random source (``secrets``)."""

    def new_salt(self) -> str:
        return new_salt()


class DeploymentRepository(ABC):
    """Deployments of every feature."""

    @abstractmethod
    def add(self, deployment: Deployment) -> Deployment:
        """Insert a new deployment and return it with its id set.

        Raises:
            DeploymentError: when (feature, version) already exists.
        """

    @abstractmethod
    def update(self, deployment: Deployment) -> None:
        """Write back a changed deployment."""

    @abstractmethod
    def get(self, feature: str, version: str) -> Deployment | None:
        """The deployment, or None."""

    @abstractmethod
    def for_feature(self, feature: str, *, lock: bool = False) -> list[Deployment]:
        """All deployments of a feature, oldest first.

        Args:
            feature: The feature.
            lock: Lock the rows until the unit of work ends (``SELECT ... FOR UPDATE`` on
                PostgreSQL; SQLite write transactions already hold the database lock).
        """

    @abstractmethod
    def features(self) -> list[str]:
        """Every feature with at least one deployment, sorted."""


class AuditRepository(ABC):
    """The append-only audit log: entries can be added and read, never changed."""

    @abstractmethod
    def append(self, entry: AuditEntry) -> None: ...

    @abstractmethod
    def for_feature(self, feature: str) -> list[AuditEntry]:
        """Entries of a feature in the order they were written."""


class TokenRepository(ABC):
    """API tokens (hashed)."""

    @abstractmethod
    def add(self, token: ApiToken) -> ApiToken: ...

    @abstractmethod
    def by_hash(self, token_hash: str) -> ApiToken | None: ...

    @abstractmethod
    def by_name(self, name: str) -> ApiToken | None: ...

    @abstractmethod
    def all(self) -> list[ApiToken]: ...

    @abstractmethod
    def update(self, token: ApiToken) -> None: ...


class UnitOfWork(ABC):
    """One transaction over all repositories.

    Use as a context manager; changes are discarded unless :meth:`commit` is called
    before the block ends::

        with uow:
            ...
            uow.commit()
    """

    deployments: DeploymentRepository
    audit: AuditRepository
    tokens: TokenRepository

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...
