"""The canary service on the in-memory unit of work: decisions are stored and applied."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

import httpx
import pytest

from releasegate.canary.observations import Observation
from releasegate.canary.policy import CanaryPolicy
from releasegate.control.deployments import DeploymentService
from releasegate.deploy.model import Deployment
from releasegate.deploy.plans import RolloutPlan, Stage
from releasegate.deploy.status import Status
from releasegate.online.alerts import WebhookAlerts
from releasegate.online.canary_service import ACTOR, CanaryService
from releasegate.store.memory import InMemoryUnitOfWork

PLAN = RolloutPlan(
    name="custom",
    stages=(Stage(share=0.1, min_samples=200), Stage(share=0.5, min_samples=200), Stage(share=1.0)),
)


class Hook:
    """Records the JSON bodies a webhook receives (an httpx transport)."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, object]] = []
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return httpx.Response(self.status)


@pytest.fixture
def hook() -> Hook:
    return Hook()


@pytest.fixture
def world(hook: Hook) -> Iterator[tuple[DeploymentService, CanaryService]]:
    uow = InMemoryUnitOfWork()
    svc = DeploymentService(uow)
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    svc.canary("chat", "v2", actor="t", plan=PLAN)
    alerts = WebhookAlerts(["http://hooks.test/T000/secret"], transport=httpx.MockTransport(hook))
    yield svc, CanaryService(uow, svc, alerts=alerts, policy_for=lambda d: CanaryPolicy())
    alerts.close()


def canary_of(svc: DeploymentService) -> Deployment:
    dep = svc.status("chat").canary
    assert dep is not None
    return dep


def feed(
    svc: DeploymentService,
    cs: CanaryService,
    n_canary: int,
    *,
    inc_mean: float = 0.8,
    can_mean: float = 0.8,
    can_error: float = 0.0,
    seed: int = 1,
) -> None:
    """Record ``n_canary`` canary requests and the incumbent's share-matched traffic."""
    rng = random.Random(seed)
    dep = canary_of(svc)
    n_inc = round(n_canary * (1 - dep.share) / dep.share) if dep.share < 1 else 0

    def obs(mean: float, err: float) -> Observation:
        if rng.random() < err:
            return Observation(score=None, error=True, latency_ms=100.0)
        s = min(1.0, max(0.0, rng.gauss(mean, 0.15)))
        return Observation(score=s, latency_ms=rng.uniform(80, 120), cost_usd=0.001)

    for arm, n, mean, err in (
        ("incumbent", n_inc, inc_mean, 0.0),
        ("canary", n_canary, can_mean, can_error),
    ):
        batch = [obs(mean, err) for _ in range(n)]
        cs.observe(dep, arm, batch)  # recording: the requests (their scores are ignored)
        scored = [Observation(o.score) for o in batch if o.score is not None]
        cs.observe(dep, arm, scored, check="overall")  # scoring: the scores only


def test_no_running_canary_means_no_decision(
    world: tuple[DeploymentService, CanaryService],
) -> None:
    svc, cs = world
    svc.rollback("chat", actor="t", reason="manual")
    assert cs.analyze("chat") is None
    assert cs.analyze_all() == []


def test_a_worse_canary_is_rolled_back_with_its_numbers_in_the_audit(
    world: tuple[DeploymentService, CanaryService], hook: Hook
) -> None:
    svc, cs = world
    feed(svc, cs, 1500, can_mean=0.55)
    d = cs.analyze("chat")
    assert d is not None and d.action == "rollback" and d.applied == "applied"
    assert svc.get("chat", "v2").status is Status.ROLLED_BACK
    assert svc.status("chat").active is not None
    last = svc.history("chat")[-1]
    assert last.action == "rollback" and last.actor == ACTOR
    assert last.evidence["decision"] == "rollback"
    assert last.evidence["numbers"]["canary.requests"] == 1500
    assert d.reasons[0] in last.reason
    # the decision is stored, and the webhook got a Slack-compatible body
    status = cs.status("chat")
    assert status.decisions[0].action == "rollback"
    assert len(hook.bodies) == 1
    body = hook.bodies[0]
    assert isinstance(body["text"], str) and "chat@v2 rolled back" in body["text"]
    assert body["releasegate"]["action"] == "rollback"  # type: ignore[index]


def test_more_errors_roll_back(world: tuple[DeploymentService, CanaryService]) -> None:
    svc, cs = world
    feed(svc, cs, 2000, can_error=0.08)
    d = cs.analyze("chat")
    assert d is not None and d.action == "rollback", d.reasons


def test_an_equal_canary_advances_through_every_stage_and_is_promoted(
    world: tuple[DeploymentService, CanaryService], hook: Hook
) -> None:
    svc, cs = world
    actions = []
    for seed in range(40):
        if svc.get("chat", "v2").status is Status.ACTIVE:
            break
        feed(svc, cs, 400, seed=seed)
        d = cs.analyze("chat")
        assert d is not None
        actions.append((d.action, d.stage, d.applied))
    assert svc.get("chat", "v2").status is Status.ACTIVE, actions
    assert svc.get("chat", "v1").status is Status.SUPERSEDED
    moves = [
        (e.action, e.evidence.get("stage_to")) for e in svc.history("chat") if e.actor == ACTOR
    ]
    assert moves == [("advance", 1), ("advance", 2), ("supersede", None), ("promote", None)]
    assert ("advance", 0, "applied") in actions and ("promote", 2, "applied") in actions
    assert hook.bodies == []  # nothing needed a person


def test_a_stage_needs_its_minimum_of_scored_canary_requests(
    world: tuple[DeploymentService, CanaryService],
) -> None:
    svc, cs = world
    cs.policy_for = lambda d: CanaryPolicy(min_samples=20)
    feed(svc, cs, 150)
    d = cs.analyze("chat")
    assert d is not None
    if d.action == "continue" and "needs 200 scored canary requests" in d.reasons[0]:
        assert canary_of(svc).stage == 0
    else:  # the analysis itself was not yet conclusive
        assert d.action == "continue"


def test_a_stage_that_needs_approval_waits_for_a_person(hook: Hook) -> None:
    uow = InMemoryUnitOfWork()
    svc = DeploymentService(uow)
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    plan = RolloutPlan(stages=(Stage(share=0.2), Stage(share=1.0, manual_approval=True)))
    svc.canary("chat", "v2", actor="t", plan=plan)
    alerts = WebhookAlerts(["http://hooks.test/x"], transport=httpx.MockTransport(hook))
    cs = CanaryService(uow, svc, alerts=alerts)
    for seed in range(20):
        feed(svc, cs, 500, seed=seed)
        d = cs.analyze("chat")
        assert d is not None
        if d.action == "advance":
            break
    assert d.action == "advance" and d.applied == "awaiting approval"
    assert canary_of(svc).stage == 0
    assert len(hook.bodies) == 1 and "needs approval" in str(hook.bodies[0]["text"])
    # a person approves
    svc.advance("chat", "v2", actor="alice", approved=True)
    assert canary_of(svc).stage == 1
    alerts.close()


def test_a_person_acting_first_is_never_undone(
    world: tuple[DeploymentService, CanaryService],
) -> None:
    svc, cs = world
    feed(svc, cs, 1500, can_mean=0.55)
    dep = canary_of(svc)
    svc.promote("chat", "v2", actor="alice", reason="looks fine to me")
    # the analysis of the (now promoted) version must not roll back the active version
    out = cs._apply(dep, cs_decision("rollback", dep))
    assert out.startswith("not applied") and "no longer the running canary" in out
    assert svc.get("chat", "v2").status is Status.ACTIVE


def cs_decision(action: str, dep: Deployment):  # type: ignore[no-untyped-def]
    from releasegate.canary.records import StoredDecision
    from releasegate.deploy.model import utcnow

    assert dep.id is not None
    return StoredDecision(dep.id, utcnow(), action, dep.stage, ("because",))


def test_a_dry_run_records_but_never_acts(world: tuple[DeploymentService, CanaryService]) -> None:
    svc, cs = world
    cs.apply = False
    feed(svc, cs, 1500, can_mean=0.55)
    d = cs.analyze("chat")
    assert d is not None and d.action == "rollback" and d.applied == "dry-run"
    assert svc.get("chat", "v2").status is Status.CANARY


def test_the_same_hold_is_sent_once(
    world: tuple[DeploymentService, CanaryService], hook: Hook
) -> None:
    svc, cs = world
    cs.policy_for = lambda d: CanaryPolicy(modes={"quality": "pause"})
    feed(svc, cs, 1500, can_mean=0.55)
    first = cs.analyze("chat")
    feed(svc, cs, 300, can_mean=0.55, seed=2)  # new evidence, same verdict
    second = cs.analyze("chat")
    assert first is not None and second is not None
    assert first.action == second.action == "hold"
    assert len(hook.bodies) == 1
    assert len(cs.status("chat").decisions) == 2


@pytest.mark.parametrize(
    ("n_canary", "can_mean", "modes", "action"),
    [
        (5, 0.8, {}, "continue"),  # too little data
        (150, 0.8, {}, "continue"),  # below the stage's minimum
        (1500, 0.55, {"quality": "pause"}, "hold"),
    ],
)
def test_an_analysis_without_new_evidence_stores_no_second_decision(
    world: tuple[DeploymentService, CanaryService],
    n_canary: int,
    can_mean: float,
    modes: dict[str, str],
    action: str,
) -> None:
    """A periodic analysis meeting one run after new scores decides the same thing from
    the same numbers: the standing decision is returned, not stored twice."""
    svc, cs = world
    cs.policy_for = lambda d: CanaryPolicy(modes=modes)  # type: ignore[arg-type]
    feed(svc, cs, n_canary, can_mean=can_mean)
    first = cs.analyze("chat")
    again = [cs.analyze("chat") for _ in range(3)]
    assert first is not None and first.action == action
    assert all(d == first for d in again)
    assert len(cs.status("chat").decisions) == 1
    feed(svc, cs, 20, can_mean=can_mean, seed=9)  # new evidence: a new decision
    assert cs.analyze("chat") != first
    assert len(cs.status("chat").decisions) == 2


def test_an_advance_awaiting_approval_is_not_stored_again(hook: Hook) -> None:
    uow = InMemoryUnitOfWork()
    svc = DeploymentService(uow)
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    plan = RolloutPlan(stages=(Stage(share=0.2), Stage(share=1.0, manual_approval=True)))
    svc.canary("chat", "v2", actor="t", plan=plan)
    cs = CanaryService(uow, svc)
    for seed in range(20):
        feed(svc, cs, 500, seed=seed)
        d = cs.analyze("chat")
        assert d is not None
        if d.action == "advance":
            break
    assert d.applied == "awaiting approval"
    stored = len(cs.status("chat", limit=100).decisions)
    assert cs.analyze("chat") == d
    assert len(cs.status("chat", limit=100).decisions) == stored


def test_a_failing_webhook_never_breaks_the_decision(
    world: tuple[DeploymentService, CanaryService],
) -> None:
    svc, cs = world
    down = WebhookAlerts(
        ["http://hooks.test/y"], attempts=2, transport=httpx.MockTransport(Hook(status=503))
    )
    cs.alerts = down
    feed(svc, cs, 1500, can_mean=0.55)
    d = cs.analyze("chat")
    assert d is not None and d.applied == "applied" and down.failures == 1
    down.close()


def test_status_shows_both_arms_and_the_last_decision(
    world: tuple[DeploymentService, CanaryService],
) -> None:
    svc, cs = world
    feed(svc, cs, 300)
    cs.analyze("chat")
    out = cs.status("chat").to_json()
    assert out["canary"]["version"] == "v2" and out["incumbent"] == "v1"
    assert out["arms"]["canary"]["requests"] == 300
    assert out["arms"]["incumbent"]["requests"] == 2700
    assert 0.7 < out["arms"]["canary"]["mean_score"] < 0.9
    assert out["last_decision"]["action"] in {"continue", "advance"}
    json.dumps(out)  # JSON-safe
