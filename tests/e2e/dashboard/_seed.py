"""A seeded store for the dashboard tests: three features, real canary analyses,
recorded interactions (some hostile) and feedback, and tokens of each scope.

Everything is written through the product's own services (deployments, canary
analysis, token service) on a real database, with a step clock so that decisions have
distinct times.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import timedelta

from releasegate.bootstrap import ControlPlaneParts
from releasegate.canary.observations import ArmStats, Observation
from releasegate.canary.policy import CanaryPolicy
from releasegate.deploy.plans import RolloutPlan, Stage
from releasegate.deploy.tokens import Scope
from releasegate.ports import FeedbackEntry, Interaction, StoredScore, UnitOfWork
from releasegate.store.database import open_database
from tests.support.control import CountingSalts, StepClock

__all__ = ["HOSTILE", "N_INTERACTIONS", "N_SCORED", "Seeded", "seed"]

#: Model output that must render as text, never as markup.
HOSTILE = ("<img src=x onerror=alert(1)>", "<script>alert(1)</script>")
PLAN = RolloutPlan(
    name="careful",
    stages=[
        Stage(share=0.05, min_samples=20),
        Stage(share=0.25, min_samples=20, manual_approval=True),
        Stage(share=1.0),
    ],
)
N_INTERACTIONS = 120
#: The oldest this many interactions are scored; the rest wait in the scoring backlog.
N_SCORED = 100


@dataclass(frozen=True)
class Seeded:
    """Secrets of the seeded tokens and the hostile interactions' request ids."""

    read: str
    operate: str
    ingest: str
    hostile_ids: tuple[str, ...]


def _policy(_d: object) -> CanaryPolicy:
    return CanaryPolicy(min_samples=20, n_star=200.0)


def _obs(rng: random.Random, n: int, mean: float, err: float, lat: float) -> list[Observation]:
    return [
        Observation(
            score=min(1.0, max(0.0, rng.gauss(mean, 0.12))),
            error=rng.random() < err,
            latency_ms=rng.lognormvariate(0, 0.35) * lat,
            cost_usd=0.0004 + rng.random() * 0.0002,
            feedback=rng.choice([None, None, None, 1, 1, 0]),
        )
        for _ in range(n)
    ]


def _feed(parts: ControlPlaneParts, feature: str, good: bool, rng: random.Random) -> None:
    canary = parts.canary(policy_for=_policy)
    state = parts.deployments().status(feature)
    assert state.canary is not None
    arms = (("incumbent", 760, 0.80, 700.0), ("canary", 40, 0.83 if good else 0.45, 560.0))
    for arm, n, mean, lat in arms:  # 5% of the requests go to the canary
        obs = _obs(rng, n, mean, 0.01, lat)
        canary.observe(state.canary, arm, obs)
        canary.observe(state.canary, arm, ArmStats.from_observations(obs), check="overall")
        for check, shift in (("faithfulness", -0.06), ("relevance", 0.04)):
            sub = _obs(rng, n, mean + (shift if arm == "canary" else 0.0), 0.0, lat)
            canary.observe(state.canary, arm, ArmStats.from_observations(sub), check=check)


def seed(url: str) -> Seeded:
    """Fill the (new) database at ``url``; return the tokens' secrets."""
    rng = random.Random(14)
    clock = StepClock()
    database = open_database(url, create=True)
    try:
        parts = ControlPlaneParts.on_database(database, clock=clock, salts=CountingSalts())
        svc = parts.deployments()
        for feature in ("support-chat", "search", "summarize"):
            for v in ("v1", "v2"):
                svc.register(feature, v, prompt=f"{feature}@1.{v[1]}.0", model="gpt-4o-mini",
                             actor="alice")  # fmt: skip
                svc.approve(feature, v, actor="alice")
            svc.promote(feature, "v1", actor="alice", reason="first release")
            clock.advance(minutes=5)
        svc.promote("summarize", "v2", actor="bob", reason="better summaries")
        svc.canary("support-chat", "v2", actor="alice", plan=PLAN, reason="new tone")
        svc.canary("search", "v2", actor="alice", plan=PLAN, reason="reranker")
        for _ in range(6):
            clock.advance(minutes=10)
            _feed(parts, "support-chat", True, rng)
            parts.canary(policy_for=_policy).analyze("support-chat")
            if parts.deployments().status("search").canary is not None:
                _feed(parts, "search", False, rng)
                parts.canary(policy_for=_policy).analyze("search")
        tokens = parts.tokens()
        read = tokens.create("viewer", Scope.READ, actor="admin").secret
        operate = tokens.create("oncall", Scope.OPERATE, actor="admin").secret
        ingest = tokens.create("app", Scope.INGEST, actor="admin").secret
        hostile = _interactions(parts, clock, rng)
    finally:
        database.close()
    return Seeded(read=read, operate=operate, ingest=ingest, hostile_ids=hostile)


def _interactions(
    parts: ControlPlaneParts, clock: StepClock, rng: random.Random
) -> tuple[str, ...]:
    records = []
    at = clock.now() - timedelta(hours=1)
    for n in range(N_INTERACTIONS):
        arm = "canary" if n % 5 == 0 else "incumbent"
        response = f"Answer {n}: try restarting the router, then check the cable."
        if n in (7, 8):
            response = HOSTILE[n - 7]
        records.append(
            Interaction(
                request_id=f"req-{n:04d}",
                feature="support-chat",
                arm=arm,
                at=at + timedelta(seconds=20 * n),
                content_hash=hashlib.sha256(str(n).encode()).hexdigest(),
                version="v2" if arm == "canary" else "v1",
                served_version="v1" if n == 10 else ("v2" if arm == "canary" else "v1"),
                model="gpt-4o-mini",
                unit_key=f"user-{n % 17}",
                session_id=f"s-{n // 3}",
                prompt=[
                    {"role": "system", "content": "You are a helpful support agent."},
                    {"role": "user", "content": f"My internet is down (ticket {n}) <b>help</b>"},
                ],
                response=None if n == 13 else response,
                latency_ms=rng.uniform(300, 1500),
                prompt_tokens=120 + n,
                completion_tokens=40 + n % 30,
                cost_usd=0.0005,
                error="upstream timeout after 30 s" if n == 13 else None,
                fallback_depth=1 if n == 10 else 0,
                score_due=True,
            )
        )
    with parts.uow_factory() as uow:
        uow.interactions.add_many(records)
        uow.feedback.add(
            FeedbackEntry(
                rating=0.0,
                scale="thumbs",
                at=clock.now(),
                request_id="req-0007",
                comment="<script>alert('comment')</script> not helpful",
                interaction_id=records[7].id,
            )
        )
        for n, r in enumerate(records[:N_SCORED]):
            assert r.id is not None
            _score(uow, r.id, n, clock)
        for n in (20, 21, 40):
            fb = FeedbackEntry(rating=1.0 if n != 40 else 2.0, scale="thumbs" if n != 40 else "1-5",
                               at=clock.now(), request_id=records[n].request_id,
                               interaction_id=records[n].id)  # fmt: skip
            uow.feedback.add(fb)
        uow.commit()
    return ("req-0007", "req-0008")


def _score(uow: UnitOfWork, interaction_id: int, n: int, clock: StepClock) -> None:
    """Online scores as the worker stores them: faithfulness fails on every ninth
    interaction (the hallucination proxy), with a judge's reason."""
    unfaithful = n % 9 == 0
    faith = 0.2 if unfaithful else 0.95
    reason = (
        "The answer claims the router has a reset button; the context does not say so."
        if unfaithful
        else "Every claim is supported by the context."
    )
    if n == 8:
        reason = f"Quoted the output {HOSTILE[1]} verbatim."
    rep = 1.0 if n % 11 else 0.6
    overall = (faith + rep) / 2
    at = clock.now()
    for check, value, why in (
        ("overall", overall, "mean of 2 checks"),
        ("faithfulness", faith, reason),
        ("repetition", rep, "" if rep == 1.0 else "one sentence repeated 4 times"),
    ):
        uow.scores.add(StoredScore(interaction_id, check, value, "measured", at, why, 0.0001))
