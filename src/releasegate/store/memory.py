"""In-memory fakes of the repositories and unit of work, for fast unit tests.

They keep the same contract as the SQL adapters, including the constraints that matter
for correctness (unique feature@version, one active and one canary per feature, an
append-only audit log), checked at commit.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from releasegate.canary.observations import ArmStats
from releasegate.canary.records import OVERALL, StoredDecision
from releasegate.deploy.model import ApiToken, AuditEntry, Deployment
from releasegate.deploy.status import Status
from releasegate.errors import DeploymentError
from releasegate.ports import (
    HALLUCINATION_FAIL_BELOW,
    ArmKey,
    ArmStatsRepository,
    AuditRepository,
    DecisionRepository,
    DeploymentRepository,
    DuplicateKey,
    EvalReportRepository,
    ExplorerFilter,
    FeedbackEntry,
    FeedbackRepository,
    Interaction,
    InteractionRepository,
    ScoreRepository,
    ScoringCounts,
    StoredEvalRun,
    StoredScore,
    TokenRepository,
    UnitOfWork,
    UpstreamHealth,
    UpstreamHealthRepository,
    VersionRates,
    is_hallucination_check,
)
from releasegate.results.report import EvalReport

__all__ = ["InMemoryUnitOfWork", "MemoryData"]


@dataclass
class MemoryData:
    """Committed state shared by every unit of work built on it."""

    deployments: dict[int, Deployment] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    tokens: dict[int, ApiToken] = field(default_factory=dict)
    arm_stats: dict[tuple[int, ArmKey], ArmStats] = field(default_factory=dict)
    decisions: list[StoredDecision] = field(default_factory=list)
    interactions: dict[int, Interaction] = field(default_factory=dict)
    feedback: dict[int, FeedbackEntry] = field(default_factory=dict)
    scores: dict[tuple[int, str], StoredScore] = field(default_factory=dict)
    upstream_health: dict[tuple[str, str], UpstreamHealth] = field(default_factory=dict)
    eval_reports: dict[str, tuple[StoredEvalRun, str]] = field(default_factory=dict)
    next_id: int = 1


class _Deployments(DeploymentRepository):
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add(self, deployment: Deployment) -> Deployment:
        if self.get(deployment.feature, deployment.version) is not None:
            raise DeploymentError(f"deployment {deployment.ref} already exists")
        deployment.id = self.data.next_id
        self.data.next_id += 1
        self.data.deployments[deployment.id] = copy.deepcopy(deployment)
        return deployment

    def update(self, deployment: Deployment) -> None:
        if deployment.id not in self.data.deployments:
            raise ValueError("cannot update a deployment that was never stored")
        self.data.deployments[deployment.id] = copy.deepcopy(deployment)

    def get(self, feature: str, version: str) -> Deployment | None:
        for d in self.data.deployments.values():
            if d.feature == feature and d.version == version:
                return copy.deepcopy(d)
        return None

    def for_feature(self, feature: str, *, lock: bool = False) -> list[Deployment]:
        found = [d for d in self.data.deployments.values() if d.feature == feature]
        return [copy.deepcopy(d) for d in sorted(found, key=lambda d: d.id or 0)]

    def features(self) -> list[str]:
        return sorted({d.feature for d in self.data.deployments.values()})

    def prompt_snapshot(self, name: str, version: str) -> dict[str, Any] | None:
        for d in sorted(self.data.deployments.values(), key=lambda d: d.id or 0):
            if d.prompt_name == name and d.prompt_version == version and d.prompt_snapshot:
                return copy.deepcopy(d.prompt_snapshot)
        return None


class _Audit(AuditRepository):
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def append(self, entry: AuditEntry) -> None:
        self.data.audit.append(replace(entry, id=len(self.data.audit) + 1))

    def for_feature(self, feature: str) -> list[AuditEntry]:
        return [e for e in self.data.audit if e.feature == feature]


class _Tokens(TokenRepository):
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add(self, token: ApiToken) -> ApiToken:
        if self.by_name(token.name) is not None:
            raise DeploymentError(f"a token named {token.name!r} already exists")
        token.id = self.data.next_id
        self.data.next_id += 1
        self.data.tokens[token.id] = copy.deepcopy(token)
        return token

    def by_hash(self, token_hash: str) -> ApiToken | None:
        found = [t for t in self.data.tokens.values() if t.token_hash == token_hash]
        return copy.deepcopy(found[0]) if found else None

    def by_name(self, name: str) -> ApiToken | None:
        found = [t for t in self.data.tokens.values() if t.name == name]
        return copy.deepcopy(found[0]) if found else None

    def all(self) -> list[ApiToken]:
        return [
            copy.deepcopy(t) for t in sorted(self.data.tokens.values(), key=lambda t: t.id or 0)
        ]

    def update(self, token: ApiToken) -> None:
        if token.id is None:
            raise ValueError("cannot update a token that was never stored")
        self.data.tokens[token.id] = copy.deepcopy(token)


class _ArmStats(ArmStatsRepository):
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def merge(self, deployment_id: int, key: ArmKey, delta: ArmStats) -> None:
        plain = replace(delta, pass_score=0.5, negative_feedback_max=0)
        old = self.data.arm_stats.get((deployment_id, key))
        self.data.arm_stats[(deployment_id, key)] = plain if old is None else old.merge(plain)

    def for_deployment(self, deployment_id: int) -> dict[ArmKey, ArmStats]:
        return {k: v for (d, k), v in self.data.arm_stats.items() if d == deployment_id}


class _Decisions(DecisionRepository):
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add(self, decision: StoredDecision) -> StoredDecision:
        decision.id = len(self.data.decisions) + 1
        self.data.decisions.append(copy.deepcopy(decision))
        return decision

    def for_deployment(self, deployment_id: int, *, limit: int = 50) -> list[StoredDecision]:
        mine = [d for d in self.data.decisions if d.deployment_id == deployment_id]
        return [copy.deepcopy(d) for d in reversed(mine[-limit:])] if limit > 0 else []


class _Interactions(InteractionRepository):
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add_many(self, records: Sequence[Interaction]) -> None:
        taken = {i.request_id for i in self.data.interactions.values()}
        for record in records:
            if record.request_id in taken:
                raise DuplicateKey(f"request id {record.request_id!r} is taken")
            taken.add(record.request_id)
        for record in records:
            record.id = self.data.next_id
            self.data.next_id += 1
            self.data.interactions[record.id] = copy.deepcopy(record)

    def by_request_ids(self, request_ids: Collection[str]) -> dict[str, Interaction]:
        wanted = set(request_ids)
        return {
            i.request_id: copy.deepcopy(i)
            for i in self.data.interactions.values()
            if i.request_id in wanted
        }

    def in_session(self, session_id: str) -> list[Interaction]:
        found = [i for i in self.data.interactions.values() if i.session_id == session_id]
        return [copy.deepcopy(i) for i in sorted(found, key=lambda i: (i.at, i.id or 0))]

    def for_feature(self, feature: str, *, limit: int = 100) -> list[Interaction]:
        found = [i for i in self.data.interactions.values() if i.feature == feature]
        found.sort(key=lambda i: (i.at, i.id or 0), reverse=True)
        return [copy.deepcopy(i) for i in found[:limit]]

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
        bad = {e.interaction_id for e in self.data.feedback.values() if e.negative}
        low = {
            i
            for (i, check), s in self.data.scores.items()
            if check == OVERALL
            and score_below is not None
            and s.value is not None
            and s.value < score_below
        }
        found = []
        for i in sorted(self.data.interactions.values(), key=lambda i: (i.at, i.id or 0)):
            if i.feature != feature or i.shadow:
                continue
            if version is not None and (i.served_version or i.version) != version:
                continue
            kinds = [
                (errors, i.error is not None),
                (negative_feedback, i.id in bad),
                (score_below is not None, i.id in low),
            ]
            if any(wanted for wanted, _ in kinds) and not any(w and hit for w, hit in kinds):
                continue
            found.append(copy.deepcopy(i))
        return found[:limit]

    def count(self) -> int:
        return len(self.data.interactions)

    def by_ids(self, ids: Collection[int]) -> dict[int, Interaction]:
        return {
            i: copy.deepcopy(self.data.interactions[i]) for i in ids if i in self.data.interactions
        }

    def purge(
        self,
        before: datetime,
        *,
        feature: str | None = None,
        exclude: Collection[str] = (),
        limit: int = 1000,
    ) -> int:
        old = sorted(
            (
                i
                for i in self.data.interactions.values()
                if i.at < before
                and (feature is None or i.feature == feature)
                and i.feature not in exclude
            ),
            key=lambda i: (i.at, i.id or 0),
        )[:limit]
        gone = {i.id for i in old}
        for key in [k for k in self.data.scores if k[0] in gone]:
            del self.data.scores[key]
        for fid in [f for f, e in self.data.feedback.items() if e.interaction_id in gone]:
            del self.data.feedback[fid]
        for iid in gone:
            self.data.interactions.pop(iid or 0, None)
        return len(old)

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
        found = [
            i
            for i in self.data.interactions.values()
            if (feature is None or i.feature == feature)
            and (version is None or i.version == version)
            and (not errors or i.error is not None)
            and (not fallbacks or i.fallback_depth > 0)
            and (before_id is None or (i.id or 0) < before_id)
            and (more is None or self._more(i.id or 0, more))
        ]
        found.sort(key=lambda i: i.id or 0, reverse=True)
        return [copy.deepcopy(i) for i in found[: max(0, limit)]]

    def _more(self, iid: int, more: ExplorerFilter) -> bool:
        check = more.score_check
        if check is not None:
            s = self.data.scores.get((iid, check))
            if s is None or s.value is None or s.status != "measured":
                return False
            if more.score_min is not None and s.value < more.score_min:
                return False
            if more.score_max is not None and s.value > more.score_max:
                return False
        if more.feedback is not None:
            mine = [e for e in self.data.feedback.values() if e.interaction_id == iid]
            if more.feedback == "negative":
                mine = [e for e in mine if e.negative]
            elif more.feedback == "positive":
                mine = [e for e in mine if not e.negative]
            if not mine:
                return False
        return True

    def version_rates(
        self, feature: str, versions: Sequence[str], *, window: int
    ) -> list[VersionRates]:
        out = []
        for version in versions:
            mine = sorted(
                (
                    i
                    for i in self.data.interactions.values()
                    if i.feature == feature and i.version == version and not i.shadow
                ),
                key=lambda i: i.id or 0,
                reverse=True,
            )[: max(0, window)]
            ids = {i.id for i in mine}
            scored = checked = failed = 0
            for i in mine:
                rows = [s for (k, _), s in self.data.scores.items() if k == i.id]
                scored += any(s.check == OVERALL for s in rows)
                hall = [
                    s.value
                    for s in rows
                    if is_hallucination_check(s.check)
                    and s.status == "measured"
                    and s.value is not None
                ]
                checked += bool(hall)
                failed += any(v < HALLUCINATION_FAIL_BELOW for v in hall)
            fb = [e for e in self.data.feedback.values() if e.interaction_id in ids]
            out.append(
                VersionRates(
                    version=version,
                    requests=len(mine),
                    errors=sum(i.error is not None for i in mine),
                    fallbacks=sum(i.fallback_depth > 0 for i in mine),
                    prompt_tokens=sum(i.prompt_tokens for i in mine),
                    completion_tokens=sum(i.completion_tokens for i in mine),
                    cost_usd=sum(i.cost_usd for i in mine),
                    scored=scored,
                    hallucination_checked=checked,
                    hallucination_failed=failed,
                    feedback=len(fb),
                    negative_feedback=sum(e.negative for e in fb),
                )
            )
        return out


class _Scores(ScoreRepository):
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add(self, score: StoredScore) -> bool:
        key = (score.interaction_id, score.check)
        if key in self.data.scores:
            return False
        score.id = self.data.next_id
        self.data.next_id += 1
        self.data.scores[key] = copy.deepcopy(score)
        return True

    def for_interaction(self, interaction_id: int) -> list[StoredScore]:
        mine = [copy.deepcopy(s) for (i, _), s in self.data.scores.items() if i == interaction_id]
        return sorted(mine, key=lambda s: (s.check != OVERALL, s.check))

    def of_check(self, interaction_ids: Collection[int], check: str) -> dict[int, StoredScore]:
        return {
            i: copy.deepcopy(self.data.scores[(i, check)])
            for i in interaction_ids
            if (i, check) in self.data.scores
        }

    def _pending(self) -> list[Interaction]:
        return sorted(
            (
                i
                for i in self.data.interactions.values()
                if i.score_due and (i.id or 0, OVERALL) not in self.data.scores
            ),
            key=lambda i: (i.at, i.id or 0),
        )

    def unscored(self, *, before: datetime, limit: int = 1000) -> list[int]:
        return [i.id or 0 for i in self._pending() if i.at < before][:limit]

    def counts(self, now: datetime) -> ScoringCounts:
        pending = self._pending()
        overall = [s for (_, c), s in self.data.scores.items() if c == OVERALL]
        hour = [s for s in overall if s.at >= now - timedelta(hours=1)]
        return ScoringCounts(
            backlog=len(pending),
            oldest_unscored_at=pending[0].at if pending else None,
            scored_last_minute=sum(s.at >= now - timedelta(minutes=1) for s in overall),
            scored_last_hour=len(hour),
            scored_total=len(overall),
            judge_cost_usd=sum(s.cost_usd for s in overall),
            judge_cost_last_hour_usd=sum(s.cost_usd for s in hour),
        )

    def backlog_by_feature(self) -> dict[str, tuple[int, datetime | None]]:
        out: dict[str, tuple[int, datetime | None]] = {}
        for i in self._pending():
            n, oldest = out.get(i.feature, (0, None))
            out[i.feature] = (n + 1, oldest or i.at)
        return out


class _EvalReports(EvalReportRepository):
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def add(self, report: EvalReport) -> StoredEvalRun:
        if report.run_id in self.data.eval_reports:
            raise DuplicateKey(f"eval run {report.run_id!r} is already stored")
        run = replace(StoredEvalRun.of(report), id=self.data.next_id)
        self.data.next_id += 1
        self.data.eval_reports[report.run_id] = (run, report.to_json(indent=None))
        return run

    def runs(
        self, *, suite: str | None = None, prompt: str | None = None, limit: int = 100
    ) -> list[StoredEvalRun]:
        found = [
            r
            for r, _ in self.data.eval_reports.values()
            if (suite is None or r.suite == suite) and (prompt is None or r.prompt_name == prompt)
        ]
        found.sort(key=lambda r: (r.started_at, r.id or 0), reverse=True)
        return found[: max(0, limit)]

    def get(self, run_id: str) -> EvalReport | None:
        found = self.data.eval_reports.get(run_id)
        return EvalReport.from_json(found[1]) if found else None


class _Feedback(FeedbackRepository):
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def _out(self, entry: FeedbackEntry) -> FeedbackEntry:
        out = copy.deepcopy(entry)
        served = self.data.interactions.get(entry.interaction_id or 0)
        out.served_version = (served.served_version or served.version) if served else None
        return out

    def _sorted(self, entries: list[FeedbackEntry]) -> list[FeedbackEntry]:
        return [self._out(e) for e in sorted(entries, key=lambda e: (e.at, e.id or 0))]

    def add(self, entry: FeedbackEntry) -> FeedbackEntry:
        if entry.key is not None and self.by_key(entry.key) is not None:
            raise DuplicateKey(f"feedback key {entry.key!r} is taken")
        entry.id = self.data.next_id
        self.data.next_id += 1
        stored = copy.deepcopy(entry)
        stored.served_version = None
        self.data.feedback[entry.id] = stored
        return entry

    def by_key(self, key: str) -> FeedbackEntry | None:
        found = [e for e in self.data.feedback.values() if e.key == key]
        return self._out(found[0]) if found else None

    def pending(
        self, *, request_ids: Collection[str], session_ids: Collection[str]
    ) -> list[FeedbackEntry]:
        rids, sids = set(request_ids), set(session_ids)
        return self._sorted(
            [
                e
                for e in self.data.feedback.values()
                if e.interaction_id is None
                and (
                    e.request_id in rids
                    or (e.request_id is None and e.session_id is not None and e.session_id in sids)
                )
            ]
        )

    def join(self, feedback_id: int, interaction_id: int) -> None:
        entry = self.data.feedback.get(feedback_id)
        if entry is not None and entry.interaction_id is None:
            entry.interaction_id = interaction_id

    def for_request(self, request_id: str) -> list[FeedbackEntry]:
        ids = {i.id for i in self.data.interactions.values() if i.request_id == request_id}
        return self._sorted(
            [
                e
                for e in self.data.feedback.values()
                if e.request_id == request_id
                or (e.interaction_id is not None and e.interaction_id in ids)
            ]
        )

    def for_session(self, session_id: str) -> list[FeedbackEntry]:
        return self._sorted([e for e in self.data.feedback.values() if e.session_id == session_id])


class _UpstreamHealth(UpstreamHealthRepository):
    def __init__(self, data: MemoryData) -> None:
        self.data = data

    def put(self, rows: Sequence[UpstreamHealth]) -> None:
        for row in rows:
            self.data.upstream_health[(row.upstream, row.instance)] = row

    def recent(self, *, since: datetime) -> list[UpstreamHealth]:
        rows = [r for r in self.data.upstream_health.values() if r.updated_at >= since]
        rows.sort(key=lambda r: r.instance)
        rows.sort(key=lambda r: r.updated_at, reverse=True)
        rows.sort(key=lambda r: r.upstream)
        return rows

    def purge(self, *, before: datetime) -> int:
        old = [k for k, r in self.data.upstream_health.items() if r.updated_at < before]
        for key in old:
            del self.data.upstream_health[key]
        return len(old)


class InMemoryUnitOfWork(UnitOfWork):
    """Unit of work over :class:`MemoryData`; changes become visible only on commit."""

    def __init__(self, data: MemoryData | None = None) -> None:
        self.data = data if data is not None else MemoryData()
        self.commits = 0
        self._work: MemoryData | None = None

    def __enter__(self) -> InMemoryUnitOfWork:
        self._work = copy.deepcopy(self.data)
        self.deployments = _Deployments(self._work)
        self.audit = _Audit(self._work)
        self.tokens = _Tokens(self._work)
        self.arm_stats = _ArmStats(self._work)
        self.decisions = _Decisions(self._work)
        self.interactions = _Interactions(self._work)
        self.feedback = _Feedback(self._work)
        self.scores = _Scores(self._work)
        self.upstream_health = _UpstreamHealth(self._work)
        self.eval_reports = _EvalReports(self._work)
        return self

    def commit(self) -> None:
        if self._work is None:
            raise RuntimeError("commit outside of a unit of work")
        _check_constraints(self._work)
        if self._work.audit[: len(self.data.audit)] != self.data.audit:
            raise DeploymentError("audit_log is append-only")
        self.data.deployments = self._work.deployments
        self.data.audit = self._work.audit
        self.data.tokens = self._work.tokens
        self.data.arm_stats = self._work.arm_stats
        self.data.decisions = self._work.decisions
        self.data.interactions = self._work.interactions
        self.data.feedback = self._work.feedback
        self.data.scores = self._work.scores
        self.data.upstream_health = self._work.upstream_health
        self.data.eval_reports = self._work.eval_reports
        self.data.next_id = self._work.next_id
        self._work = copy.deepcopy(self.data)
        self.deployments = _Deployments(self._work)
        self.audit = _Audit(self._work)
        self.tokens = _Tokens(self._work)
        self.arm_stats = _ArmStats(self._work)
        self.decisions = _Decisions(self._work)
        self.interactions = _Interactions(self._work)
        self.feedback = _Feedback(self._work)
        self.scores = _Scores(self._work)
        self.upstream_health = _UpstreamHealth(self._work)
        self.eval_reports = _EvalReports(self._work)
        self.commits += 1

    def rollback(self) -> None:
        self._work = None


def _check_constraints(data: MemoryData) -> None:
    active: set[str] = set()
    canary: set[str] = set()
    for d in data.deployments.values():
        if not 0.0 <= d.share <= 1.0:
            raise DeploymentError(f"{d.ref}: share {d.share} outside [0, 1]")
        if d.status is Status.ACTIVE:
            if d.feature in active:
                raise DeploymentError(f"two active deployments for feature {d.feature!r}")
            active.add(d.feature)
        if d.status is Status.CANARY or (
            d.status is Status.PAUSED and d.paused_from is Status.CANARY
        ):
            if d.feature in canary:
                raise DeploymentError(f"two canaries for feature {d.feature!r}")
            canary.add(d.feature)
