from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from releasegate.config import PriceEntry, ProviderConfig
from releasegate.errors import ConfigError, ProviderError
from releasegate.providers import ChatRequest, PriceTable, build_provider
from releasegate.providers.scripted import ScriptedOptions, ScriptedProvider, estimate_tokens


def make(pricing: PriceTable | None = None, **options: Any) -> ScriptedProvider:
    cfg = ProviderConfig.model_validate({"type": "scripted", **options})
    provider = build_provider("fake", cfg, pricing=pricing or PriceTable(), root=Path("."))
    assert isinstance(provider, ScriptedProvider)
    return provider


def req(text: str, case_id: str | None = None, repeat: int = 0) -> ChatRequest:
    return ChatRequest(
        messages=({"role": "system", "content": "sys"}, {"role": "user", "content": text}),
        model="scripted",
        case_id=case_id,
        repeat=repeat,
    )


async def test_echo_by_default_with_deterministic_usage() -> None:
    provider = make()
    response = await provider.complete(req("hello world"))
    assert response.text == "hello world"
    assert response.usage.prompt_tokens == estimate_tokens("syshello world")
    assert response.usage.completion_tokens == estimate_tokens("hello world") == 3
    assert response.cost_usd is None
    assert len(provider.calls) == 1


async def test_responses_then_rules_then_default() -> None:
    provider = make(
        responses={"c1": "fixed", "c2": ["first", "second"]},
        rules=[{"match": r"(?i)capital of france", "output": "Paris"}],
        default="I don't know",
    )
    assert (await provider.complete(req("anything", "c1"))).text == "fixed"
    assert (await provider.complete(req("x", "c2", repeat=0))).text == "first"
    assert (await provider.complete(req("x", "c2", repeat=1))).text == "second"
    assert (await provider.complete(req("x", "c2", repeat=2))).text == "first"  # wraps
    assert (await provider.complete(req("The CAPITAL of France?", "c3"))).text == "Paris"
    assert (await provider.complete(req("other", "c4"))).text == "I don't know"


async def test_cost_uses_the_price_table() -> None:
    pricing = PriceTable({"sim-1": PriceEntry(input_per_mtok=1_000_000, output_per_mtok=0)})
    provider = make(pricing=pricing, model="sim-1")
    response = await provider.complete(
        ChatRequest(messages=({"role": "user", "content": "12345678"},), model="")
    )
    assert response.model == "sim-1"
    assert response.cost_usd == pytest.approx(2.0)  # 8 chars = 2 tokens at $1 per token


@pytest.mark.parametrize(
    ("kind", "retryable", "status"),
    [
        ("timeout", True, None),
        ("connection", True, None),
        ("error", False, None),
        ("429", True, 429),
        ("500", True, 500),
        ("401", False, 401),
    ],
)
async def test_scripted_failures(kind: str, retryable: bool, status: int | None) -> None:
    provider = make(fail={"bad": kind})
    with pytest.raises(ProviderError) as info:
        await provider.complete(req("x", "bad"))
    assert info.value.retryable is retryable
    assert info.value.status == status
    assert "bad" in str(info.value)
    assert (await provider.complete(req("fine", "good"))).text == "fine"


async def test_fail_first_attempts_then_succeed_with_retry_after() -> None:
    provider = make(fail={"flaky": {"error": 429, "times": 2, "retry_after": 1.5}})
    for _ in range(2):
        with pytest.raises(ProviderError) as info:
            await provider.complete(req("x", "flaky"))
        assert info.value.retry_after == 1.5
    assert (await provider.complete(req("ok now", "flaky"))).text == "ok now"
    # Another repeat of the same case has its own attempt counter.
    with pytest.raises(ProviderError):
        await provider.complete(req("x", "flaky", repeat=1))


def test_bad_fail_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown failure kind 'explode'"):
        make(fail={"c": "explode"})


def test_bad_regex_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid regex"):
        make(rules=[{"match": "(", "output": "x"}])


async def test_pass_probability_is_seeded_and_roughly_right() -> None:
    options = {"responses": {}, "pass_probability": 0.7, "wrong_output": "WRONG", "seed": 3}
    a, b = make(**options), make(**options)
    outputs_a = [
        (await a.complete(req("right", f"c{i}", r))).text for i in range(200) for r in range(3)
    ]
    outputs_b = [
        (await b.complete(req("right", f"c{i}", r))).text for i in range(200) for r in range(3)
    ]
    assert outputs_a == outputs_b  # same seed, same draws
    share = outputs_a.count("right") / len(outputs_a)
    assert 0.62 < share < 0.78
    other_seed = make(**{**options, "seed": 4})
    outputs_c = [
        (await other_seed.complete(req("right", f"c{i}", r))).text
        for i in range(200)
        for r in range(3)
    ]
    assert outputs_c != outputs_a


async def test_per_case_probability_overrides_default() -> None:
    provider = make(nondeterministic={"never": 0.0, "always": 1.0}, pass_probability=0.5)
    for repeat in range(20):
        assert (await provider.complete(req("x", "never", repeat))).text == "I am not sure."
        assert (await provider.complete(req("x", "always", repeat))).text == "x"


def test_cache_identity_changes_with_the_script() -> None:
    a = ScriptedProvider(ScriptedOptions(default="a"))
    b = ScriptedProvider(ScriptedOptions(default="b"))
    assert a.cache_identity() != b.cache_identity()
    assert a.cache_identity() == ScriptedProvider(ScriptedOptions(default="a")).cache_identity()


def test_then_answers_after_each_tool_round_and_restarts_at_a_user_message() -> None:
    options = ScriptedOptions.model_validate(
        {
            "rules": [
                {
                    "match": "plan",
                    "tool_calls": [{"name": "now"}],
                    "then": {"tool_calls": [{"id": "w", "name": "weather"}], "then": "done"},
                },
                {"match": "loop", "tool_calls": [{"name": "now"}]},
            ]
        }
    )
    provider = ScriptedProvider(options)
    called = {"role": "assistant", "content": None, "tool_calls": [{"id": "x"}]}
    result = {"role": "tool", "tool_call_id": "x", "content": "r"}

    def answer(*messages: dict[str, Any]) -> tuple[str, list[str]]:
        text, calls = provider.answer_with_calls(ChatRequest(messages=messages, model=""))
        return text, [c["function"]["name"] for c in calls]

    plan = {"role": "user", "content": "plan my day"}
    assert answer(plan) == ("", ["now"])
    assert answer(plan, called, result) == ("", ["weather"])
    assert answer(plan, called, result, called, result) == ("done", [])
    assert answer(plan, called, result, called, result, called, result) == ("done", [])
    # A new user message starts a new turn: the first answer again.
    assert answer(plan, called, result, {"role": "assistant", "content": "done"}, plan) == (
        "",
        ["now"],
    )
    loop = {"role": "user", "content": "loop"}
    assert answer(loop, called, result, called, result) == ("", ["now"])
