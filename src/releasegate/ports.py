"""Persistence ports: repository interfaces and the unit of work.

Services depend only on these; :mod:`releasegate.store` provides the SQL adapters and
:mod:`releasegate.store.memory` an in-memory fake for unit tests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType

from releasegate.canary.observations import ArmStats
from releasegate.canary.records import StoredDecision
from releasegate.deploy.model import ApiToken, AuditEntry, Deployment

__all__ = [
    "ArmKey",
    "ArmStatsRepository",
    "AuditRepository",
    "DecisionRepository",
    "DeploymentRepository",
    "TokenRepository",
    "UnitOfWork",
]


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


#: ``(stage, arm, check_type)``: the key of one row of running statistics of a canary.
ArmKey = tuple[int, str, str]


class ArmStatsRepository(ABC):
    """Running sufficient statistics per (canary deployment, stage, arm, check).

    Both arms of a canary are kept under the canary's deployment id (``arm`` is
    ``"incumbent"`` or ``"canary"``), so the incumbent's numbers are those of the same
    period. Updates are increments, atomic in the database, so concurrent writers never
    lose one another's counts and a decision never rescans interactions.
    """

    @abstractmethod
    def merge(self, deployment_id: int, key: ArmKey, delta: ArmStats) -> None:
        """Add ``delta`` to the row ``key`` of ``deployment_id`` (created if missing)."""

    @abstractmethod
    def for_deployment(self, deployment_id: int) -> dict[ArmKey, ArmStats]:
        """Every row of ``deployment_id``.

        ``pass_score`` and ``negative_feedback_max`` of the returned statistics are the
        defaults: the counts were made with the definitions of the policy in force.
        """


class DecisionRepository(ABC):
    """Every canary analysis result, append-only."""

    @abstractmethod
    def add(self, decision: StoredDecision) -> StoredDecision:
        """Store ``decision`` and return it with its id set."""

    @abstractmethod
    def for_deployment(self, deployment_id: int, *, limit: int = 50) -> list[StoredDecision]:
        """The latest ``limit`` decisions of ``deployment_id``, newest first."""


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
    arm_stats: ArmStatsRepository
    decisions: DecisionRepository

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
