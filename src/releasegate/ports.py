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
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from releasegate.canary.observations import ArmStats
from releasegate.canary.records import StoredDecision
from releasegate.deploy.bucketing import new_salt
from releasegate.deploy.model import ApiToken, AuditEntry, Deployment, utcnow
from releasegate.results.report import EvalReport

__all__ = [
    "HALLUCINATION_CHECKS",
    "HALLUCINATION_FAIL_BELOW",
    "ArmKey",
    "ArmStatsRepository",
    "AuditRepository",
    "Clock",
    "DecisionRepository",
    "DeploymentRepository",
    "DuplicateKey",
    "EvalReportRepository",
    "ExplorerFilter",
    "FeedbackEntry",
    "FeedbackRepository",
    "Interaction",
    "InteractionRepository",
    "RandomSalts",
    "SaltSource",
    "ScoreRepository",
    "ScoringCounts",
    "StoredEvalRun",
    "StoredScore",
    "SystemClock",
    "TokenRepository",
    "UnitOfWork",
    "UpstreamHealth",
    "UpstreamHealthRepository",
    "VersionRates",
    "is_hallucination_check",
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
            lock: Lock the rows until the unit of work ends against other changes
                (``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL: records referencing the
                deployments are not held up; SQLite write transactions already hold the
                database lock).
        """

    @abstractmethod
    def features(self) -> list[str]:
        """Every feature with at least one deployment, sorted."""

    @abstractmethod
    def prompt_snapshot(self, name: str, version: str) -> dict[str, Any] | None:
        """The stored snapshot of prompt ``name@version`` (any feature's; the registry
        keeps one content per prompt version), or None when no deployment has one."""


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
    interactions: InteractionRepository
    feedback: FeedbackRepository
    scores: ScoreRepository
    upstream_health: UpstreamHealthRepository
    eval_reports: EvalReportRepository

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


# -- the online half: recorded interactions and user feedback ---------------------------


class DuplicateKey(Exception):
    """A unique key (a request id, a feedback key) was taken by a concurrent writer.

    Raised by the online repositories when the database refuses an insert; nothing of
    the unit of work should be committed, and the caller may run it again (it will then
    see the other writer's row).
    """


@dataclass(slots=True)
class Interaction:
    """One recorded production request (a row of ``interactions``).

    Attributes:
        request_id: Idempotency key, unique across the whole store (1-64 characters).
        feature: The feature that served it.
        arm: The arm the unit was *assigned* to: ``incumbent``, ``canary`` or
            ``fallback`` (no deployment).
        version: The assigned version (the deployment of that arm), if known.
        served_version: The version that actually answered (differs after a fallback).
        model: The model that actually answered.
        unit_key: The bucketing key (user, account ...).
        session_id: Conversation or session the request belongs to.
        prompt: The prompt messages (OpenAI-style dicts), redacted.
        response: The response text, redacted (None or empty when the answer only
            called tools).
        tool_calls: The function calls the answer made, as received (OpenAI shape
            ``{id, type: function, function: {name, arguments}}``; malformed entries
            kept), redacted; None for a text answer.
        tools: The function tools the request offered the model (OpenAI shape), None
            when it offered none.
        context: Retrieved chunks given to the model, redacted.
        latency_ms: Total latency in milliseconds.
        ttft_ms: Time to the first streamed token in milliseconds.
        prompt_tokens: Input tokens.
        completion_tokens: Output tokens.
        cost_usd: Cost in US dollars.
        error: Error message when the request failed, redacted.
        fallback_depth: 0 when the first choice answered, 1 for the first fallback ...
        shadow: A shadow request (its response was not shown to the user).
        metadata: Flat user metadata (string keys; str, int, float, bool or null values).
        at: When the request was served (aware UTC).
        deployment_id: The assigned deployment's id, when the version is registered.
        content_hash: SHA-256 of the record's content, to tell a retry from a conflict.
        score_due: Sampled for online scoring when it was recorded.
        canary_id: The running canary whose arm statistics its facts were added to.
        canary_stage: That canary's rollout stage at the time.
        id: Database id, None until stored.
    """

    request_id: str
    feature: str
    arm: str
    at: datetime
    content_hash: str
    version: str | None = None
    served_version: str | None = None
    model: str | None = None
    unit_key: str | None = None
    session_id: str | None = None
    prompt: list[dict[str, Any]] | None = None
    response: str | None = None
    context: list[str] | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = None
    fallback_depth: int = 0
    shadow: bool = False
    metadata: dict[str, Any] | None = None
    deployment_id: int | None = None
    score_due: bool = False
    canary_id: int | None = None
    canary_stage: int | None = None
    id: int | None = None
    tool_calls: list[Any] | None = None
    tools: list[dict[str, Any]] | None = None

    @property
    def fallback_used(self) -> bool:
        """Whether a fallback answered instead of the first choice."""
        return self.fallback_depth > 0


@dataclass(slots=True)
class FeedbackEntry:
    """One user rating (a row of ``feedback``), joined to an interaction when known.

    Attributes:
        rating: 1.0 (thumbs up) or 0.0 (down) on the ``thumbs`` scale; 1-5 on ``1-5``.
        scale: ``thumbs`` or ``1-5``.
        at: When the feedback was given (aware UTC).
        request_id: The rated request, or None when rated by session.
        session_id: The rated session, or None when rated by request.
        comment: Free text, redacted.
        key: Optional idempotency key chosen by the sender (unique).
        interaction_id: The joined interaction; None while it has not arrived.
        served_version: The version that served the joined interaction (read only).
        id: Database id, None until stored.
    """

    rating: float
    scale: str
    at: datetime
    request_id: str | None = None
    session_id: str | None = None
    comment: str | None = None
    key: str | None = None
    interaction_id: int | None = None
    served_version: str | None = None
    id: int | None = None

    @property
    def negative(self) -> bool:
        """Thumbs down, or 1 or 2 on the 1-5 scale."""
        return self.rating < 0.5 if self.scale == "thumbs" else self.rating <= 2


#: Online checks whose failure counts towards the hallucination proxy: the answer is not
#: supported by its context (``faithfulness``), or the model degenerated into loops
#: (``repetition`` and its aliases). A check key ``type#2`` counts as its type.
HALLUCINATION_CHECKS = ("faithfulness", "repetition", "no-repetition", "loop")
#: A check "fails" for the hallucination proxy below this score (the canary's pass score).
HALLUCINATION_FAIL_BELOW = 0.5


@dataclass(frozen=True, slots=True)
class ExplorerFilter:
    """Filters of the interactions explorer on scores and feedback (None: no filter).

    Attributes:
        check: Only interactions with a measured score of this check (``overall`` for the
            interaction's overall score).
        score_min: With ``check`` (default ``overall``): the score is at least this.
        score_max: With ``check`` (default ``overall``): the score is at most this.
        feedback: ``any`` (some feedback joined), ``negative`` (thumbs down or 1-2 of 5)
            or ``positive`` (any other rating).
    """

    check: str | None = None
    score_min: float | None = None
    score_max: float | None = None
    feedback: str | None = None

    @property
    def score_check(self) -> str | None:
        """The check the score range applies to, None without a score filter."""
        if self.check is not None:
            return self.check
        if self.score_min is not None or self.score_max is not None:
            return "overall"
        return None


@dataclass(frozen=True, slots=True)
class VersionRates:
    """One version's recent traffic (see :meth:`InteractionRepository.version_rates`).

    Attributes:
        version: The assigned version.
        requests: Interactions in the window.
        errors: Of which failed.
        fallbacks: Of which a fallback answered.
        prompt_tokens, completion_tokens, cost_usd: Sums over the window (tokens, USD).
        scored: Interactions of the window with an overall online score.
        hallucination_checked: Interactions with a measured hallucination check
            (:data:`HALLUCINATION_CHECKS`).
        hallucination_failed: Of which at least one such check scored below
            :data:`HALLUCINATION_FAIL_BELOW`.
        feedback: Ratings joined to interactions of the window.
        negative_feedback: Of which negative.
    """

    version: str
    requests: int = 0
    errors: int = 0
    fallbacks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    scored: int = 0
    hallucination_checked: int = 0
    hallucination_failed: int = 0
    feedback: int = 0
    negative_feedback: int = 0


def is_hallucination_check(check: str) -> bool:
    """Whether the online check key ``check`` counts towards the hallucination proxy."""
    return check.split("#", 1)[0] in HALLUCINATION_CHECKS


class InteractionRepository(ABC):
    """Recorded interactions; rows are written once and never changed."""

    @abstractmethod
    def add_many(self, records: Sequence[Interaction]) -> None:
        """Insert new interactions and set their ids.

        Raises:
            DuplicateKey: a request id is already stored (a concurrent writer).
        """

    @abstractmethod
    def by_request_ids(self, request_ids: Collection[str]) -> dict[str, Interaction]:
        """The stored interactions among ``request_ids``, keyed by request id."""

    @abstractmethod
    def in_session(self, session_id: str) -> list[Interaction]:
        """Interactions of a session, oldest first (by ``at``, then id)."""

    @abstractmethod
    def for_feature(self, feature: str, *, limit: int = 100) -> list[Interaction]:
        """The newest interactions of a feature, newest first."""

    @abstractmethod
    def matching(
        self,
        feature: str,
        *,
        version: str | None = None,
        errors: bool = False,
        negative_feedback: bool = False,
        score_below: float | None = None,
        limit: int = 1000,
    ) -> list[Interaction]:
        """Interactions of ``feature`` (served by ``version`` when given) that failed
        (``errors``), have negative feedback joined (``negative_feedback``; thumbs down,
        or 1-2 of 5), or an overall online score below ``score_below``; with several,
        any kind. Shadow requests are left out. Oldest first, at most ``limit``."""

    @abstractmethod
    def count(self) -> int:
        """How many interactions are stored."""

    @abstractmethod
    def by_ids(self, ids: Collection[int]) -> dict[int, Interaction]:
        """The stored interactions among ``ids``, keyed by id."""

    @abstractmethod
    def purge(
        self,
        before: datetime,
        *,
        feature: str | None = None,
        exclude: Collection[str] = (),
        limit: int = 1000,
    ) -> int:
        """Delete up to ``limit`` interactions recorded before ``before`` (of ``feature``
        only, when given; never of the features in ``exclude``), oldest first, with
        their scores and feedback.

        Returns:
            How many interactions were deleted (``limit`` means: call again).
        """

    @abstractmethod
    def page(
        self,
        *,
        feature: str | None = None,
        version: str | None = None,
        errors: bool = False,
        fallbacks: bool = False,
        before_id: int | None = None,
        limit: int = 50,
        more: ExplorerFilter | None = None,
    ) -> list[Interaction]:
        """One page of interactions, newest (highest id) first: keyset pagination.

        Args:
            feature: Only this feature's interactions.
            version: Only those assigned to this version.
            errors: Only failed requests (an error was recorded).
            fallbacks: Only requests a fallback answered.
            before_id: Only ids below this one (the last id of the previous page).
            limit: At most this many rows.
            more: Filters on scores and feedback (see :class:`ExplorerFilter`).
        """

    @abstractmethod
    def version_rates(
        self, feature: str, versions: Sequence[str], *, window: int
    ) -> list[VersionRates]:
        """Rates over the latest ``window`` interactions assigned to each of
        ``versions`` (shadow requests left out), in the order given; a version without
        interactions gets a row of zeros."""


class FeedbackRepository(ABC):
    """User feedback, joined to interactions (possibly later than it was written)."""

    @abstractmethod
    def add(self, entry: FeedbackEntry) -> FeedbackEntry:
        """Insert feedback and return it with its id set.

        Raises:
            DuplicateKey: its key is already stored (a concurrent writer).
        """

    @abstractmethod
    def by_key(self, key: str) -> FeedbackEntry | None: ...

    @abstractmethod
    def pending(
        self, *, request_ids: Collection[str], session_ids: Collection[str]
    ) -> list[FeedbackEntry]:
        """Unjoined feedback naming one of these request ids, or (without a request id)
        one of these sessions; oldest first."""

    @abstractmethod
    def join(self, feedback_id: int, interaction_id: int) -> None:
        """Join unjoined feedback to the interaction it rates."""

    @abstractmethod
    def for_request(self, request_id: str) -> list[FeedbackEntry]:
        """Feedback on a request (directly or through its session), with the served
        version of the joined interaction; oldest first."""

    @abstractmethod
    def for_session(self, session_id: str) -> list[FeedbackEntry]:
        """Feedback given by session id, oldest first."""


# -- online scoring -----------------------------------------------------------------------


@dataclass(slots=True)
class StoredScore:
    """One check's score of one interaction (a row of ``scores``).

    Attributes:
        interaction_id: The scored interaction.
        check: The check's key (its type; ``type#2`` for a second check of the same
            type) or ``overall`` (:data:`releasegate.canary.records.OVERALL`) for the
            interaction's overall score, whose row marks the interaction as scored.
        value: The score in [0, 1]; None when unmeasured or not applicable.
        status: ``measured``, ``unmeasured`` or ``not_applicable``.
        reason: Why (a judge's explanation, the error of an unmeasured check).
        at: When it was stored (aware UTC).
        cost_usd: Money the check spent on model calls (judges); on the overall row,
            the sum over the interaction's checks.
        id: Database id, None until stored.
    """

    interaction_id: int
    check: str
    value: float | None
    status: str
    at: datetime
    reason: str = ""
    cost_usd: float = 0.0
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ScoringCounts:
    """The scoring backlog and throughput, as ``releasegate online status`` shows them.

    Attributes:
        backlog: Interactions sampled for scoring and not yet scored.
        oldest_unscored_at: When the oldest of them was recorded (None without one).
        scored_last_minute: Interactions scored in the minute before ``now``.
        scored_last_hour: Interactions scored in the hour before ``now``.
        scored_total: Interactions scored, ever (of those still kept).
        judge_cost_usd: Money spent on model calls by checks, ever (of those kept).
        judge_cost_last_hour_usd: The same, in the last hour.
    """

    backlog: int
    oldest_unscored_at: datetime | None
    scored_last_minute: int
    scored_last_hour: int
    scored_total: int
    judge_cost_usd: float
    judge_cost_last_hour_usd: float


class ScoreRepository(ABC):
    """Scores of recorded interactions: one row per (interaction, check), written once."""

    @abstractmethod
    def add(self, score: StoredScore) -> bool:
        """Insert ``score`` unless that interaction already has a score of that check.

        Returns:
            True when inserted now; False when it was already scored (nothing written).
        """

    @abstractmethod
    def for_interaction(self, interaction_id: int) -> list[StoredScore]:
        """The scores of one interaction, ``overall`` first, then by check."""

    @abstractmethod
    def of_check(self, interaction_ids: Collection[int], check: str) -> dict[int, StoredScore]:
        """The scores of ``check`` among ``interaction_ids``, keyed by interaction id."""

    @abstractmethod
    def unscored(self, *, before: datetime, limit: int = 1000) -> list[int]:
        """Ids of interactions due a score, recorded before ``before``, still without
        an overall score; oldest first."""

    @abstractmethod
    def counts(self, now: datetime) -> ScoringCounts:
        """Backlog, throughput and judge cost at ``now``."""

    @abstractmethod
    def backlog_by_feature(self) -> dict[str, tuple[int, datetime | None]]:
        """Per feature with a backlog: ``(interactions due a score and not yet scored,
        when the oldest of them was recorded)``."""


# -- the gateway's view of its upstreams ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class UpstreamHealth:
    """One gateway process's circuit breaker of one upstream, as last published.

    Attributes:
        upstream: The upstream (provider) name.
        instance: The gateway process that published it (``host:pid:random``).
        state: ``closed``, ``half_open`` or ``open``.
        failure_rate: Failures / calls in the breaker's window, None with no calls.
        calls: Calls in the window.
        retry_after_s: Seconds until the upstream takes calls again (0: it does now).
        shared: True when the state is shared by every gateway process (Redis), False
            when this process decided alone.
        updated_at: When it was published.
    """

    upstream: str
    instance: str
    state: str
    failure_rate: float | None
    calls: int
    retry_after_s: float
    shared: bool
    updated_at: datetime


class UpstreamHealthRepository(ABC):
    """Breaker states published by gateway processes: one row per (upstream, instance),
    replaced at each publication."""

    @abstractmethod
    def put(self, rows: Sequence[UpstreamHealth]) -> None:
        """Insert or replace the rows of their (upstream, instance)."""

    @abstractmethod
    def recent(self, *, since: datetime) -> list[UpstreamHealth]:
        """Rows published at or after ``since``, by upstream, newest first."""

    def current(self, *, since: datetime) -> list[UpstreamHealth]:
        """For each upstream, its newest row published at or after ``since`` (what the
        dashboard shows; rows of processes that stopped publishing age out), by name."""
        newest: dict[str, UpstreamHealth] = {}
        for row in self.recent(since=since):
            if row.upstream not in newest or row.updated_at > newest[row.upstream].updated_at:
                newest[row.upstream] = row
        return [newest[name] for name in sorted(newest)]

    @abstractmethod
    def purge(self, *, before: datetime) -> int:
        """Delete rows last published before ``before``; returns how many."""


# -- offline eval reports ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredEvalRun:
    """The headline of one stored offline eval report (a row of ``eval_runs``).

    Attributes:
        run_id: The report's run id (unique).
        suite: The suite that ran.
        prompt_name, prompt_version, model: What was evaluated (None when unknown).
        started_at: When the run started (aware UTC).
        status: ``complete``, ``stopped``, ``interrupted`` or ``failed``.
        mean_score, pass_rate: The summary's numbers (None without scored results).
        gate_passed: The gate's verdict, None without a gate.
        n_cases: Results in the report.
        baseline_delta: Mean score difference against the baseline (head minus base),
            None when the run was not compared.
        baseline_high: The upper bound of that difference's confidence interval (below
            0: a drop beyond sampling noise).
        id: Database id.
    """

    run_id: str
    suite: str
    started_at: datetime
    status: str
    prompt_name: str | None = None
    prompt_version: str | None = None
    model: str | None = None
    mean_score: float | None = None
    pass_rate: float | None = None
    gate_passed: bool | None = None
    n_cases: int = 0
    baseline_delta: float | None = None
    baseline_high: float | None = None
    id: int | None = None

    @classmethod
    def of(cls, report: EvalReport) -> StoredEvalRun:
        """The headline of ``report``."""
        ident, summary = report.identity, report.summary
        overall = (report.comparison or {}).get("overall", {})
        delta, high = overall.get("delta"), overall.get("bootstrap", {}).get("high")
        try:
            started = datetime.fromisoformat(report.started_at)
        except ValueError:
            started = utcnow()
        if started.tzinfo is None:
            started = started.replace(tzinfo=utcnow().tzinfo)
        return cls(
            run_id=report.run_id,
            suite=ident.suite,
            started_at=started,
            status=report.status,
            prompt_name=ident.prompt_name,
            prompt_version=ident.prompt_version,
            model=ident.model,
            mean_score=summary.mean_score,
            pass_rate=summary.pass_rate,
            gate_passed=report.gate.passed if report.gate is not None else None,
            n_cases=len(report.cases),
            baseline_delta=float(delta) if isinstance(delta, int | float) else None,
            baseline_high=float(high) if isinstance(high, int | float) else None,
        )


class EvalReportRepository(ABC):
    """Offline eval reports (``releasegate eval --store``), written once."""

    @abstractmethod
    def add(self, report: EvalReport) -> StoredEvalRun:
        """Store ``report`` and return its headline with its id set.

        Raises:
            DuplicateKey: a report with its run id is already stored.
        """

    @abstractmethod
    def runs(
        self, *, suite: str | None = None, prompt: str | None = None, limit: int = 100
    ) -> list[StoredEvalRun]:
        """Headlines of the stored runs (of ``suite`` / prompt name ``prompt`` when
        given), newest first, at most ``limit``."""

    @abstractmethod
    def get(self, run_id: str) -> EvalReport | None:
        """The stored report of ``run_id``, or None."""
