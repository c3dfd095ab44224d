"""The gateway asks upstreams for the usage of every stream: budgets, metrics and
records use it, while a caller that did not ask for it sees the stream it would have
seen without the gateway; upstreams that ignore or reject the field."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from releasegate.gateway import FallbackChain
from releasegate.gateway._budget_gate import TokenBudgets
from releasegate.gateway.budget import BudgetPolicy, LocalBudgetStore
from tests.integration.gateway.conftest import Rig
from tests.integration.gateway.test_streaming import events

USAGE = {"prompt_tokens": 111, "completion_tokens": 222}  # far from any estimate
ANSWER = "a streamed answer long enough for three chunks"


def install(rig: Rig) -> LocalBudgetStore:
    store = LocalBudgetStore(60.0)
    rig.gateway.deps.budgets = TokenBudgets(BudgetPolicy(tokens_per_window=100_000), store)
    return store


def chunks(text: str) -> list[dict[str, Any]]:
    found = events(text)
    assert found[-1] == (None, "[DONE]")
    return [json.loads(d) for _, d in found[:-1]]


def comparable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k not in ("id", "created")} for c in items]


async def direct(rig: Rig, request: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream the upstream itself sends for ``request`` (what the caller would see
    without the gateway)."""
    async with httpx.AsyncClient() as client:
        resp = await client.post(rig.primary.base_url + "/chat/completions", json=request)
    return chunks(resp.text)


def usage_chunks(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in items if c.get("choices") == [] and isinstance(c.get("usage"), dict)]


@pytest.mark.parametrize("mode", ["honour", "openai"])
@pytest.mark.parametrize(
    "options",
    [
        None,
        {"include_usage": False},
        {"include_usage": False, "x_other": 1},
        {"include_usage": True},
    ],
)
async def test_the_real_usage_is_used_and_kept_from_callers_that_did_not_ask(
    make_rig: Any, mode: str, options: dict[str, Any] | None
) -> None:
    rig: Rig = await make_rig(primary_usage=mode)
    store = install(rig)
    asked = bool(options and options.get("include_usage"))
    extra = {"stream_options": options} if options is not None else {}
    rig.primary.reply_next(ANSWER, usage=USAGE)
    resp = await rig.chat("hello", stream=True, max_tokens=500, **extra)
    assert resp.status_code == 200
    got = chunks(resp.text)
    # upstream: asked for the usage whatever the caller said, its other options kept
    sent = rig.primary.requests[-1].body
    assert sent["stream_options"] == {**(options or {}), "include_usage": True}
    # budgets, record and metrics: the upstream's numbers
    assert store.used("chat") == 333
    (record,) = rig.recorder.records
    assert (record["prompt_tokens"], record["completion_tokens"]) == (111, 222)
    assert record["usage_estimated"] is None
    samples = rig.gateway.deps.metrics.registry.get_sample_value(
        "gen_ai_client_token_usage_sum",
        {
            "gen_ai_operation_name": "chat",
            "gen_ai_provider_name": "openai",
            "gen_ai_request_model": "m-1",
            "gen_ai_response_model": "m-1",
            "gen_ai_token_type": "output",
            "feature": "chat",
            "version": "v1",
        },
    )
    assert samples == 222
    # the caller: exactly the stream the upstream sends for the caller's own request
    rig.primary.reply_next(ANSWER, usage=USAGE)
    own = {**sent, "stream_options": options} if options is not None else dict(sent)
    if options is None:
        own.pop("stream_options")
    expected = await direct(rig, own)
    assert comparable(got) == comparable(expected)
    assert len(usage_chunks(got)) == (1 if asked else 0)
    if not asked:
        assert not any("usage" in c for c in got)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in got if c["choices"])
    assert text == ANSWER


@pytest.mark.parametrize("asked", [True, False])
async def test_an_upstream_that_ignores_the_field_is_estimated_and_recorded_so(
    make_rig: Any, asked: bool
) -> None:
    rig: Rig = await make_rig(primary_usage="ignore")
    store = install(rig)
    extra = {"stream_options": {"include_usage": True}} if asked else {}
    rig.primary.reply_next(ANSWER, usage=USAGE)
    resp = await rig.chat("hello", stream=True, max_tokens=500, **extra)
    got = chunks(resp.text)
    assert usage_chunks(got) == []
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in got) == ANSWER
    (record,) = rig.recorder.records
    assert record["usage_estimated"] is True and record["prompt_tokens"] is None
    estimate = store.used("chat")
    assert 0 < estimate != 333  # the prompt and answer at four characters a token


async def test_a_provider_that_rejects_the_field_is_configured_off(make_rig: Any) -> None:
    rig: Rig = await make_rig(primary_usage="reject", primary_stream_usage=False)
    store = install(rig)
    rig.primary.reply_next(ANSWER, usage=USAGE)
    resp = await rig.chat("hello", stream=True, max_tokens=500)
    assert resp.status_code == 200 and "stream_options" not in rig.primary.requests[-1].body
    assert usage_chunks(chunks(resp.text)) == []
    (record,) = rig.recorder.records
    assert record["usage_estimated"] is True and 0 < store.used("chat") != 333
    # a caller that asks itself still sends the field: the upstream's rejection is its
    resp = await rig.chat("hello", stream=True, stream_options={"include_usage": True})
    assert resp.status_code == 400


async def test_the_decision_is_per_upstream_of_the_fallback_chain(make_rig: Any) -> None:
    # The primary takes no stream_options and fails; the backup is asked for the usage.
    rig: Rig = await make_rig(
        primary_usage="reject",
        primary_stream_usage=False,
        fallbacks={"chat": FallbackChain(models=("m-backup",))},
    )
    store = install(rig)
    rig.primary.fail_next(500)
    rig.backup.reply_next(ANSWER, usage=USAGE)
    resp = await rig.chat("hello", stream=True, max_tokens=500)
    assert resp.headers["x-releasegate-served-model"] == "m-backup"
    assert "stream_options" not in rig.primary.requests[-1].body
    assert rig.backup.requests[-1].body["stream_options"] == {"include_usage": True}
    assert usage_chunks(chunks(resp.text)) == [] and store.used("chat") == 333
    (record,) = rig.recorder.records
    assert record["completion_tokens"] == 222 and record["usage_estimated"] is None
