"""Token budgets without a server: the policy, prompt estimates, the in-process store
under threads, what the gate decides per request, and fail closed / open when the
Redis store's port is closed."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import pytest

from releasegate.errors import BudgetStoreUnavailable
from releasegate.gateway._budget_gate import Refusal, Ticket, TokenBudgets, used_tokens
from releasegate.gateway._call import Call
from releasegate.gateway.budget import (
    BudgetPolicy,
    LocalBudgetStore,
    Reservation,
    prompt_estimate,
)
from releasegate.gateway.budget_redis import RedisBudgetStore
from releasegate.gateway.fallback import DETERMINISTIC_MODEL
from releasegate.gateway.metrics import GatewayMetrics
from tests.support.budget_stores import StepClock


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns


def call(feature: str = "chat", version: str = "v1") -> Call:
    c = Call(t0=0.0, wall=0.0, request_id="r1", clock=lambda: 0.0)
    c.feature, c.assigned_version = feature, version
    return c


def body(content: str = "x" * 40, **kw: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": content}], **kw}


def metric(m: GatewayMetrics, name: str, **labels: str) -> float:
    value = m.registry.get_sample_value(name, labels)
    return value or 0.0


# -- policy and estimates ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"window_s": 0.5},
        {"max_tokens": 0},
        {"max_prompt_tokens": 0},
        {"tokens_per_window": 0},
        {"default_max_tokens": 0},
        {"tenants": {"a": 0}},
    ],
)
def test_policy_rejects_nonsense(kw: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        BudgetPolicy(**kw)


def test_named_tenants_override_the_default_budget() -> None:
    p = BudgetPolicy(tokens_per_window=100, tenants={"big": 1000})
    assert (p.limit("big"), p.limit("anyone"), p.budgeted) == (1000, 100, True)
    assert BudgetPolicy(tenants={"only": 5}).limit("other") is None
    assert not BudgetPolicy(max_tokens=10).budgeted


@pytest.mark.parametrize(
    ("request_body", "tokens"),
    [
        ({"messages": [{"role": "user", "content": "abcd"}]}, 1),
        ({"messages": [{"role": "user", "content": "abcde"}]}, 2),
        (
            {
                "messages": [
                    {"role": "system", "content": "a" * 8},
                    {"role": "user", "content": "b" * 8},
                ]
            },
            4,
        ),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "a" * 12}]}]}, 3),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}, 0),
        ({"messages": "not a list"}, 0),
        ({"messages": [], "tools": [{"type": "function"}]}, 6),  # '[{"type": "function"}]'
    ],
)
def test_prompt_estimate_is_four_characters_a_token(
    request_body: dict[str, Any], tokens: int
) -> None:
    assert prompt_estimate(request_body) == tokens


def test_local_store_is_thread_safe() -> None:
    store = LocalBudgetStore(60.0)
    admitted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            outcome = asyncio.run(store.reserve("t", 1, 100))
            with lock:
                admitted.append(isinstance(outcome, Reservation))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(admitted) == 100 and store.used("t") == 100


# -- the gate ------------------------------------------------------------------------------


async def admit(
    policy: BudgetPolicy,
    request_body: dict[str, Any],
    headers: dict[bytes, bytes] | None = None,
    store: Any = None,
) -> tuple[Ticket | Refusal, GatewayMetrics, TokenBudgets]:
    budgets = TokenBudgets(policy, store)
    metrics = GatewayMetrics()
    outcome = await budgets.admit(call(), headers or {}, request_body, metrics)
    return outcome, metrics, budgets


async def test_prompt_over_its_cap_is_rejected_naming_the_limit() -> None:
    outcome, metrics, _ = await admit(BudgetPolicy(max_prompt_tokens=5), body("x" * 24))
    assert isinstance(outcome, Refusal)
    assert (outcome.status, outcome.code, outcome.param) == (400, "prompt_over_limit", "messages")
    assert "about 6 tokens" in outcome.message and "limit of 5" in outcome.message
    labels = {"feature": "chat", "version": "v1", "reason": "prompt_tokens"}
    assert metric(metrics, "releasegate_gateway_budget_rejections_total", **labels) == 1


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
async def test_max_tokens_over_the_cap_is_rejected(field: str) -> None:
    outcome, _, _ = await admit(BudgetPolicy(max_tokens=100), body(**{field: 101}))
    assert isinstance(outcome, Refusal)
    assert (outcome.status, outcome.code, outcome.param) == (400, "max_tokens_over_limit", field)
    assert f"{field} is 101" in outcome.message and "limit of 100" in outcome.message


@pytest.mark.parametrize(
    ("asked", "sent"),
    [
        ({"max_tokens": 500}, {"max_tokens": 100}),
        ({"max_completion_tokens": 500}, {"max_completion_tokens": 100}),
        ({"max_tokens": 50}, {"max_tokens": 50}),  # under the cap: unchanged
        ({}, {}),  # names no limit: not added, the reservation uses the default
    ],
)
async def test_truncate_lowers_max_tokens_to_the_cap(
    asked: dict[str, int], sent: dict[str, int]
) -> None:
    policy = BudgetPolicy(max_tokens=100, on_exceed="truncate")
    outcome, metrics, _ = await admit(policy, body(**asked))
    assert isinstance(outcome, Ticket)
    assert {k: outcome.body[k] for k in sent} == sent
    assert not {"max_tokens", "max_completion_tokens"} - set(sent) & set(outcome.body)
    clamped = metric(
        metrics, "releasegate_gateway_budget_clamped_total", feature="chat", version="v1"
    )
    assert clamped == (1 if asked != sent else 0)


@pytest.mark.parametrize(
    ("asked", "reserved"),
    [
        ({"max_tokens": 30}, 10 + 30),
        ({}, 10 + 64),
        ({"max_tokens": "lots"}, 10 + 64),
        ({"max_completion_tokens": 30, "n": 3}, 10 + 90),  # each choice may use it
        ({"n": 2}, 10 + 128),
    ],
)
async def test_reservation_is_prompt_plus_max_tokens_or_the_default(
    asked: dict[str, Any], reserved: int
) -> None:
    policy = BudgetPolicy(tokens_per_window=1000, default_max_tokens=64)
    outcome, _, _ = await admit(policy, body("x" * 40, **asked))
    assert isinstance(outcome, Ticket) and outcome.reservation is not None
    assert (outcome.prompt_tokens, outcome.reservation.tokens) == (10, reserved)


async def test_tenant_from_header_else_feature() -> None:
    budgets = TokenBudgets(BudgetPolicy(tokens_per_window=10))
    assert budgets.tenant({b"x-releasegate-tenant": b"acme"}, "chat") == "acme"
    assert budgets.tenant({}, "chat") == "chat"
    custom = TokenBudgets(BudgetPolicy(tokens_per_window=10, tenant_header="X-Team"))
    assert custom.tenant({b"x-team": b"red", b"x-releasegate-tenant": b"acme"}, "f") == "red"
    none = TokenBudgets(BudgetPolicy(tokens_per_window=10, tenant_header=None))
    assert none.tenant({b"x-releasegate-tenant": b"acme"}, "chat") == "chat"


async def test_full_window_is_429_with_retry_after() -> None:
    clock = StepClock(1000.0)
    store = LocalBudgetStore(60.0, clock=clock)
    policy = BudgetPolicy(tokens_per_window=30, default_max_tokens=10)  # 20 a request
    first, _, _ = await admit(policy, body(), {b"x-releasegate-tenant": b"a"}, store)
    assert isinstance(first, Ticket)
    clock.now = 1012.5
    outcome, metrics, _ = await admit(policy, body(), {b"x-releasegate-tenant": b"a"}, store)
    assert isinstance(outcome, Refusal)
    assert (outcome.status, outcome.code, outcome.retry_after_s) == (
        429,
        "token_budget_exceeded",
        48,  # 47.5 s until bucket 1000 leaves, rounded up
    )
    assert "'a'" in outcome.message and "20 of 30" in outcome.message
    labels = {"feature": "chat", "version": "v1", "reason": "tenant_budget"}
    assert metric(metrics, "releasegate_gateway_budget_rejections_total", **labels) == 1


async def test_request_larger_than_the_whole_budget_is_400() -> None:
    outcome, _, _ = await admit(BudgetPolicy(tokens_per_window=50), body(max_tokens=100))
    assert isinstance(outcome, Refusal)
    assert (outcome.status, outcome.code) == (400, "request_over_budget")


@pytest.mark.parametrize(
    ("setup", "used"),
    [
        ({"prompt_tokens": 7, "completion_tokens": 5, "served_model": "m", "status": 200}, 12),
        ({"served_model": None, "status": 502}, 0),  # no model answered
        ({"served_model": "m", "status": 400}, 0),  # the upstream refused the request
        ({"served_model": DETERMINISTIC_MODEL, "status": 200}, 0),  # the fixed answer
        # A stream without include_usage, or cut short: prompt + answer estimated.
        ({"served_model": "m", "status": 200, "response": {"content": "y" * 20}}, 10 + 5),
        ({"served_model": "m", "status": 200, "response": None}, 10),
    ],
)
def test_used_tokens(setup: dict[str, Any], used: int) -> None:
    c = call()
    for name, value in setup.items():
        setattr(c, name, value)
    assert used_tokens(c, 10) == used


async def test_settle_releases_a_failed_request() -> None:
    store = LocalBudgetStore(60.0)
    budgets = TokenBudgets(BudgetPolicy(tokens_per_window=100, default_max_tokens=20), store)
    metrics = GatewayMetrics()
    c = call()
    ticket = await budgets.admit(c, {}, body(), metrics)
    assert isinstance(ticket, Ticket) and store.used("chat") == 30
    c.status = 502
    await budgets.settle(ticket, c, metrics)
    assert store.used("chat") == 0


# -- Redis unreachable ------------------------------------------------------------------------


async def test_redis_on_a_closed_port_raises_store_unavailable() -> None:
    store = RedisBudgetStore(f"redis://:secret@127.0.0.1:{closed_port()}/0", 60.0)
    try:
        with pytest.raises(BudgetStoreUnavailable) as info:
            await store.reserve("t", 1, 10)
        assert "did not answer" in str(info.value) and "secret" not in str(info.value)
        with pytest.raises(BudgetStoreUnavailable):
            await store.settle(Reservation("t", 5, 1), 1)
    finally:
        await store.close()


@pytest.mark.parametrize("fail_open", [False, True])
async def test_fail_closed_or_open(fail_open: bool) -> None:
    store = RedisBudgetStore(f"redis://127.0.0.1:{closed_port()}/0", 60.0)
    policy = BudgetPolicy(tokens_per_window=10_000, fail_open=fail_open)
    try:
        outcome, metrics, _ = await admit(policy, body(), store=store)
    finally:
        await store.close()
    errors = metric(metrics, "releasegate_gateway_budget_store_errors_total", operation="reserve")
    assert errors == 1
    if fail_open:
        assert isinstance(outcome, Ticket) and outcome.reservation is None
    else:
        assert isinstance(outcome, Refusal)
        assert (outcome.status, outcome.code) == (503, "budget_store_unavailable")
        assert "budget store is unreachable" in outcome.message


# -- from the config ----------------------------------------------------------------------


def test_budgets_from_config() -> None:
    from releasegate.config import ProjectConfig
    from releasegate.gateway._build import budgets_from_config

    assert budgets_from_config(ProjectConfig()) is None  # nothing set: no per-request cost
    caps = budgets_from_config(
        ProjectConfig.model_validate({"gateway": {"budgets": {"max_tokens": 9}}})
    )
    assert caps is not None and caps.store is None and caps.policy.max_tokens == 9
    local = budgets_from_config(
        ProjectConfig.model_validate({"gateway": {"budgets": {"tenants": {"acme": 5}}}})
    )
    assert local is not None and isinstance(local.store, LocalBudgetStore)
    shared = budgets_from_config(
        ProjectConfig.model_validate(
            {
                "gateway": {
                    "redis_url": "redis://127.0.0.1:1/0",
                    "budgets": {"tokens_per_window": 5, "key_prefix": "p:", "window_s": 120},
                }
            }
        )
    )
    assert shared is not None and isinstance(shared.store, RedisBudgetStore)
    assert shared.store.prefix == "p:2000:"  # 120 s in 60 buckets of 2000 ms


@pytest.mark.parametrize(
    "budgets",
    [{"tenants": {"a": 0}}, {"window_s": 0.5}, {"on_exceed": "drop"}, {"unknown": 1}],
)
def test_config_rejects_bad_budgets(budgets: dict[str, Any]) -> None:
    from pydantic import ValidationError

    from releasegate.config import ProjectConfig

    with pytest.raises(ValidationError):
        ProjectConfig.model_validate({"gateway": {"budgets": budgets}})
