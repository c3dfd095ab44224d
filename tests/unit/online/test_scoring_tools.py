"""Online tool-call checks: a recorded answer's tool calls and the tools its request
offered reach the checks as an eval's answer does, from the recording API and from a
gateway record (plain or streamed)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from releasegate.gateway._sse import StreamTally
from releasegate.gateway._to_record import to_interaction
from releasegate.online import RecordingService
from releasegate.online.records import RecordError
from releasegate.online.scoring import FeatureChecks, ScoringService, interaction_sample
from releasegate.ports import Interaction
from releasegate.scorers import AssertSpec, CheckBuilder, Sample, score_sample
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
CHECKS: list[dict[str, Any]] = [
    {"type": "tool-call", "value": "get_weather", "arguments": {"city": "Oslo"}},
    {"type": "no-tool-call"},
    {"type": "valid-tool-call"},
]


def call(args: Any, name: str = "get_weather", id_: str = "call_1") -> dict[str, Any]:
    return {"id": id_, "type": "function", "function": {"name": name, "arguments": args}}


# (label, text, tool calls): the shapes an answer comes in
SHAPES: list[tuple[str, str | None, list[Any] | None]] = [
    ("text only", "It is sunny.", None),
    ("calls only", None, [call('{"city": "Oslo"}')]),
    ("text and calls", "Let me check.", [call('{"city": "Oslo"}'), call("{}", "now", "c2")]),
    ("no function", None, [{"id": "call_1", "type": "function"}]),
    ("arguments not JSON", None, [call("{city")]),
    ("arguments not an object", None, [call('"Oslo"')]),
    ("undeclared tool", "", [call('{"city": 3}', "get_time")]),
]


def _checks() -> FeatureChecks:
    specs = [AssertSpec.model_validate(c) for c in CHECKS]
    builder = CheckBuilder()
    return FeatureChecks(specs, [builder.build(s) for s in specs])


async def _offline(text: str | None, calls: list[Any] | None) -> list[tuple[Any, ...]]:
    # What an eval scores for the same answer to a request that offered TOOLS.
    sample = Sample(text or "", tool_calls=tuple(calls or ()), tools=tuple(TOOLS))
    scores = await score_sample(sample, list(_checks().checks))
    return [(s.value, s.status, s.reason) for s in scores]


def _score(records: list[dict[str, Any]]) -> tuple[MemoryData, dict[str, list[tuple[Any, ...]]]]:
    data = MemoryData()
    queued: list[int] = []
    recording = RecordingService(
        InMemoryUnitOfWork(data), clock=lambda: T0, sampler=lambda _: True, enqueue=queued.extend
    )
    recording.record_json({"records": records})
    checks = _checks()
    scoring = ScoringService(lambda: InMemoryUnitOfWork(data), lambda _: checks, clock=lambda: T0)
    out: dict[str, list[tuple[Any, ...]]] = {}
    try:
        for iid in queued:
            stored = data.interactions[iid]
            assert scoring.score(iid) == "scored"
            with InMemoryUnitOfWork(data) as uow:
                rows = {s.check: s for s in uow.scores.for_interaction(iid)}
            out[stored.request_id] = [
                (rows[c["type"]].value, rows[c["type"]].status, rows[c["type"]].reason)
                for c in CHECKS
            ]
    finally:
        scoring.close()
    return data, out


@pytest.mark.parametrize(("label", "text", "calls"), SHAPES, ids=[s[0] for s in SHAPES])
def test_recorded_tool_calls_score_as_offline(
    label: str, text: str | None, calls: list[Any] | None
) -> None:
    record: dict[str, Any] = {"feature": "chat", "request_id": "r1", "tools": TOOLS}
    if text is not None:
        record["response"] = text
    if calls is not None:
        record["tool_calls"] = calls
    data, online = _score([record])
    offline = [
        (v, str(getattr(st, "value", st)), r) for v, st, r in asyncio.run(_offline(text, calls))
    ]
    assert online["r1"] == offline
    stored = next(iter(data.interactions.values()))
    assert stored.tool_calls == calls and stored.tools == TOOLS
    assert stored.response == text


def test_the_verdicts_per_shape() -> None:
    _, online = _score(
        [
            {"feature": "chat", "request_id": label.replace(" ", "-"), "tools": TOOLS}
            | ({"response": text} if text is not None else {})
            | ({"tool_calls": calls} if calls is not None else {})
            for label, text, calls in SHAPES
        ]
    )
    verdicts = {rid: [v for v, _, _ in rows] for rid, rows in online.items()}
    assert verdicts["text-only"] == [0.0, 1.0, 0.0]  # valid-tool-call: nothing was called
    assert verdicts["calls-only"] == [1.0, 0.0, 1.0]
    assert verdicts["text-and-calls"][:2] == [1.0, 0.0]
    assert verdicts["no-function"] == [0.0, 0.0, 0.0]
    assert verdicts["arguments-not-JSON"] == [0.0, 0.0, 0.0]
    assert verdicts["arguments-not-an-object"] == [0.0, 0.0, 0.0]
    assert verdicts["undeclared-tool"] == [0.0, 0.0, 0.0]
    reasons = {rid: rows[2][2] for rid, rows in online.items()}
    assert "has no 'function'" in reasons["no-function"]
    assert "not JSON" in reasons["arguments-not-JSON"]
    assert "not an object" in reasons["arguments-not-an-object"]
    assert "get_time" in reasons["undeclared-tool"]


def test_without_recorded_tools_valid_tool_call_is_not_applicable() -> None:
    _, online = _score(
        [{"feature": "chat", "request_id": "r", "tool_calls": [call('{"city": "Oslo"}')]}]
    )
    (tool_call, no_call, valid) = online["r"]
    assert (tool_call[0], no_call[0]) == (1.0, 0.0)
    assert valid[0] is None and valid[1] == "not_applicable"


def test_a_row_from_before_the_tool_calls_field_is_read_as_its_calls() -> None:
    calls = [call('{"city": "Oslo"}')]
    legacy = json.dumps({"tool_calls": calls})
    old = Interaction("r", "chat", "incumbent", T0, "", response=legacy)
    sample = interaction_sample(old)
    assert (sample.output, sample.tool_calls) == ("", tuple(calls))
    # ... also the flat calls an older gateway stored for a streamed answer
    flat = {"id": "call_1", "type": "function", "name": "get_weather", "arguments": "{}"}
    streamed = json.dumps({"tool_calls": [flat, {"id": "x"}]})
    sample = interaction_sample(Interaction("s", "chat", "incumbent", T0, "", response=streamed))
    assert sample.tool_calls == (call("{}"), {"id": "x"})
    # A text answer that merely looks like it stays text.
    for text in ('{"tool_calls": [], "note": 1}', '{"tool_calls": "x"}', '{"tool_calls": [}'):
        sample = interaction_sample(Interaction("t", "chat", "incumbent", T0, "", response=text))
        assert (sample.output, sample.tool_calls) == (text, ())


def test_tool_call_arguments_are_redacted_and_the_fields_bounded() -> None:
    data, _ = _score(
        [
            {
                "feature": "chat",
                "request_id": "r",
                "tool_calls": [call('{"email": "ann@example.com"}', "send")],
            }
        ]
    )
    (stored,) = data.interactions.values()
    assert "ann@example.com" not in json.dumps(stored.tool_calls)
    recording = RecordingService(InMemoryUnitOfWork(MemoryData()), clock=lambda: T0)
    too_many = [call("{}", id_=f"c{i}") for i in range(129)]
    bad = [
        {"feature": "chat", "request_id": "a", "tool_calls": too_many},
        {"feature": "chat", "request_id": "b", "tools": ["not a tool"]},
        {"feature": "chat", "request_id": "c", "tool_calls": {"id": "x"}},
        {"feature": "chat", "request_id": "d", "tool_calls": [call("x" * 200_001)]},
    ]
    with pytest.raises(RecordError) as info:
        recording.record_json({"records": bad})
    wheres = [p.where for p in info.value.problems]
    assert wheres[0] == "records[0].tool_calls" and "records[1].tools[0]" in wheres
    assert "records[2].tool_calls" in wheres and "records[3].tool_calls" in wheres


def _gateway_record(response: Any, tools: Any = None) -> dict[str, Any]:
    return {
        "feature": "chat",
        "request_id": "g1",
        "messages": [{"role": "user", "content": "Weather in Oslo?"}],
        "response": response,
        "tools": tools,
        "stream": True,
        "time": T0.timestamp(),
    }


def _streamed(*deltas: dict[str, Any]) -> dict[str, Any]:
    tally = StreamTally()
    for delta in deltas:
        tally.add({"choices": [{"index": 0, "delta": delta}]})
    tally.add({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    return tally.response()


def _opening(index: int, id_: str, name: str, args: str = "") -> dict[str, Any]:
    fn = {"name": name, "arguments": args}
    return {"tool_calls": [{"index": index, "id": id_, "type": "function", "function": fn}]}


def _piece(index: int, args: str) -> dict[str, Any]:
    return {"tool_calls": [{"index": index, "function": {"arguments": args}}]}


# text, then two parallel calls whose argument pieces interleave
STREAMED = _streamed(
    {"role": "assistant", "content": "Hm. "},
    _opening(0, "call_1", "get_weather"),
    _opening(1, "c2", "now", "{"),
    _piece(0, '{"city": '),
    _piece(0, '"Oslo"}'),
    _piece(1, "}"),
)


@pytest.mark.parametrize(
    ("response", "text", "calls"),
    [
        pytest.param(
            {"content": None, "tool_calls": [call('{"city": "Oslo"}')]},
            None,
            [call('{"city": "Oslo"}')],
            id="plain-calls-only",
        ),
        pytest.param(
            {"content": "Checking.", "tool_calls": [call('{"city": "Oslo"}')]},
            "Checking.",
            [call('{"city": "Oslo"}')],
            id="plain-text-and-calls",
        ),
        pytest.param(
            STREAMED,
            "Hm. ",
            [call('{"city": "Oslo"}'), call("{}", "now", "c2")],
            id="streamed-text-and-interleaved-parallel-calls",
        ),
        pytest.param(
            {"content": "Sunny.", "tool_calls": None},
            "Sunny.",
            None,
            id="plain-text-only",
        ),
    ],
)
def test_a_gateway_record_keeps_its_tool_calls_for_online_checks(
    response: dict[str, Any], text: str | None, calls: list[Any] | None
) -> None:
    interaction = to_interaction(_gateway_record(response, TOOLS))
    assert interaction.get("response") == text
    assert interaction.get("tool_calls") == calls
    assert interaction["tools"] == TOOLS
    assert "tools" not in to_interaction(_gateway_record(response))  # none offered
    data, online = _score([interaction])
    (stored,) = data.interactions.values()
    assert stored.tool_calls == calls and stored.response == text
    offline = [
        (v, str(getattr(st, "value", st)), r) for v, st, r in asyncio.run(_offline(text, calls))
    ]
    assert online["g1"] == offline
    assert online["g1"][0][0] == (1.0 if calls else 0.0)
