"""Fallback chains, circuit breakers, timeouts and Retry-After through the gateway."""

from __future__ import annotations

from typing import Any

from releasegate.gateway import BreakerPolicy, BreakerState, FallbackChain


async def test_fallback_chain_then_fixed_answer(make_rig: Any) -> None:
    chain = FallbackChain(models=("m-backup",), answer="Sorry, try again later.")
    rig = await make_rig(fallbacks={"chat@v1": chain})
    rig.primary.fail_next(500)
    resp = await rig.chat()
    assert resp.status_code == 200
    assert resp.headers["x-releasegate-served-model"] == "m-backup"
    assert resp.headers["x-releasegate-fallback-depth"] == "1"
    assert resp.headers["x-releasegate-version"] == "v1"
    assert rig.backup.requests[-1].body["model"] == "m-backup"
    assert rig.backup.requests[-1].body["messages"][0]["content"] == "You are v1."

    rig.primary.fail_next(503)
    rig.backup.fail_next(502)
    resp = await rig.chat()
    assert resp.status_code == 200
    assert resp.json()["choices"][0]["message"]["content"] == "Sorry, try again later."
    assert resp.headers["x-releasegate-served-model"] == "releasegate-fallback"
    assert resp.headers["x-releasegate-fallback-depth"] == "2"
    records = rig.recorder.records
    assert [r["fallback_depth"] for r in records] == [1, 2]
    assert records[1]["error_stage"] is None and "502" in records[1]["error"]


async def test_exhausted_chain_errors_with_fitting_status(make_rig: Any) -> None:
    rig = await make_rig(fallbacks={"chat": FallbackChain(models=("m-backup",))})
    rig.primary.fail_next(500)
    rig.backup.fail_next(429, retry_after=7)
    resp = await rig.chat()
    assert resp.status_code == 429 and resp.headers["retry-after"] == "7"
    body = resp.json()["error"]
    assert body["type"] == "rate_limit_error" and body["code"] == "rate_limit_exceeded"
    assert "primary" in body["message"] and "backup" in body["message"]
    assert resp.headers["x-releasegate-version"] == "v1"
    # Retry-After is honoured: the backup gets nothing for 7 s, so the next failure of
    # the primary leaves no model to try.
    rig.primary.fail_next(500)
    resp = await rig.chat()
    assert resp.status_code == 502 and rig.backup.count == 1
    rig.clock.now += 7.5
    assert (await rig.chat()).status_code == 200


async def test_timeout_is_504(make_rig: Any) -> None:
    rig = await make_rig(read_timeout_s=0.3)
    rig.primary.hang_next(2.0)
    resp = await rig.chat()
    assert resp.status_code == 504 and resp.json()["error"]["code"] == "upstream_timeout"
    assert rig.recorder.records[0]["error_stage"] == "upstream"


async def test_breaker_opens_fails_fast_then_probes_and_closes(make_rig: Any) -> None:
    policy = BreakerPolicy(window_s=60, min_volume=4, failure_rate=0.5, open_s=10)
    rig = await make_rig(policy=policy)
    breaker = rig.gateway.deps.breakers["primary"]
    rig.primary.fail_next(500, times=4)
    for _ in range(4):
        assert (await rig.chat()).status_code == 502
    assert breaker.state() is BreakerState.OPEN
    calls = rig.primary.count
    resp = await rig.chat()  # open: not sent upstream at all
    assert resp.status_code == 503 and rig.primary.count == calls
    assert resp.headers["retry-after"] == "10"
    rig.clock.now += 10  # half-open: exactly one probe goes out
    assert breaker.state() is BreakerState.HALF_OPEN
    rig.primary.fail_next(500)
    assert (await rig.chat()).status_code == 502  # the probe failed: open again
    assert breaker.state() is BreakerState.OPEN and rig.primary.count == calls + 1
    rig.clock.now += 10
    assert (await rig.chat()).status_code == 200  # the probe succeeded: closed
    assert breaker.state() is BreakerState.CLOSED
    text = (await rig.client.get("/metrics")).text
    assert 'releasegate_gateway_breaker_state{upstream="primary"} 0.0' in text
