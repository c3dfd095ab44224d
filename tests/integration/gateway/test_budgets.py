"""Token budgets in the gateway (in process, real mock upstream): what a reservation
settles to after plain and streamed answers, releases on failure, and how a refusal
looks to the caller, in its record and in the metrics."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from releasegate.gateway._budget_gate import TokenBudgets
from releasegate.gateway.budget import BudgetPolicy, LocalBudgetStore
from tests.integration.gateway.test_streaming import events

PROMPT_TEXT = "You are v1." + "Q: hello"  # the version's system prompt + rendered template


def install(rig: Any, **kw: Any) -> LocalBudgetStore:
    store = LocalBudgetStore(60.0)
    policy = BudgetPolicy(**{"tokens_per_window": 10_000, **kw})
    rig.gateway.deps.budgets = TokenBudgets(policy, store)
    return store


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


async def test_plain_answer_settles_to_its_usage(make_rig: Any) -> None:
    rig = await make_rig()
    store = install(rig)
    resp = await rig.chat("hello", max_tokens=500)
    assert resp.status_code == 200
    assert store.used("chat") == resp.json()["usage"]["total_tokens"]


@pytest.mark.parametrize("include_usage", [True, False])
@pytest.mark.parametrize("mode", ["honour", "ignore"])
async def test_stream_settles_to_usage_or_an_estimate(
    make_rig: Any, include_usage: bool, mode: str
) -> None:
    rig = await make_rig(primary_usage=mode)
    store = install(rig)
    rig.primary.reply_next("hello", usage={"prompt_tokens": 40, "completion_tokens": 60})
    options = {"stream_options": {"include_usage": True}} if include_usage else {}
    resp = await rig.chat("hello", stream=True, max_tokens=500, **options)
    assert resp.status_code == 200
    chunks = [json.loads(d) for _, d in events(resp.text) if d != "[DONE]"]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    if mode == "honour":  # asked for by the gateway whatever the caller said
        assert store.used("chat") == 100
    else:  # no usage in the stream: prompt and answer estimated
        assert store.used("chat") == tokens(PROMPT_TEXT) + tokens(text)


async def test_a_broken_stream_keeps_what_was_relayed(make_rig: Any) -> None:
    rig = await make_rig()
    store = install(rig)
    rig.primary.cut_stream_after(2)
    resp = await rig.chat("hello", stream=True, max_tokens=500)
    assert "event: error" in resp.text
    assert store.used("chat") == tokens(PROMPT_TEXT) + tokens("piece0 piece1 ")


@pytest.mark.parametrize(("status", "answered"), [(500, 502), (400, 400)])
async def test_failure_releases_the_reservation(make_rig: Any, status: int, answered: int) -> None:
    rig = await make_rig()
    store = install(rig)
    rig.primary.fail_next(status)
    resp = await rig.chat("hello", max_tokens=500)
    assert resp.status_code == answered
    assert store.used("chat") == 0


async def test_refusal_is_openai_shaped_with_provenance_record_and_metric(make_rig: Any) -> None:
    rig = await make_rig()
    store = install(rig, tokens_per_window=600)
    await store.reserve("acme", 200, 600)  # another request of acme's, still in flight
    headers = {"X-Releasegate-Unit": "u1", "X-Releasegate-Tenant": "acme"}
    resp = await rig.chat("hello", max_tokens=500, headers=headers)  # needs ~505
    assert resp.status_code == 429 and rig.primary.count == 0  # never dispatched
    assert (await rig.chat("hello", max_tokens=300, headers=headers)).status_code == 200
    error = resp.json()["error"]
    assert error["code"] == "token_budget_exceeded" and "'acme'" in error["message"]
    assert int(resp.headers["retry-after"]) >= 1
    assert resp.headers["x-releasegate-version"] == "v1" and resp.headers["x-request-id"]
    (record,) = [r for r in rig.recorder.records if r["status"] == 429]
    assert record["error_stage"] == "budget" and record["assigned_version"] == "v1"
    assert record["arm"] is None  # not counted against the version by the canary
    assert "token budget" in record["error"]
    text = (await rig.client.get("/metrics")).text
    assert (
        'releasegate_gateway_budget_rejections_total{feature="chat",reason="tenant_budget",'
        'version="v1"} 1.0'
    ) in text


async def test_caps_without_a_budget_need_no_store(make_rig: Any) -> None:
    rig = await make_rig()
    budgets = TokenBudgets(BudgetPolicy(max_tokens=50, on_exceed="truncate"))
    assert budgets.store is None
    rig.gateway.deps.budgets = budgets
    resp = await rig.chat("hello", max_tokens=5000)
    assert resp.status_code == 200
    assert rig.primary.requests[-1].body["max_tokens"] == 50
