"""The control services stamp time from the clock they are given and take rollout salts
from the salt source they are given: a test pins both by passing fixed ones."""

from __future__ import annotations

from datetime import datetime, timedelta

from releasegate.bootstrap import ControlPlaneParts
from releasegate.control.deployments import DeploymentService
from releasegate.deploy.tokens import Scope
from releasegate.ports import Clock, RandomSalts, SaltSource, SystemClock
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData
from tests.support.control import T0, CountingSalts, StepClock


def test_the_defaults_satisfy_the_ports() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(RandomSalts(), SaltSource)
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    salts = {RandomSalts().new_salt() for _ in range(50)}
    assert len(salts) == 50
    assert all(len(s) == 16 and int(s, 16) >= 0 for s in salts)


def test_deployment_times_and_salts_come_from_the_injected_ports() -> None:
    data = MemoryData()
    clock, salts = StepClock(T0), CountingSalts()
    svc = DeploymentService(InMemoryUnitOfWork(data), clock=clock, salts=salts)

    dep = svc.register("chat", "v1", prompt="chat@1", model="m-1", actor="ann")
    assert (dep.created_at, dep.updated_at) == (T0, T0)
    t1 = clock.advance(minutes=5)
    svc.approve("chat", "v1", actor="ann")
    t2 = clock.advance(minutes=5)
    dep = svc.promote("chat", "v1", actor="ann")
    assert dep.updated_at == t2 and dep.activated_at == t2

    svc.register("chat", "v2", prompt="chat@2", model="m-1", actor="bob")
    svc.approve("chat", "v2", actor="bob")
    t3 = clock.advance(hours=1)
    canary = svc.canary("chat", "v2", share=0.1, actor="bob")
    assert canary.salt == "0000000000000001"
    assert canary.updated_at == t3

    t4 = clock.advance(hours=1)
    svc.promote("chat", "v2", actor="bob")
    old = svc.get("chat", "v1")
    assert old.deactivated_at == t4
    assert svc.get("chat", "v2").activated_at == t4

    history = svc.history("chat")
    by_action: dict[str, list[datetime]] = {}
    for entry in history:
        by_action.setdefault(entry.action, []).append(entry.at)
    assert by_action["register"] == [T0, t2]
    assert by_action["approve"] == [t1, t2]
    assert by_action["promote"] == [t2, t4]
    assert by_action["canary"] == [t3]
    assert {entry.at for entry in history} <= {T0, t1, t2, t3, t4}


def test_each_canary_gets_a_new_salt_from_the_source() -> None:
    salts = CountingSalts()
    svc = DeploymentService(InMemoryUnitOfWork(), clock=StepClock(T0), salts=salts)
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    first = svc.canary("chat", "v2", share=0.1, actor="t").salt
    svc.rollback("chat", actor="t", reason="bad answers")
    assert salts.n == 1 and first == "0000000000000001"


def test_token_times_come_from_the_injected_clock(control: ControlPlaneParts) -> None:
    clock = control.clock
    assert isinstance(clock, StepClock)
    tokens = control.tokens()
    created = tokens.create("ci", Scope.parse("operate"), actor="admin")
    assert created.token.created_at == T0
    t1 = clock.advance(days=1)
    revoked = tokens.revoke("ci", actor="admin")
    assert revoked.revoked_at == t1
    assert [(e.action, e.at) for e in tokens.history()] == [
        ("token_create", T0),
        ("token_revoke", t1),
    ]


def test_the_composition_root_shares_one_clock_and_salt_source(
    control: ControlPlaneParts, clock: StepClock, salts: CountingSalts
) -> None:
    svc = control.deployments()
    assert svc.clock is clock and svc.salts is salts
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
        svc.approve("chat", v, actor="t")
    control.deployments().promote("chat", "v1", actor="t")
    later = clock.advance(minutes=1)
    dep = control.deployments().canary("chat", "v2", share=0.5, actor="t")
    assert (dep.salt, dep.updated_at) == ("0000000000000001", later)
    # The router reads what the services wrote, through the same store.
    arms = {control.router(ttl_s=0.0).route("chat", f"user-{i}").arm for i in range(200)}
    assert arms == {"incumbent", "canary"}
