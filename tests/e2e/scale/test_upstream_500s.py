"""An upstream answering 500s, behind a gateway process on PostgreSQL and Redis, seen
through the official ``openai`` SDK."""

from __future__ import annotations

import openai

from tests.e2e.scale._stack import GatewayProcess, Scale, gateway_process, wait_for

BREAKER = 'upstream="main"'


ASKED: list[str] = []


def _ask(sdk: openai.OpenAI, unit: str) -> dict[str, str]:
    ASKED.append(unit)
    raw = sdk.chat.completions.with_raw_response.create(
        model="chat",
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"X-Releasegate-Unit": unit},
    )
    raw.parse()  # a well-formed chat completion
    return dict(raw.headers)


def _breaker(g: GatewayProcess) -> float:
    return g.metric("releasegate_gateway_breaker_state", BREAKER)


def test_500s_fall_back_open_the_breaker_and_recover(scale: Scale) -> None:
    """Every request still gets an answer: the fallback model while the pinned one fails,
    the fixed answer when both fail. After ``min_volume`` failures the breaker opens and
    calls skip the failing upstream; once it is healthy a half-open probe closes the
    breaker and the pinned model serves again. Records say which model answered."""
    config = scale.config(
        "c",
        gateway={
            "redis_url": scale.redis.url,
            "models": {"m-2": "main", "m-b": "backup"},
            "fallbacks": {"chat": {"models": ["m-b"], "answer": "fixed answer"}},
            "breaker": {"min_volume": 4, "failure_rate": 0.5, "open_s": 1.0},
        },
    )
    ASKED.clear()
    with (
        gateway_process(scale, config) as g,
        openai.OpenAI(base_url=g.url + "/v1", api_key="x", max_retries=0) as sdk,
    ):
        assert _ask(sdk, "warm")["x-releasegate-fallback-depth"] == "0"
        scale.primary.fail_next(500, times=1000)
        for i in range(4):
            headers = _ask(sdk, f"u{i}")
            assert headers["x-releasegate-fallback-depth"] == "1"
            assert headers["x-releasegate-served-model"] == "m-b"
            assert headers["x-releasegate-version"] in ("v1", "v2")
        assert _breaker(g) == 2.0  # open
        reached = scale.primary.count
        assert _ask(sdk, "u-open")["x-releasegate-served-model"] == "m-b"
        assert scale.primary.count == reached  # skipped: the breaker is open
        scale.backup.fail_next(500)
        headers = _ask(sdk, "u-both")
        assert headers["x-releasegate-fallback-depth"] == "2"
        assert headers["x-releasegate-served-model"] == "releasegate-fallback"

        scale.primary.reset()  # healthy again
        wait_for("a half-open probe to close the breaker",
                 lambda: _ask(sdk, "u-probe")["x-releasegate-fallback-depth"] == "0")  # fmt: skip
        assert _breaker(g) == 0.0
        wait_for("the records", lambda: len(scale.sql("SELECT id FROM interactions")) >= len(ASKED))
    rows = scale.sql("SELECT unit_key, model, fallback_depth FROM interactions")
    by_unit = {unit: (model, depth) for unit, model, depth in rows}
    assert by_unit["warm"][1] == 0
    assert all(by_unit[f"u{i}"] == ("m-b", 1) for i in range(4))
    assert by_unit["u-open"] == ("m-b", 1)
    assert by_unit["u-both"] == ("releasegate-fallback", 2)
    assert sorted(unit for unit, _, _ in rows) == sorted(ASKED)  # one record per request
