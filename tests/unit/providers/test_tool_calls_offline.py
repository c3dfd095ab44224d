"""Tool calls offline: scripted and replayed answers, recordings, and the response cache
(keys cover the tools offered; cached answers keep their tool calls)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.config import ProviderConfig
from releasegate.errors import ConfigError
from releasegate.llm import ChatResponse, Usage
from releasegate.providers import ChatRequest, PriceTable, build_provider
from releasegate.providers.cache import CacheKeyer, ResponseCache, cache_key, canonical_json
from releasegate.providers.recording import RecordingProvider, request_key
from releasegate.providers.replay import ReplayProvider
from releasegate.providers.scripted import ScriptedOptions, ScriptedProvider

WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}
CALL = {
    "id": "call_0",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


def scripted(**options: Any) -> ScriptedProvider:
    cfg = ProviderConfig.model_validate({"type": "scripted", **options})
    provider = build_provider("fake", cfg, pricing=PriceTable(), root=Path("."))
    assert isinstance(provider, ScriptedProvider)
    return provider


def req(text: str = "Weather in Paris?", case_id: str | None = "c", **kw: Any) -> ChatRequest:
    return ChatRequest(
        messages=({"role": "user", "content": text},), model="m", case_id=case_id, **kw
    )


@pytest.mark.parametrize(
    ("script", "calls"),
    [
        # the short form: name and arguments as a mapping (serialised) or a string (kept)
        ({"name": "get_weather", "arguments": {"city": "Paris"}}, [CALL]),
        ({"name": "get_weather", "arguments": '{"city": "Paris"}'}, [CALL]),
        (
            {"name": "now", "id": "mine"},
            [{"id": "mine", "type": "function", "function": {"name": "now", "arguments": "{}"}}],
        ),
        # anything else is sent as written, malformed entries included
        (CALL, [CALL]),
        ({"id": "x", "type": "function"}, [{"id": "x", "type": "function"}]),
        (
            {"function": {"name": "f", "arguments": {"a": 1}}},
            [{"function": {"name": "f", "arguments": {"a": 1}}}],
        ),
        ("just a string", ["just a string"]),
    ],
)
async def test_scripted_tool_call_forms(script: Any, calls: list[Any]) -> None:
    provider = scripted(responses={"c": {"output": "", "tool_calls": [script]}})
    response = await provider.complete(req())
    assert list(response.tool_calls) == calls
    assert response.text == ""
    assert response.usage.completion_tokens >= 1


async def test_scripted_answers_per_repeat_rules_and_text() -> None:
    provider = scripted(
        responses={
            "c": [
                {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
                "Sunny.",
            ]
        },
        rules=[
            {"match": "time", "tool_calls": [{"name": "now"}]},
            {"match": "hello", "output": "Hi!"},
        ],
    )
    first = await provider.complete(req(repeat=0))
    assert first.tool_calls == (CALL,) and first.text == ""
    second = await provider.complete(req(repeat=1))
    assert second.tool_calls == () and second.text == "Sunny."
    by_rule = await provider.complete(req("what time is it", case_id="other"))
    assert [c["function"]["name"] for c in by_rule.tool_calls] == ["now"]
    text = await provider.complete(req("hello", case_id="other"))
    assert text.text == "Hi!" and text.tool_calls == ()


async def test_a_simulated_wrong_answer_makes_no_tool_call() -> None:
    provider = scripted(responses={"c": {"tool_calls": [{"name": "f"}]}}, pass_probability=0.0)
    response = await provider.complete(req())
    assert response.text == "I am not sure." and response.tool_calls == ()


@pytest.mark.parametrize(
    ("responses", "words"),
    [
        ({"c": {"output": "x", "tool_call": []}}, "tool_call"),
        ({"c": {"tool_calls": "not a list"}}, "tool_calls"),
        ({"c": []}, "empty list"),
    ],
)
def test_bad_scripts_are_config_errors(responses: Any, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        scripted(responses=responses)


async def test_recorded_tool_calls_replay(tmp_path: Path) -> None:
    inner = ScriptedProvider(
        ScriptedOptions.model_validate(
            {"responses": {"c": {"output": "Checking", "tool_calls": [CALL, {"id": "bad"}]}}}
        )
    )
    recorder = RecordingProvider(inner, tmp_path / "rec.jsonl")
    await recorder.complete(req())
    await recorder.complete(req(case_id="text-only"))
    await recorder.aclose()
    lines = [json.loads(x) for x in (tmp_path / "rec.jsonl").read_text().splitlines()]
    assert lines[0]["tool_calls"] == [CALL, {"id": "bad"}]
    assert "tool_calls" not in lines[1]
    cfg = ProviderConfig.model_validate({"type": "replay", "file": "rec.jsonl"})
    replay = build_provider("rp", cfg, pricing=PriceTable(), root=tmp_path)
    assert isinstance(replay, ReplayProvider)
    answer = await replay.complete(req())
    assert answer.text == "Checking" and answer.tool_calls == (CALL, {"id": "bad"})
    assert (await replay.complete(req(case_id="text-only"))).tool_calls == ()


async def test_replay_by_key_tells_requests_with_tools_apart(tmp_path: Path) -> None:
    plain, tooled = req(case_id=None), req(case_id=None, tools=(WEATHER,), tool_choice="auto")
    assert request_key(plain.messages) == request_key(plain.messages, None, None)
    lines = [
        {"key": request_key(plain.messages), "output": "text answer"},
        {
            "key": request_key(tooled.messages, tooled.tools, tooled.tool_choice),
            "output": "",
            "tool_calls": [CALL],
        },
    ]
    (tmp_path / "k.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    cfg = ProviderConfig.model_validate({"type": "replay", "file": "k.jsonl"})
    replay = build_provider("rp", cfg, pricing=PriceTable(), root=tmp_path)
    assert (await replay.complete(plain)).text == "text answer"
    assert (await replay.complete(tooled)).tool_calls == (CALL,)


def test_a_recording_without_tool_calls_keeps_its_cache_identity(tmp_path: Path) -> None:
    line = {"case_id": "a", "output": "x"}
    (tmp_path / "r.jsonl").write_text(json.dumps(line) + "\n")
    (tmp_path / "t.jsonl").write_text(json.dumps({**line, "tool_calls": [CALL]}) + "\n")
    cfg = ProviderConfig.model_validate({"type": "replay", "file": "r.jsonl"})
    plain = build_provider("rp", cfg, pricing=PriceTable(), root=tmp_path)
    cfg = ProviderConfig.model_validate({"type": "replay", "file": "t.jsonl"})
    tooled = build_provider("rp", cfg, pricing=PriceTable(), root=tmp_path)
    assert plain.cache_identity() != tooled.cache_identity()
    # the digest of a tool-less recording is what it was before tools existed
    legacy = json.dumps(
        [
            {
                **line,
                "repeat": None,
                "key": None,
                "usage": None,
                "latency_ms": 0.0,
                "model": None,
                "cost_usd": None,
            }
        ],
        sort_keys=True,
        separators=(",", ":"),
    )
    assert plain.cache_identity()["records"] == hashlib.sha256(legacy.encode()).hexdigest()


# -- cache identity ---------------------------------------------------------------------

IDENTITY = {"type": "openai", "model": "m"}


def test_tool_less_keys_are_unchanged() -> None:
    request = req()
    keyer = CacheKeyer(IDENTITY, frozenset())
    material = [
        keyer.identity_digest,
        request.model,
        request.messages,
        request.params,
        request.response_format,
        request.repeat,
        None,
        None,
    ]
    expected = hashlib.sha256(canonical_json(material).encode()).hexdigest()
    assert keyer.key(request) == expected


OTHER = {"type": "function", "function": {"name": "now"}}
VARIANTS: list[dict[str, Any]] = [
    {},
    {"tools": (WEATHER,)},
    {"tools": (WEATHER, OTHER)},
    {"tools": (OTHER, WEATHER)},
    {"tools": (WEATHER,), "tool_choice": "auto"},
    {"tools": (WEATHER,), "tool_choice": "required"},
    {"tools": (WEATHER,), "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
    {"tool_choice": "none"},
    {
        "tools": (
            {
                "type": "function",
                "function": {"name": "get_weather", "parameters": {"type": "object"}},
            },
        )
    },
    {
        "tools": (
            {"type": "function", "function": {**WEATHER["function"], "description": "Weather"}},
        )
    },
]


def test_every_tool_variant_has_its_own_key() -> None:
    keys = {cache_key(IDENTITY, req(**variant), ()) for variant in VARIANTS}
    assert len(keys) == len(VARIANTS)


@settings(max_examples=100, deadline=None)
@given(
    a=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3, unique=True),
    b=st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=3, unique=True),
)
def test_different_tools_different_keys(a: list[str], b: list[str]) -> None:
    def tools(names: list[str]) -> tuple[dict[str, Any], ...]:
        return tuple({"type": "function", "function": {"name": n}} for n in names)

    same = cache_key(IDENTITY, req(tools=tools(a)), ()) == cache_key(
        IDENTITY, req(tools=tools(b)), ()
    )
    assert same == (a == b)


def test_the_cache_keeps_tool_calls(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    calls = (CALL, {"id": "malformed"})
    cache.put("k", ChatResponse(text="", usage=Usage(3, 4), tool_calls=calls))
    cache.put("t", ChatResponse(text="plain"))
    cache.close()
    cache = ResponseCache(tmp_path / "c.sqlite")
    got = cache.get("k")
    assert got is not None and got.cached and got.tool_calls == calls
    plain = cache.get("t")
    assert plain is not None and plain.tool_calls == ()
    cache.close()


def test_a_cache_entry_with_unreadable_tool_calls_is_a_miss(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache._db.execute(
        "INSERT INTO responses (key, created_at, body) VALUES (?, 0, ?)",
        ("k", json.dumps({"text": "", "tool_calls": {"not": "a list"}})),
    )
    assert cache.get("k") is None
    cache.close()


CHANGED: dict[str, Any] = {
    "messages": ({"role": "user", "content": "other"},),
    "model": "m2",
    "params": {"temperature": 1},
    "response_format": {"type": "json_object"},
    "case_id": "d",
    "repeat": 1,
    "vars": {"a": 1},
    "tools": (WEATHER,),
    "tool_choice": "auto",
}


def test_every_request_field_is_in_the_key() -> None:
    import dataclasses

    names = {f.name for f in dataclasses.fields(ChatRequest)}
    assert names == set(CHANGED), "classify the new ChatRequest field here"
    base = req()
    keyer = CacheKeyer(IDENTITY)  # a provider that reads case ids and variables
    for name, value in CHANGED.items():
        changed = dataclasses.replace(base, **{name: value})
        assert keyer.key(changed) != keyer.key(base), name
