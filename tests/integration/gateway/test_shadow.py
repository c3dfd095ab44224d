"""Shadow calls in process: the candidate answers after the user's response, bounded,
cancelled at shutdown, with breakers apart from the served path's."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from releasegate.gateway import BreakerPolicy, ShadowPolicy
from tests.integration.gateway.conftest import Rig


async def until(check: Callable[[], bool]) -> None:
    for _ in range(2000):
        if check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached")


def shadows(rig: Rig) -> list[Mapping[str, Any]]:
    return [r for r in rig.recorder.records if r["shadow"]]


def metric(rig: Rig, name: str, **labels: str) -> float:
    value = rig.gateway.deps.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


async def test_the_candidate_answers_after_the_user_and_is_recorded(
    make_rig: Callable[..., Any],
) -> None:
    rig: Rig = await make_rig(shadow_candidate=True)
    rig.primary.hold_model("m-2")
    resp = await rig.chat("hello", headers={"X-Releasegate-Unit": "u1", "X-Request-Id": "r-1"})
    # The user's answer is complete while the candidate's call is still held upstream.
    assert resp.status_code == 200 and resp.headers["x-releasegate-version"] == "v1"
    assert resp.json()["choices"][0]["message"]["content"] == "Q: hello"
    await until(lambda: rig.primary.waiting("m-2") == 1)
    assert shadows(rig) == [] and rig.gateway.shadows.in_flight == 1
    rig.primary.release_model("m-2")
    await until(lambda: len(shadows(rig)) == 1)
    record = shadows(rig)[0]
    assert record["request_id"] == "r-1:shadow" and record["shadow_of"] == "r-1"
    assert record["assigned_version"] == "v2" and record["arm"] == "canary"
    assert record["served_model"] == "m-2" and record["error"] is None
    assert record["response"]["content"] == "hello!"  # the candidate's own prompt
    assert record["messages"][0] == {"role": "system", "content": "You are v2."}
    assert record["stream"] is False and record["unit_key"] == "u1"
    user = [r for r in rig.recorder.records if not r["shadow"]]
    assert len(user) == 1 and user[0]["shadow_of"] is None
    assert (
        metric(
            rig,
            "releasegate_gateway_shadow_calls_total",
            feature="chat",
            version="v2",
            outcome="ok",
        )
        == 1
    )


async def test_a_streamed_answer_is_shadowed_once_the_stream_ended(
    make_rig: Callable[..., Any],
) -> None:
    rig: Rig = await make_rig(shadow_candidate=True)
    rig.primary.hold_model("m-2")
    resp = await rig.chat("hi", stream=True)
    assert resp.status_code == 200 and resp.text.endswith("data: [DONE]\n\n")
    await until(lambda: rig.primary.waiting("m-2") == 1)
    rig.primary.release_model("m-2")
    await until(lambda: len(shadows(rig)) == 1)
    assert shadows(rig)[0]["response"]["content"] == "hi!"


async def test_calls_over_the_bound_are_dropped_and_counted(
    make_rig: Callable[..., Any],
) -> None:
    rig: Rig = await make_rig(shadow_candidate=True, shadow=ShadowPolicy(max_concurrent=2))
    rig.primary.hold_model("m-2")
    for i in range(4):
        assert (await rig.chat(f"q{i}", headers={"X-Releasegate-Unit": f"u{i}"})).status_code == 200
    await until(lambda: rig.primary.waiting("m-2") == 2)
    assert (
        metric(rig, "releasegate_gateway_shadow_dropped_total", feature="chat", reason="capacity")
        == 2
    )
    rig.primary.release_model("m-2")
    await until(lambda: len(shadows(rig)) == 2)
    assert len(rig.recorder.records) == 6  # 4 answered + 2 shadow calls made


async def test_shutdown_cancels_running_shadow_calls(make_rig: Callable[..., Any]) -> None:
    rig: Rig = await make_rig(shadow_candidate=True)
    rig.primary.hold_model("m-2")
    assert (await rig.chat("x")).status_code == 200
    await until(lambda: rig.primary.waiting("m-2") == 1)
    await rig.gateway.shadows.close()
    assert rig.gateway.shadows.in_flight == 0 and shadows(rig) == []
    assert (
        metric(rig, "releasegate_gateway_shadow_dropped_total", feature="chat", reason="shutdown")
        == 1
    )
    rig.primary.release_model("m-2")


async def test_sampled_units_only(make_rig: Callable[..., Any]) -> None:
    from releasegate.gateway.shadow import in_shadow_sample

    rig: Rig = await make_rig(shadow_candidate=True, shadow=ShadowPolicy(sample=0.5))
    units = [f"unit-{i}" for i in range(40)]
    for unit in units:
        await rig.chat("x", headers={"X-Releasegate-Unit": unit})
    expected = {u for u in units if in_shadow_sample("chat", "v2", u, 0.5)}
    await until(lambda: len(shadows(rig)) == len(expected))
    await until(lambda: rig.gateway.shadows.in_flight == 0)
    assert {r["unit_key"] for r in shadows(rig)} == expected


async def test_shadow_failures_feed_a_breaker_of_their_own(
    make_rig: Callable[..., Any],
) -> None:
    # m-1 (served) and m-2 (the candidate) share the upstream "primary".
    policy = BreakerPolicy(window_s=60, min_volume=2, failure_rate=0.5, open_s=60)
    rig: Rig = await make_rig(shadow_candidate=True, policy=policy)
    breakers = rig.gateway.deps.breakers
    for i in range(2):  # the candidate's calls fail; the user's never do
        rig.primary.hold_model("m-2")
        resp = await rig.chat(f"q{i}", headers={"X-Releasegate-Unit": f"u{i}"})
        assert resp.status_code == 200
        await until(lambda: rig.primary.waiting("m-2") == 1)
        rig.primary.fail_next(500)
        rig.primary.release_model("m-2")
        await until(lambda n=i + 1: len(shadows(rig)) == n)
    before = rig.primary.count
    assert (await rig.chat("q2", headers={"X-Releasegate-Unit": "u2"})).status_code == 200
    await until(lambda: len(shadows(rig)) == 3)
    assert rig.primary.count == before + 1  # the user's call only: the shadow one was held back
    assert breakers["primary:shadow"].state().value == "open"
    assert breakers["primary"].state().value == "closed"
    failed = shadows(rig)
    assert all(r["error"] and r["error_stage"] == "upstream" for r in failed)
    assert "not taking calls" in failed[-1]["error"]  # the third was not sent
    assert (await rig.chat("after")).status_code == 200  # the served path is untouched
