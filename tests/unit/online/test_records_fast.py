"""The fast path of record validation agrees with the models: what it accepts, the models
accept, with the same JSON form (so the same content hash) and the same time; what the
models refuse, it leaves to them. Records the gateway writes always take it."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasegate.deploy.names import GATEWAY_FEATURE, MAX_FEATURE, MAX_VERSION
from releasegate.gateway._to_record import to_interaction
from releasegate.gateway.recorder import RECORD_FIELDS
from releasegate.online import limits as L
from releasegate.online.records import RecordError, RecordIn, parse_records
from releasegate.online.records_fast import dump_records

RESERVED = frozenset({GATEWAY_FEATURE})


def base(**change: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "feature": "chat",
        "request_id": "req-1",
        "arm": "incumbent",
        "version": "v1",
        "served_version": "v1",
        "model": "m",
        "unit_key": "u-1",
        "prompt": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi, my number is 555 123 4567"},
        ],
        "response": "hello",
        "latency_ms": 21.5,
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "cost_usd": 0.0001,
        "fallback_depth": 0,
        "shadow": False,
        "metadata": {"stream": True, "status": 200, "overhead_ms": 0.81},
        "at": "2026-11-30T22:00:05.123456+00:00",
    }
    out.update(change)
    return {k: v for k, v in out.items() if v is not _DROP}


_DROP = object()


def model_form(record: Any, reserved: frozenset[str]) -> tuple[dict[str, Any], Any] | None:
    try:
        parsed = parse_records({"records": [record]}, reserved=reserved)
    except RecordError:
        return None
    return parsed[0].model_dump(mode="json", exclude_none=True), parsed[0].at


def agree(record: Any, reserved: frozenset[str] = RESERVED) -> bool:
    """True when the fast path took ``record`` (and agrees), False when it left it."""
    fast = dump_records({"records": [record]}, reserved=reserved)
    model = model_form(record, reserved)
    if fast is None:
        return False
    assert model is not None, f"the fast path accepted a record the models refuse: {record!r}"
    (data, at), (want, want_at) = fast[0], model
    as_json = json.dumps(data, sort_keys=True, ensure_ascii=False)
    assert as_json == json.dumps(want, sort_keys=True, ensure_ascii=False)
    assert at == want_at
    return True


def test_a_plain_record_takes_the_fast_path() -> None:
    assert agree(base())


EDGES: list[dict[str, Any]] = [
    {"feature": "x" * MAX_FEATURE},
    {"feature": "x" * (MAX_FEATURE + 1)},
    {"feature": "chat\n"},
    {"feature": "_gateway"},
    {"feature": "_other"},
    {"feature": "a b"},
    {"feature": ""},
    {"feature": 5},
    {"request_id": "x" * L.MAX_REQUEST_ID},
    {"request_id": "x" * (L.MAX_REQUEST_ID + 1)},
    {"request_id": "a b"},
    {"request_id": "ab\n"},
    {"request_id": "é"},
    {"request_id": ""},
    {"version": "v" * MAX_VERSION},
    {"version": "v" * (MAX_VERSION + 1)},
    {"version": "v1\n"},
    {"version": "-v1"},
    {"served_version": None},
    {"model": ""},
    {"model": "m\x00"},
    {"arm": "blue"},
    {"arm": None},
    {"arm": "fallback"},
    {"unit_key": ""},
    {"unit_key": "u" * (L.MAX_UNIT_KEY + 1)},
    {"session_id": ""},
    {"session_id": "s" * L.MAX_SESSION_ID},
    {"prompt": []},
    {"prompt": [{"role": "user"}]},
    {"prompt": [{"content": "no role"}]},
    {"prompt": [{"role": "", "content": "x"}]},
    {"prompt": [{"role": "r" * (L.MAX_ROLE + 1), "content": "x"}]},
    {"prompt": [{"role": "user", "content": None, "name": None}]},
    {"prompt": [{"role": "user", "content": "x" * (L.MAX_TEXT + 1)}]},
    {"prompt": [{"role": "user", "content": "a\x00"}]},
    {"prompt": [{"role": "user", "content": [{"type": "text", "text": "hi", "x": None}]}]},
    {"prompt": [{"role": "user", "content": [{"type": "text", "text": "x" * L.MAX_TEXT}]}]},
    {"prompt": [{"role": "user", "content": 5}]},
    {"prompt": [{"role": "user", "content": {"a": 1}}]},
    {
        "prompt": [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": None}}],
            }
        ]
    },
    {"prompt": [{"role": "tool", "content": "ok", "tool_call_id": "c1", "extra": float("nan")}]},
    {"prompt": [{"role": "user", "content": "x", "k\x00": 1}]},
    {"prompt": [{"role": "user", "content": "x", "big": "é\x01" * 40_000}]},
    {"prompt": [{"role": "user", "content": "x", "ok": "\x01" * 33_332}]},
    {"prompt": [{"role": "user", "content": "x", "odd": (1, 2)}]},
    {"prompt": [{"role": "user", "content": "x"}] * (L.MAX_MESSAGES + 1)},
    {"prompt": "hello"},
    {"prompt": ({"role": "user", "content": "x"},)},
    {"response": "x" * L.MAX_TEXT},
    {"response": "x" * (L.MAX_TEXT + 1)},
    {"response": 5},
    {"context": ["a", "b"]},
    {"context": ["a\x00"]},
    {"context": ["x" * (L.MAX_CHUNK + 1)]},
    {"context": ["x"] * (L.MAX_CHUNKS + 1)},
    {"latency_ms": 5},
    {"latency_ms": 0},
    {"latency_ms": -0.0},
    {"latency_ms": -1.0},
    {"latency_ms": float("inf")},
    {"latency_ms": float("nan")},
    {"latency_ms": True},
    {"latency_ms": "5"},
    {"latency_ms": 2**70},
    {"ttft_ms": 1e308},
    {"cost_usd": 0},
    {"cost_usd": _DROP},
    {"cost_usd": None},
    {"prompt_tokens": 1.0},
    {"prompt_tokens": True},
    {"prompt_tokens": -1},
    {"prompt_tokens": 2**70},
    {"prompt_tokens": _DROP},
    {"fallback_depth": L.MAX_FALLBACK_DEPTH},
    {"fallback_depth": L.MAX_FALLBACK_DEPTH + 1},
    {"shadow": 1},
    {"shadow": None},
    {"error": "e" * L.MAX_ERROR},
    {"error": "e" * (L.MAX_ERROR + 1)},
    {"metadata": {}},
    {"metadata": {"a": None, "b": 1.5, "c": True, "d": "x", "e": 2**70}},
    {"metadata": {"a": [1]}},
    {"metadata": {"a": {"b": 1}}},
    {"metadata": {"": 1}},
    {"metadata": {"k" * (L.MAX_METADATA_KEY + 1): 1}},
    {"metadata": {"k\x00": 1}},
    {"metadata": {"k": "v\x00"}},
    {"metadata": {"k": "v" * (L.MAX_METADATA_VALUE + 1)}},
    {"metadata": {"k": float("inf")}},
    {"metadata": {f"k{i}": i for i in range(L.MAX_METADATA_KEYS + 1)}},
    {"metadata": {1: "x"}},
    {"metadata": []},
    {"at": "2026-11-30T22:00:05Z"},
    {"at": "2026-11-30T22:00:05.1+02:00"},
    {"at": "2026-11-30T22:00:05.000000+00:00"},
    {"at": "2026-11-30T22:00:05.1234567+00:00"},
    {"at": "2026-11-30T22:00:05-00:00"},
    {"at": "2026-11-30T22:00:05+14:00"},
    {"at": "2026-11-30T22:00:05+24:00"},
    {"at": "2026-11-30T22:00:05"},
    {"at": "2026-11-30"},
    {"at": "2026-02-30T22:00:05Z"},
    {"at": "2026-11-30T23:59:60Z"},
    {"at": "2026-11-30 22:00:05Z"},
    {"at": "20261130T220005Z"},
    {"at": 1764540005},
    {"at": datetime(2026, 11, 30, 22, 0, 5, tzinfo=UTC)},
    {"at": datetime(2026, 11, 30, 22, 0, 5, 120, tzinfo=timezone(timedelta(hours=-5)))},
    {"at": datetime(2026, 11, 30, 22, 0, 5)},
    {"at": None},
    {"colour": "red"},
    {"records": []},
]


@pytest.mark.parametrize("change", EDGES, ids=[repr(e)[:60] for e in EDGES])
def test_edge_cases_agree_with_the_models(change: dict[str, Any]) -> None:
    agree(base(**change))


@pytest.mark.parametrize("record", [None, [], "x", 5, {1: 2}])
def test_what_is_not_a_record_is_left_to_the_models(record: Any) -> None:
    assert not agree(record)


def test_a_batch_with_one_record_it_cannot_vouch_for_is_left_whole() -> None:
    good, bad = base(), base(request_id="a b")
    assert dump_records({"records": [good, bad, good]}) is None
    fast = dump_records({"records": [good, base(request_id="req-2")]})
    assert fast is not None and [d["request_id"] for d, _ in fast] == ["req-1", "req-2"]


def test_the_body_is_checked_as_the_models_check_it() -> None:
    for body in ([], {"records": {}}, {"records": [], "more": 1}):
        with pytest.raises(RecordError) as fast:
            dump_records(body)
        with pytest.raises(RecordError) as model:
            parse_records(body)
        assert str(fast.value) == str(model.value)


def _gateway_record(**change: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(RECORD_FIELDS)
    out.update(
        feature="chat",
        assigned_version="v1",
        served_version="v1",
        served_model="m",
        arm="incumbent",
        deployment_id=1,
        unit_key="u",
        unit_key_random=False,
        request_id="0123456789abcdef",
        stream=False,
        messages=[{"role": "user", "content": "hello"}],
        response={"role": "assistant", "content": "hi", "finish_reason": "stop"},
        latency_ms=21.5,
        overhead_ms=0.8123456,
        prompt_tokens=3,
        completion_tokens=4,
        cost_usd=0.0001,
        status=200,
        fallback_depth=0,
        shadow=False,
        time=1764540005.123456,
    )
    out.update(change)
    return out


GATEWAY = [
    {},
    {"stream": True, "ttft_ms": 20.1},
    {"time": 1764540005.0},
    {"response": None, "status": 502, "error": "upstream failed", "error_stage": "upstream"},
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}]},
    {"messages": "not a list", "error_stage": "request", "status": 400},
    {"feature": "no such/feature", "arm": None, "assigned_version": None},
    {"feature": None, "status": 400, "error_stage": "request"},
    {"shadow": True, "shadow_of": "fedcba9876543210", "arm": "canary"},
    {"fallback_depth": 2, "served_version": "v0", "unit_key_random": True},
    {"session_id": "s-1", "cost_usd": 0.0, "prompt_tokens": 0},
]


@pytest.mark.parametrize("change", GATEWAY, ids=[repr(g)[:60] for g in GATEWAY])
def test_gateway_records_take_the_fast_path(change: dict[str, Any]) -> None:
    assert agree(to_interaction(_gateway_record(**change)))


_CALL = {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}
_TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


@pytest.mark.parametrize(
    "change",
    [
        {"response": {"content": None, "tool_calls": [_CALL]}},
        {"response": {"content": "and a call", "tool_calls": [_CALL, {"id": "d"}]}},
        {"tools": [_TOOL]},
        {"response": {"content": None, "tool_calls": [_CALL]}, "tools": [_TOOL]},
    ],
)
def test_records_with_tool_calls_or_tools_are_left_to_the_models(change: dict[str, Any]) -> None:
    record = to_interaction(_gateway_record(**change))
    assert "tool_calls" in record or "tools" in record
    assert dump_records({"records": [record]}, reserved=RESERVED) is None
    model = model_form(record, RESERVED)
    assert model is not None  # kept, with the calls and tools, by the models
    assert model[0].get("tool_calls") == record.get("tool_calls")
    assert model[0].get("tools") == record.get("tools")


_TEXT = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["chat", "_gateway", "v1", "a b", "x\x00", "ok\n", "é", "incumbent"]),
    st.sampled_from(["2026-11-30T22:00:05Z", "2026-11-30T22:00:05.5+01:00", "2026-13-01"]),
)
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    _TEXT,
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_TEXT, inner, max_size=3)),
    max_leaves=8,
)
_MESSAGE = st.fixed_dictionaries(
    {"role": _TEXT}, optional={"content": _JSON, "name": _JSON, "tool_calls": _JSON}
)
_FIELD_VALUES = {
    **{name: _JSON for name in RecordIn.model_fields},
    "prompt": st.one_of(st.lists(_MESSAGE, max_size=3), _JSON),
    "metadata": st.one_of(st.dictionaries(_TEXT, _SCALAR, max_size=4), _JSON),
}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.dictionaries(
        st.sampled_from(sorted(_FIELD_VALUES)), st.just(None), max_size=4
    ).flatmap(lambda keys: st.fixed_dictionaries({k: _FIELD_VALUES[k] for k in keys}))
)
def test_any_record_the_fast_path_accepts_the_models_accept_alike(
    changes: dict[str, Any],
) -> None:
    agree(base(**changes))


def test_floats_stay_floats_in_the_json_form() -> None:
    fast = dump_records({"records": [base(latency_ms=5, cost_usd=0)]})
    assert fast is not None
    data = fast[0][0]
    assert isinstance(data["latency_ms"], float) and isinstance(data["cost_usd"], float)
    assert math.isclose(data["latency_ms"], 5.0)
