"""What ``releasegate worker`` and ``releasegate online status`` are built from: the
scoring plan, the checks of each feature (judges through the provider registry), the
job queue and its handlers.

Composition only; the rules live in :mod:`releasegate.online` (sampling, scoring,
arm facts) and :mod:`releasegate.queue` (jobs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from releasegate.config import FeatureScoring, OnlineConfig
from releasegate.deploy.model import utcnow
from releasegate.errors import ConfigError, Issue
from releasegate.online.recording import RecordingService
from releasegate.online.redaction import Redactor
from releasegate.online.sampling import ScoringPlan
from releasegate.ports import Interaction, UnitOfWork

if TYPE_CHECKING:  # the scorers load with the worker, not with a process that records
    from releasegate.canary.policy import CanaryPolicy
    from releasegate.deploy.model import Deployment
    from releasegate.online.scoring import FeatureChecks, ScoringService
    from releasegate.project import Project
    from releasegate.queue import JobQueue
    from releasegate.scorers import AssertSpec

__all__ = [
    "OnlineParts",
    "RecordingHooks",
    "build_checks",
    "canary_policy_for",
    "open_jobs",
    "purge_expired",
    "queue_location",
    "recording_hooks",
    "worker_parts",
]


def queue_location(online: OnlineConfig, database_url: str, override: str | None = None) -> str:
    """The queue: ``override`` (``--queue``), else ``online.queue``, else the default
    file next to a SQLite database (see :func:`releasegate.queue.default_queue_file`)."""
    from releasegate.queue import default_queue_file

    return override or online.queue or str(default_queue_file(database_url))


def open_jobs(
    location: str, *, handlers: Any = None, online: OnlineConfig | None = None
) -> JobQueue:
    """The job queue at ``location`` (intervals from ``online``)."""
    from releasegate.queue import Intervals, JobQueue, open_huey

    cfg = online or OnlineConfig()
    intervals = Intervals(
        analyze=cfg.analysis_interval_s,
        purge=cfg.purge_interval_s,
        sweep=max(1.0, min(60.0, cfg.sweep_after_s / 2)),
        after_scores=cfg.analysis_after_scores_s,
    )
    return JobQueue(open_huey(location, name=cfg.queue_name), handlers, intervals=intervals)


def canary_policy_for(online: OnlineConfig | None) -> Callable[[Deployment], CanaryPolicy]:
    """The canary analysis policy of each deployment: the project's ``online.canary``
    values over the built-in defaults, with the deployment's ``min_score`` as the online
    score floor (what the canary service does without a project).

    Raises:
        ConfigError: the values do not make a valid policy (names the field).
    """
    from releasegate.canary.policy import CanaryPolicy

    values = online.canary.policy_values() if online is not None else {}
    try:
        CanaryPolicy(**values)  # checked once, when the process starts
    except ConfigError as exc:
        raise ConfigError(f"online.canary: {exc}") from None

    def policy(deployment: Deployment) -> CanaryPolicy:
        return CanaryPolicy(**{"min_score": deployment.min_score, **values})

    return policy


def _specs(name: str, feature: FeatureScoring, file: str) -> list[AssertSpec]:
    from releasegate.scorers import AssertSpec

    specs, issues = [], []
    for i, raw in enumerate(feature.checks):
        try:
            specs.append(AssertSpec.model_validate(raw))
        except ValueError as exc:
            issues.append(
                Issue(file=file, field=f"online.features.{name}.checks[{i}]", message=str(exc))
            )
    if issues:
        raise ConfigError(issues)
    return specs


def build_checks(project: Project) -> Callable[[str], FeatureChecks | None]:
    """The checks of a feature's ``online.features.<name>`` (None when not configured),
    each feature's judge and embedder built through the provider registry with the
    provider's retries, timeout and rate limit."""
    from releasegate.online.scoring import FeatureChecks
    from releasegate.providers.managed import ManagedProvider, RetryPolicy
    from releasegate.providers.pricing import PriceTable
    from releasegate.providers.registry import build_embedder, build_provider
    from releasegate.scorers import CheckBuilder, ScorerContext

    features = project.config.online.features

    def build(name: str) -> FeatureChecks | None:
        feature = features.get(name)
        if feature is None:
            return None
        specs = _specs(name, feature, project.config_file)
        judge = embedder = None
        source = str(project.config_path)
        if feature.judge is not None:
            cfg = project.config.providers[feature.judge]
            inner = build_provider(
                feature.judge,
                cfg,
                pricing=PriceTable(project.config.pricing),
                root=project.root,
                source=source,
            )
            judge = ManagedProvider(
                inner,
                concurrency=cfg.concurrency,
                rate_limit=cfg.rate_limit,
                timeout_s=cfg.timeout_s,
                retry=RetryPolicy(max_retries=cfg.max_retries),
            )
        if feature.embedder is not None:
            embedder = build_embedder(
                feature.embedder,
                project.config.providers[feature.embedder],
                root=project.root,
                source=source,
            )
        builder = CheckBuilder(ScorerContext(judge=judge, embedder=embedder))
        checks = [
            builder.build(s, where=f"{project.config_file}: online.features.{name}.checks[{i}]")
            for i, s in enumerate(specs)
        ]

        async def close() -> None:
            for part in (judge, embedder):
                if part is not None:
                    with contextlib.suppress(Exception):
                        await part.aclose()

        return FeatureChecks(specs, checks, close)

    return build


def purge_expired(
    uow_factory: Callable[[], UnitOfWork], online: OnlineConfig, *, batch: int = 1000
) -> int:
    """Delete interactions past their retention (each feature's ``retention_days``, else
    ``online.retention_days``), with their scores and feedback, in batches. Returns how
    many were deleted."""
    now = utcnow()
    deleted = 0
    rules: list[tuple[str | None, float]] = [
        (name, f.retention_days) for name, f in online.features.items() if f.retention_days
    ]
    if online.retention_days is not None:
        rules.append((None, online.retention_days))
    own = {name for name, _ in rules if name is not None}
    for feature, days in rules:
        before = now - timedelta(days=days)
        while True:
            uow = uow_factory()
            with uow:
                n = uow.interactions.purge(
                    before, feature=feature, exclude=own if feature is None else (), limit=batch
                )
                uow.commit()
            deleted += n
            if n < batch:
                break
    return deleted


@dataclass
class OnlineParts:
    """A worker's parts: the services its job handlers call."""

    scoring: ScoringService
    plan: ScoringPlan
    close: Callable[[], None]


def worker_parts(project: Project, uow_factory: Callable[[], UnitOfWork]) -> OnlineParts:
    """The scoring service and plan of ``project``."""
    from releasegate.online.scoring import ScoringService

    service = ScoringService(uow_factory, build_checks(project))
    return OnlineParts(service, ScoringPlan(project.config.online.features), service.close)


@dataclass
class RecordingHooks:
    """What a recording service needs from the project: its redaction patterns, which
    new interactions are due a score, and where their scoring jobs go.

    Build it with :func:`recording_hooks`; :meth:`close` closes the job queue."""

    redactor: Redactor
    sampler: Callable[[Interaction], bool] | None
    enqueue: Callable[[Sequence[int]], None] | None
    close: Callable[[], None]

    def service(self, uow: UnitOfWork) -> RecordingService:
        """A recording service on ``uow`` with these hooks."""
        return RecordingService(
            uow, redactor=self.redactor, sampler=self.sampler, enqueue=self.enqueue
        )


def recording_hooks(online: OnlineConfig | None, database_url: str) -> RecordingHooks:
    """The hooks of a process that records (the API, the gateway): the project's
    redaction, and — when some feature has online checks — the scoring plan and the
    job queue the worker consumes (``online.queue``, else the file next to a SQLite
    database). Without a project (``online`` None): the default redaction, no scoring."""
    if online is None:
        return RecordingHooks(Redactor(), None, None, lambda: None)
    redactor = Redactor.from_config(online)
    if not online.features:
        return RecordingHooks(redactor, None, None, lambda: None)
    jobs = open_jobs(queue_location(online, database_url), online=online)
    # huey's storages hold no resource that outlives the process: nothing to close
    return RecordingHooks(
        redactor, ScoringPlan(online.features), jobs.enqueue_scoring, lambda: None
    )
