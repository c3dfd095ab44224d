"""The registry's guard rails: refusals name real commands, reports must back the deployment,
registered prompts must exist in the project."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from releasegate.cli import deploy as deploy_cli
from releasegate.control.deployments import DeploymentService
from releasegate.control.evidence import check_prompt_known
from releasegate.deploy.status import Status
from releasegate.errors import DeploymentError, IllegalTransition, UsageError
from releasegate.prompts import load_prompts
from releasegate.results.report import EvalReport, GateResult, Identity, RuleResult
from releasegate.store.memory import InMemoryUnitOfWork
from tests.unit.deploy.test_service import report

#: Every ``deploy`` subcommand that exists.
COMMANDS = {c.name for c in deploy_cli.deploy_app.registered_commands}


def _commands_in(message: str) -> list[str]:
    return re.findall(r"`releasegate deploy (\S+)", message)


def _svc() -> DeploymentService:
    return DeploymentService(InMemoryUnitOfWork())


def _reach(svc: DeploymentService, status: str) -> None:
    """Bring chat@v2 to ``status`` (chat@v1 serves where a status needs an incumbent)."""
    svc.register("chat", "v1", prompt="chat@1.0.0", model="m", actor="t")
    svc.approve("chat", "v1", actor="t")
    svc.promote("chat", "v1", actor="t")
    svc.register("chat", "v2", prompt="chat@1.1.0", model="m", actor="t")
    steps: dict[str, list[Callable[[], object]]] = {
        "pending": [],
        "approved": [lambda: svc.approve("chat", "v2", actor="t")],
        "rejected": [lambda: svc.reject("chat", "v2", actor="t")],
        "canary": [
            lambda: svc.approve("chat", "v2", actor="t"),
            lambda: svc.canary("chat", "v2", actor="t", share=0.1),
        ],
        "active": [
            lambda: svc.approve("chat", "v2", actor="t"),
            lambda: svc.promote("chat", "v2", actor="t"),
        ],
        "rolled_back": [
            lambda: svc.approve("chat", "v2", actor="t"),
            lambda: svc.canary("chat", "v2", actor="t", share=0.1),
            lambda: svc.rollback("chat", actor="t", reason="r"),
        ],
        "paused_pending": [lambda: svc.pause("chat", "v2", actor="t")],
        "paused_canary": [
            lambda: svc.approve("chat", "v2", actor="t"),
            lambda: svc.canary("chat", "v2", actor="t", share=0.1),
            lambda: svc.pause("chat", "v2", actor="t"),
        ],
    }
    for step in steps[status]:
        step()


OPERATIONS: dict[str, Callable[[DeploymentService], object]] = {
    "approve": lambda s: s.approve("chat", "v2", actor="t"),
    "reject": lambda s: s.reject("chat", "v2", actor="t"),
    "canary": lambda s: s.canary("chat", "v2", actor="t", share=0.2),
    "promote": lambda s: s.promote("chat", "v2", actor="t"),
    "pause": lambda s: s.pause("chat", "v2", actor="t"),
    "resume": lambda s: s.resume("chat", "v2", actor="t"),
}

STATES = [
    "pending",
    "approved",
    "rejected",
    "canary",
    "active",
    "rolled_back",
    "paused_pending",
    "paused_canary",
]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_every_refusal_names_commands_that_exist(state: str, operation: str) -> None:
    svc = _svc()
    _reach(svc, state)
    try:
        OPERATIONS[operation](svc)
    except DeploymentError as exc:
        message = str(exc)
        named = _commands_in(message)
        assert named, message
        assert set(named) <= COMMANDS, message
        assert "evaluating" not in message.split(";")[0] or state == "evaluating"
        assert "allowed from" not in message


@pytest.mark.parametrize("operation", ["promote", "canary"])
def test_a_pending_deployment_is_told_to_approve_first(operation: str) -> None:
    svc = _svc()
    _reach(svc, "pending")
    with pytest.raises(IllegalTransition) as info:
        OPERATIONS[operation](svc)
    message = str(info.value)
    assert "approve it first: `releasegate deploy approve chat v2`" in message
    assert "evaluating" not in message


def test_approve_first_asks_for_a_report_when_a_minimum_score_is_set() -> None:
    svc = _svc()
    svc.register("chat", "v1", prompt="chat@1.0.0", model="m", min_score=0.8, actor="t")
    with pytest.raises(IllegalTransition, match=re.escape("approve chat v1 --report REPORT.json")):
        svc.promote("chat", "v1", actor="t")


@pytest.mark.parametrize("state", ["rejected", "rolled_back"])
def test_a_final_status_says_to_register_a_new_version(state: str) -> None:
    svc = _svc()
    _reach(svc, state)
    with pytest.raises(IllegalTransition) as info:
        svc.promote("chat", "v2", actor="t")
    assert "final" in str(info.value)
    assert "`releasegate deploy register chat NEW_VERSION" in str(info.value)


# -- approving on a report -------------------------------------------------------------


def _gated(
    passed: bool,
    *,
    prompt: tuple[str, str] | None = ("chat", "1.1.0"),
    model: str = "m",
    score: float = 0.9,
) -> EvalReport:
    base = report(score, model=model)
    ident = Identity(
        suite="pr",
        model=model,
        prompt_name=prompt[0] if prompt else None,
        prompt_version=prompt[1] if prompt else None,
        tool_version="0.1.0",
    )
    rules = [RuleResult(rule="min_score", passed=passed, actual=score, threshold=0.8)]
    return base.model_copy(
        update={"identity": ident, "gate": GateResult(passed=passed, rules=rules)}
    )


BAD_REPORTS = {
    "gate failed": (_gated(False), "gate failed (failed: min_score)"),
    "other prompt version": (_gated(True, prompt=("chat", "1.0.0")), "chat@1.0.0"),
    "other prompt": (_gated(True, prompt=("faq", "1.1.0")), "faq@1.1.0"),
    "other model": (_gated(True, model="m-big"), "'m-big'"),
    "gate failed and other prompt": (_gated(False, prompt=("faq", "2.0.0")), "faq@2.0.0"),
}


@pytest.mark.parametrize("name", sorted(BAD_REPORTS))
def test_a_report_that_does_not_back_the_deployment_is_refused(name: str) -> None:
    bad, expected = BAD_REPORTS[name]
    svc = _svc()
    svc.register("chat", "v2", prompt="chat@1.1.0", model="m", actor="t")
    with pytest.raises(DeploymentError) as info:
        svc.approve("chat", "v2", actor="t", report=bad)
    assert expected in str(info.value) and "--override-reason" in str(info.value)
    assert svc.get("chat", "v2").status is Status.PENDING
    assert [e.action for e in svc.history("chat")] == ["register"]


@pytest.mark.parametrize("name", sorted(BAD_REPORTS))
def test_an_override_reason_is_recorded_in_the_audit_log(name: str) -> None:
    bad, expected = BAD_REPORTS[name]
    svc = _svc()
    svc.register("chat", "v2", prompt="chat@1.1.0", model="m", actor="t")
    dep = svc.approve("chat", "v2", actor="t", report=bad, override_reason="known flaky rule")
    assert dep.status is Status.APPROVED
    approved = svc.history("chat")[-1]
    assert approved.action == "approve"
    assert approved.evidence["override_reason"] == "known flaky rule"
    assert any(expected in p for p in approved.evidence["overridden"])


def test_a_report_that_backs_the_deployment_needs_no_override() -> None:
    svc = _svc()
    svc.register("chat", "v2", prompt="chat@1.1.0", model="m", actor="t")
    assert svc.approve("chat", "v2", actor="t", report=_gated(True)).status is Status.APPROVED
    assert "override_reason" not in svc.history("chat")[-1].evidence


@pytest.mark.parametrize("reason", ["", "   ", "a\x00b"])
def test_a_blank_or_unstorable_override_reason_is_a_usage_error(reason: str) -> None:
    svc = _svc()
    svc.register("chat", "v2", prompt="chat@1.1.0", model="m", actor="t")
    with pytest.raises(UsageError):
        svc.approve("chat", "v2", actor="t", report=_gated(False), override_reason=reason)


def test_an_override_never_lifts_the_minimum_score_nor_an_incomplete_run() -> None:
    svc = _svc()
    svc.register("chat", "v2", prompt="chat@1.1.0", model="m", min_score=0.95, actor="t")
    with pytest.raises(DeploymentError, match="below the minimum"):
        svc.approve("chat", "v2", actor="t", report=_gated(True), override_reason="x")
    stopped = _gated(True, score=0.99).model_copy(update={"status": "stopped"})
    with pytest.raises(DeploymentError, match="did not complete"):
        svc.approve("chat", "v2", actor="t", report=stopped, override_reason="x")


# -- registering a prompt the project has ----------------------------------------------


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    for name, version in (("support-answer", "1.2.0"), ("faq", "0.1.0")):
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\nversion: {version}\nmodel: m\nsystem: hi\ntemplate: '{{{{ input }}}}'\n"
        )
    return tmp_path


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("support-answer@1.3.0", "available versions of support-answer: 1.2.0"),
        ("support-answer@1.2.1", "only at version 1.2.0"),
        ("support@1.2.0", "available prompts: faq@0.1.0, support-answer@1.2.0"),
        ("faq@1.0.0", "available versions of faq: 0.1.0"),
    ],
)
def test_an_unknown_prompt_version_lists_what_the_project_has(
    prompts: Path, ref: str, expected: str
) -> None:
    with pytest.raises(UsageError) as info:
        check_prompt_known(ref, load_prompts(prompts), where="prompts/")
    assert ref in str(info.value) and expected in str(info.value)


@pytest.mark.parametrize("ref", ["support-answer@1.2.0", "faq@0.1.0"])
def test_a_known_prompt_version_is_accepted(prompts: Path, ref: str) -> None:
    check_prompt_known(ref, load_prompts(prompts), where="prompts/")


def test_a_project_without_prompts_says_so(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="the project has no prompts"):
        check_prompt_known("a@1.0.0", {}, where="prompts/")
