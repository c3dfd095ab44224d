from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.bootstrap import ControlPlaneParts
from releasegate.control.deployments import DeploymentService
from releasegate.deploy.plans import preset
from releasegate.deploy.status import Status
from releasegate.errors import DeploymentError, IllegalTransition, NotFound, UsageError
from releasegate.results.report import EvalReport, Identity, Summary, TokenTotals


def report(score: float | None, *, model: str = "m-1", status: str = "complete") -> EvalReport:
    summary = Summary(
        n_cases=10,
        n_results=10,
        n_passed=9,
        n_failed=1,
        n_errors=0,
        n_unmeasured=0,
        n_not_applicable=0,
        mean_score=score,
        std=0.1,
        p10=None,
        p50=None,
        p90=None,
        pass_rate=0.9,
        latency_mean_ms=None,
        latency_p95_ms=None,
        tokens=TokenTotals(),
        cost_usd=0.0,
    )
    return EvalReport(
        run_id="run-1",
        started_at="2025-01-01T00:00:00Z",
        finished_at="2025-01-01T00:01:00Z",
        duration_s=60.0,
        identity=Identity(suite="pr", model=model, tool_version="0.1.0"),
        summary=summary,
        status=status,  # type: ignore[arg-type]
    )


@pytest.fixture
def svc() -> DeploymentService:
    # Built as every entry point builds it (the system clock: these tests order events).
    return ControlPlaneParts.in_memory().deployments()


def live(svc: DeploymentService, version: str, *, feature: str = "chat") -> None:
    svc.register(feature, version, prompt=f"chat@{version}", model="m-1", actor="t")
    svc.approve(feature, version, actor="t")
    svc.promote(feature, version, actor="t")


def test_full_path_and_audit(svc: DeploymentService) -> None:
    live(svc, "v1")
    svc.register("chat", "v2", prompt="chat@2", model="m-1", actor="ann")
    svc.approve("chat", "v2", actor="ann", reason="looks good")
    dep = svc.canary("chat", "v2", actor="ann", share=0.05)
    assert dep.status is Status.CANARY and dep.share == 0.05 and dep.salt
    salt = dep.salt
    dep = svc.canary("chat", "v2", actor="ann", share=0.25)
    assert dep.salt == salt  # the salt survives a share change: units only move forward
    svc.promote("chat", "v2", actor="ann")
    state = svc.status("chat")
    assert state.active is not None and state.active.version == "v2"
    assert [d.status for d in state.deployments] == [Status.SUPERSEDED, Status.ACTIVE]
    actions = [(e.action, e.version, e.from_status, e.to_status) for e in svc.history("chat")]
    assert actions[-5:] == [
        ("approve", "v2", "evaluating", "approved"),
        ("canary", "v2", "approved", "canary"),
        ("set_share", "v2", "canary", "canary"),
        ("supersede", "v1", "active", "superseded"),
        ("promote", "v2", "canary", "active"),
    ]
    assert all(e.actor in ("t", "ann") for e in svc.history("chat"))


def test_rollback_restores_previous_then_refuses_without_change(svc: DeploymentService) -> None:
    live(svc, "v1")
    live(svc, "v2")
    live(svc, "v3")
    assert (serving := svc.rollback("chat", actor="op", reason="bad answers")) is not None
    assert serving.version == "v2"
    assert svc.rollback("chat", actor="op", reason="still bad").version == "v1"  # type: ignore[union-attr]
    before = svc.history("chat")
    with pytest.raises(DeploymentError, match="no previous good version"):
        svc.rollback("chat", actor="op", reason="again")
    assert svc.history("chat") == before
    assert svc.status("chat").active.version == "v1"  # type: ignore[union-attr]


def test_rollback_to_named_version(svc: DeploymentService) -> None:
    for v in ("v1", "v2", "v3"):
        live(svc, v)
    assert svc.rollback("chat", actor="op", reason="r", to="v1").version == "v1"  # type: ignore[union-attr]
    with pytest.raises(DeploymentError, match="rolled_back"):
        svc.rollback("chat", actor="op", reason="r", to="v3")
    with pytest.raises(NotFound):
        svc.rollback("chat", actor="op", reason="r", to="v9")


def test_rollback_aborts_a_running_canary(svc: DeploymentService) -> None:
    live(svc, "v1")
    svc.register("chat", "v2", prompt="chat@2", model="m-1", actor="t")
    svc.approve("chat", "v2", actor="t")
    svc.canary("chat", "v2", actor="t", share=0.1)
    serving = svc.rollback("chat", actor="op", reason="canary worse")
    assert serving is not None and serving.version == "v1"
    assert svc.get("chat", "v2").status is Status.ROLLED_BACK


def test_rollback_needs_a_reason(svc: DeploymentService) -> None:
    live(svc, "v1")
    with pytest.raises(UsageError, match="reason"):
        svc.rollback("chat", actor="op", reason=" ")


def test_min_score_requires_a_good_report(svc: DeploymentService) -> None:
    svc.register("chat", "v1", prompt="chat@1", model="m-1", actor="t", min_score=0.8)
    with pytest.raises(DeploymentError, match="requires an eval score"):
        svc.approve("chat", "v1", actor="t")
    with pytest.raises(DeploymentError, match=r"0\.7000 is below the minimum 0\.8"):
        svc.approve("chat", "v1", actor="t", report=report(0.7))
    with pytest.raises(DeploymentError, match="evaluated model 'other'"):
        svc.approve("chat", "v1", actor="t", report=report(0.9, model="other"))
    with pytest.raises(DeploymentError, match="did not complete"):
        svc.approve("chat", "v1", actor="t", report=report(0.9, status="stopped"))
    assert svc.get("chat", "v1").status is Status.PENDING  # refused: nothing changed
    dep = svc.approve("chat", "v1", actor="t", report=report(0.85))
    assert dep.status is Status.APPROVED
    assert dep.eval_summary is not None and dep.eval_summary["mean_score"] == 0.85


def test_second_canary_and_promoting_around_a_canary_are_refused(svc: DeploymentService) -> None:
    live(svc, "v1")
    for v in ("v2", "v3"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
        svc.approve("chat", v, actor="t")
    svc.canary("chat", "v2", actor="t", share=0.1)
    with pytest.raises(DeploymentError, match="already has a canary"):
        svc.canary("chat", "v3", actor="t", share=0.1)
    with pytest.raises(DeploymentError, match="canary running"):
        svc.promote("chat", "v3", actor="t")


def test_pause_and_resume_return_to_the_same_status(svc: DeploymentService) -> None:
    live(svc, "v1")
    svc.register("chat", "v2", prompt="chat@2", model="m-1", actor="t")
    svc.approve("chat", "v2", actor="t")
    svc.canary("chat", "v2", actor="t", share=0.1)
    paused = svc.pause("chat", "v2", actor="t", reason="weekend")
    assert paused.status is Status.PAUSED and paused.paused_from is Status.CANARY
    assert svc.status("chat").canary is not None  # a paused canary still holds its slot
    with pytest.raises(IllegalTransition):
        svc.promote("chat", "v2", actor="t")
    resumed = svc.resume("chat", "v2", actor="t")
    assert resumed.status is Status.CANARY and resumed.paused_from is None
    with pytest.raises(DeploymentError, match="not paused"):
        svc.resume("chat", "v2", actor="t")
    with pytest.raises(IllegalTransition):
        svc.pause("chat", "v1", actor="t")  # the active version cannot be paused


def test_plan_starts_at_first_stage(svc: DeploymentService) -> None:
    live(svc, "v1")
    svc.register("chat", "v2", prompt="chat@2", model="m-1", actor="t")
    svc.approve("chat", "v2", actor="t")
    dep = svc.canary("chat", "v2", actor="t", plan=preset("default"))
    assert dep.share == 0.05 and dep.stage == 0 and dep.plan is not None
    assert dep.plan["name"] == "default"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt": "no-version"}, "NAME@VERSION"),
        ({"prompt": "p@1", "model": " "}, "model must not be empty"),
        ({"prompt": "p@1", "min_score": 1.5}, "min-score"),
    ],
)
def test_register_validates_input(
    svc: DeploymentService, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"prompt": "p@1", "model": "m", "actor": "t"} | kwargs
    with pytest.raises(UsageError, match=message):
        svc.register("chat", "v1", **args)  # type: ignore[arg-type]


def test_duplicates_and_unknowns(svc: DeploymentService) -> None:
    svc.register("chat", "v1", prompt="p@1", model="m", actor="t")
    with pytest.raises(DeploymentError, match="already exists"):
        svc.register("chat", "v1", prompt="p@1", model="m", actor="t")
    with pytest.raises(NotFound, match="known versions: v1"):
        svc.approve("chat", "v2", actor="t")
    with pytest.raises(NotFound, match="no deployments"):
        svc.status("nope")
    with pytest.raises(UsageError):
        svc.canary("chat", "v1", actor="t", share=0.0)


# -- names, reserved names and limits (the same rules as every other path) ------------

GOOD_NAMES = ["chat", "support-chat", "team.chat", "A_1", "2024.11", "v1.0.0-rc.1", "x" * 100]
BAD_NAMES = [
    "team/chat",
    "ops%2Fx",
    "2024/11",
    "a@b",
    "with space",
    " chat",
    "chat\n",
    "tab\tname",
    "caf\u00e9",
    "q?x",
    "a#b",
    ".hidden",
    "-flag",
    "..",
    "",
    "_tokens",
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_names_of_the_grammar_register_as_feature_and_version(
    svc: DeploymentService, name: str
) -> None:
    dep = svc.register(name, name, prompt="p@1", model="m", actor="t")
    assert svc.get(name, name) == dep


@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_outside_the_grammar_are_refused_before_the_store(
    name: str, svc: DeploymentService
) -> None:
    with pytest.raises(UsageError, match=r"feature|reserved"):
        svc.register(name, "v1", prompt="p@1", model="m", actor="t")
    with pytest.raises(UsageError, match="version"):
        svc.register("chat", name, prompt="p@1", model="m", actor="t")
    assert svc.features() == []
    assert svc.uow.data.audit == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("feature", ["_tokens", "_", "__x", "_chat"])
def test_reserved_feature_names_are_refused_on_every_operation(
    svc: DeploymentService, feature: str
) -> None:
    from releasegate.control.tokens import TokenService
    from releasegate.deploy.tokens import Scope

    TokenService(svc.uow).create("ops", Scope.OPERATE, actor="admin")
    calls = [
        lambda: svc.history(feature),
        lambda: svc.status(feature),
        lambda: svc.get(feature, "token_create"),
        lambda: svc.register(feature, "token_revoke", prompt="p@1", model="m", actor="t"),
        lambda: svc.approve(feature, "v1", actor="t"),
        lambda: svc.reject(feature, "v1", actor="t"),
        lambda: svc.canary(feature, "v1", actor="t", share=0.1),
        lambda: svc.promote(feature, "v1", actor="t"),
        lambda: svc.pause(feature, "v1", actor="t"),
        lambda: svc.resume(feature, "v1", actor="t"),
        lambda: svc.rollback(feature, actor="t", reason="r"),
    ]
    for call in calls:
        with pytest.raises(UsageError, match="reserved"):
            call()
    assert "_tokens" not in svc.features()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompt": "p@" + "1" * 101}, "prompt version is 101 characters long; the limit is 100"),
        ({"prompt": "p" * 201 + "@1"}, "prompt name is 201 characters long; the limit is 200"),
        ({"prompt": "team/p@1"}, "prompt name 'team/p' is not a valid name"),
        ({"prompt": "p@1 2"}, "prompt version '1 2' is not valid"),
        ({"model": "m" * 201}, "model is 201 characters long; the limit is 200"),
        ({"model": "m\x00"}, "model contains a control character"),
        ({"actor": "a" * 201}, "actor is 201 characters long; the limit is 200"),
        ({"actor": "   "}, "actor must not be blank"),
        ({"actor": "carol\r\n"}, "actor contains a control character"),
        ({"actor": "caf\udce9"}, "actor 'caf\\\\udce9' is not valid text"),
        ({"params": {"t": float("nan")}}, "no NaN or Infinity"),
        ({"params": {"t": float("inf")}}, "no NaN or Infinity"),
    ],
)
def test_register_refuses_values_the_store_cannot_hold(
    svc: DeploymentService, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"prompt": "p@1", "model": "m", "actor": "t"} | kwargs
    with pytest.raises(UsageError, match=message):
        svc.register("chat", "v1", **args)  # type: ignore[arg-type]
    assert svc.features() == []


def test_values_at_the_limits_register(svc: DeploymentService) -> None:
    dep = svc.register(
        "f" * 200,
        "v" * 100,
        prompt="p" * 200 + "@" + "1" * 100,
        model="m/" + "x" * 198,
        actor="a" * 200,
        params={"stop": ["\n"], "t": 0.5},
    )
    assert svc.get("f" * 200, "v" * 100).model == dep.model


@pytest.mark.parametrize("reason", ["a\x00b", "bell\x07", "esc\x1b[31m"])
def test_reasons_may_span_lines_but_hold_no_other_control_characters(
    svc: DeploymentService, reason: str
) -> None:
    svc.register("chat", "v1", prompt="p@1", model="m", actor="t")
    svc.approve("chat", "v1", actor="t", reason="line one\r\nline two\tend")
    with pytest.raises(UsageError, match="reason contains a control character"):
        svc.promote("chat", "v1", actor="t", reason=reason)
    assert svc.get("chat", "v1").status is Status.APPROVED


# -- a paused canary: the messages say it is paused and how to resume -------------------


def _paused_canary(svc: DeploymentService) -> None:
    live(svc, "v1")
    for v in ("v2", "v3"):
        svc.register("chat", v, prompt=f"chat@{v}", model="m-1", actor="t")
        svc.approve("chat", v, actor="t")
    svc.canary("chat", "v2", actor="t", share=0.1)
    svc.pause("chat", "v2", actor="t")


def test_changing_the_share_of_a_paused_canary_says_to_resume_it(svc: DeploymentService) -> None:
    _paused_canary(svc)
    with pytest.raises(DeploymentError) as info:
        svc.canary("chat", "v2", actor="t", share=0.5)
    message = str(info.value)
    assert "chat@v2 is a paused canary" in message
    assert "releasegate deploy resume chat v2" in message
    assert "promote it or roll it back" not in message
    svc.resume("chat", "v2", actor="t")
    assert svc.canary("chat", "v2", actor="t", share=0.5).share == 0.5


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda s: s.canary("chat", "v3", actor="t", share=0.1),
            "already has a paused canary (v2); resume it",
        ),
        (lambda s: s.promote("chat", "v3", actor="t"), "has a paused canary (v2)"),
        (
            lambda s: s.promote("chat", "v2", actor="t"),
            "`releasegate deploy resume chat v2` returns it to canary",
        ),
        (
            lambda s: s.rollback("chat", actor="t", reason="r", to="v1"),
            "has a paused canary (v2)",
        ),
    ],
)
def test_other_operations_name_the_paused_canary(
    svc: DeploymentService, call: object, expected: str
) -> None:
    _paused_canary(svc)
    with pytest.raises(DeploymentError, match=re.escape(expected)):
        call(svc)  # type: ignore[operator]


@pytest.mark.parametrize("bad", ["a\x00b", "caf\udce9"])
def test_lookups_of_names_no_record_can_have_are_usage_errors(
    svc: DeploymentService, bad: str
) -> None:
    live(svc, "v1")
    calls = [
        lambda: svc.status(bad),
        lambda: svc.history(bad),
        lambda: svc.get(bad, "v1"),
        lambda: svc.get("chat", bad),
        lambda: svc.approve("chat", bad, actor="t"),
        lambda: svc.pause("chat", bad, actor="t"),
        lambda: svc.rollback("chat", actor="t", reason="r", to=bad),
    ]
    for call in calls:
        with pytest.raises(UsageError, match="is not valid text"):
            call()


_NAME_CHARS = st.sampled_from("abcXYZ019._-/%@ ?#\t\u00e9\x00")


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(_NAME_CHARS, max_size=12), st.text(max_size=12)))
def test_every_accepted_feature_name_is_one_url_path_segment(name: str) -> None:
    from urllib.parse import quote

    from releasegate.deploy.names import MAX_FEATURE, check_feature

    try:
        check_feature(name)
    except UsageError as exc:
        assert str(exc)  # a refusal always says why
        accepted = False
    else:
        accepted = True
    expected = (
        0 < len(name) <= MAX_FEATURE
        and name[0].isascii()
        and name[0].isalnum()
        and all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    )
    assert accepted == expected
    if accepted:
        assert quote(name, safe="") == name and name not in (".", "..")
