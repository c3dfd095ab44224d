"""Canary readiness: a passing eval report, online checks, something to roll back to."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from releasegate.bootstrap import ControlPlaneParts
from releasegate.control.deployments import DeploymentService
from releasegate.control.readiness import passing_report
from releasegate.deploy.plans import preset
from releasegate.errors import DeploymentError, UsageError
from releasegate.results.report import EvalReport, GateResult
from tests.unit.deploy.test_service import report

ONLINE: Callable[[str], bool | None] = lambda feature: feature == "chat"  # noqa: E731


def gated(passed: bool) -> EvalReport:
    return report(0.9).model_copy(update={"gate": GateResult(passed=passed)})


def service(
    control: ControlPlaneParts, lookup: Callable[[str], bool | None] | None
) -> DeploymentService:
    control.online_checks = lookup
    return control.deployments()


def ready(svc: DeploymentService, *, active: bool = True, gate: bool | None = True) -> None:
    """chat@v1 active (optional), chat@v2 approved on a report whose gate passed or not."""
    if active:
        svc.register("chat", "v1", prompt="chat@1", model="m-1", actor="t")
        svc.approve("chat", "v1", actor="t")
        svc.promote("chat", "v1", actor="t")
    svc.register("chat", "v2", prompt="chat@2", model="m-1", actor="t")
    if gate is None:
        svc.approve("chat", "v2", actor="t")
    elif gate:
        svc.approve("chat", "v2", actor="t", report=gated(True))
    else:
        svc.approve("chat", "v2", actor="t", report=gated(False), override_reason="known flake")


def test_a_ready_version_starts(control: ControlPlaneParts) -> None:
    svc = service(control, ONLINE)
    ready(svc)
    dep = svc.canary("chat", "v2", actor="t", plan=preset("default"))
    assert dep.status.value == "canary" and passing_report(dep)


@pytest.mark.parametrize(
    ("lookup", "active", "gate", "missing"),
    [
        (ONLINE, True, None, ["no passing eval report (it was approved without an eval report)"]),
        (ONLINE, True, False, ["no passing eval report (its report's gate did not pass)"]),
        (lambda f: False, True, True, ["no online checks are configured for 'chat'"]),
        (lambda f: None, True, True, ["no project configuration says whether online checks"]),
        (ONLINE, False, True, ["'chat' has no active version to roll back to"]),
        (
            lambda f: None,
            False,
            None,
            ["no passing eval report", "no project configuration", "no active version"],
        ),
    ],
)
def test_each_missing_item_is_listed_and_nothing_changes(
    control: ControlPlaneParts,
    lookup: Callable[[str], bool | None],
    active: bool,
    gate: bool | None,
    missing: list[str],
) -> None:
    svc = service(control, lookup)
    ready(svc, active=active, gate=gate)
    before = len(svc.history("chat"))
    with pytest.raises(DeploymentError) as err:
        svc.canary("chat", "v2", actor="t", share=0.05)
    text = str(err.value)
    assert text.startswith("chat@v2 is not ready for a canary:")
    assert text.count("\n  - ") == len(missing)
    for item in missing:
        assert item in text
    assert "--override-reason TEXT" in text
    assert svc.get("chat", "v2").status.value == "approved"
    assert len(svc.history("chat")) == before


def test_a_first_release_needs_nothing_to_roll_back_to(control: ControlPlaneParts) -> None:
    svc = service(control, ONLINE)
    ready(svc, active=False)
    dep = svc.canary("chat", "v2", actor="t", share=0.05, first_release=True)
    assert dep.status.value == "canary"
    assert svc.history("chat")[-1].evidence["first_release"] is True


def test_an_override_is_audited_with_what_was_missing(control: ControlPlaneParts) -> None:
    svc = service(control, lambda f: False)
    ready(svc, gate=None)
    svc.canary("chat", "v2", actor="ann", share=0.05, override_reason="hotfix, watched by ann")
    entry = svc.history("chat")[-1]
    assert entry.action == "canary" and entry.actor == "ann"
    override = entry.evidence["readiness_override"]
    assert override["reason"] == "hotfix, watched by ann"
    assert len(override["missing"]) == 2
    # changing the share of a running canary checks nothing again
    assert svc.canary("chat", "v2", actor="ann", share=0.25).share == 0.25


@pytest.mark.parametrize("bad", ["", "   ", "a\x00b"])
def test_an_empty_or_unstorable_override_is_refused(control: ControlPlaneParts, bad: str) -> None:
    svc = service(control, lambda f: False)
    ready(svc, gate=None)
    with pytest.raises(UsageError):
        svc.canary("chat", "v2", actor="t", share=0.05, override_reason=bad)


def test_without_a_lookup_the_service_checks_nothing(control: ControlPlaneParts) -> None:
    svc = service(control, None)  # a library caller with no project
    ready(svc, active=False, gate=None)
    assert svc.canary("chat", "v2", actor="t", share=0.05).status.value == "canary"
