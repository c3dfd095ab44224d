"""Honest streaming: status only after the first chunk, error events after it."""

from __future__ import annotations

import json
from typing import Any

import httpx

from releasegate.gateway import FallbackChain
from releasegate.gateway._to_record import to_interaction


def events(text: str) -> list[tuple[str | None, str]]:
    out = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name = None
        data = []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        out.append((name, "\n".join(data)))
    return out


async def stream(rig: Any, **kwargs: Any) -> httpx.Response:
    return await rig.chat("tell me a long story please", stream=True, **kwargs)


async def test_stream_relays_chunks_usage_and_done(make_rig: Any) -> None:
    rig = await make_rig()
    resp = await stream(rig, stream_options={"include_usage": True})
    assert resp.status_code == 200 and resp.headers["content-type"] == "text/event-stream"
    evs = events(resp.text)
    assert evs[-1] == (None, "[DONE]")
    chunks = [json.loads(d) for _, d in evs[:-1]]
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        == "Q: tell me a long story please"
    )
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0
    record = rig.recorder.records[0]
    assert record["stream"] and record["error"] is None and record["ttft_ms"] is not None
    assert record["response"]["content"] == "Q: tell me a long story please"
    assert record["prompt_tokens"] is not None


async def test_tool_call_deltas_keep_ids_and_names(make_rig: Any) -> None:
    rig = await make_rig()
    rig.primary.tool_call_next("get_weather", '{"city": "Paris"}')
    resp = await stream(rig)
    deltas = [json.loads(d) for _, d in events(resp.text)[:-1]]
    first = deltas[1]["choices"][0]["delta"]["tool_calls"][0]
    assert first["id"] == "call_1_0" and first["function"]["name"] == "get_weather"
    (record,) = rig.recorder.records
    assert record["response"]["tool_calls"] == [
        {
            "id": "call_1_0",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        }
    ]


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    },
    {"type": "function", "function": {"name": "now"}},
]


async def test_a_streamed_tool_call_answer_is_recorded_as_the_plain_one(make_rig: Any) -> None:
    # The same answer (text, then two parallel calls) streamed and not: the records agree,
    # and the interaction form carries the text, the calls and the tools offered.
    rig = await make_rig()
    calls = [("get_weather", '{"city": "Oslo"}'), ("now", "{}")]
    for streamed in (True, False):
        rig.primary.tool_calls_next(calls, text="Let me check.")
        resp = await rig.chat("weather?", stream=streamed, tools=TOOLS)
        assert resp.status_code == 200
    streamed_record, plain_record = rig.recorder.records
    assert streamed_record["stream"] and not plain_record["stream"]
    expected = [
        {"id": f"call_{n}_0", "type": "function",
         "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}
        for n in (1, 2)
    ]  # fmt: skip
    for record, first in zip((streamed_record, plain_record), expected, strict=True):
        interaction = to_interaction(record)
        assert interaction["response"] == "Let me check."
        assert interaction["tool_calls"][0] == first
        assert interaction["tool_calls"][1]["function"] == {"name": "now", "arguments": "{}"}
        assert interaction["tools"] == TOOLS
        assert interaction["metadata"]["finish_reason"] == "tool_calls"


async def test_failure_before_first_chunk_fails_over(make_rig: Any) -> None:
    rig = await make_rig(fallbacks={"chat": FallbackChain(models=("m-backup",))})
    rig.primary.fail_before_first_chunk()
    resp = await stream(rig)
    assert resp.status_code == 200
    assert resp.headers["x-releasegate-served-model"] == "m-backup"
    assert events(resp.text)[-1] == (None, "[DONE]")
    rig.primary.fail_next(500)
    resp = await stream(rig)
    assert resp.headers["x-releasegate-fallback-depth"] == "1"


async def test_stream_error_before_first_chunk_without_fallback_is_an_http_error(
    make_rig: Any,
) -> None:
    rig = await make_rig()
    rig.primary.fail_next(503)
    resp = await stream(rig)
    assert resp.status_code == 502 and resp.json()["error"]["code"] == "bad_gateway"


async def test_cut_mid_stream_ends_with_error_event_and_no_done(make_rig: Any) -> None:
    rig = await make_rig(fallbacks={"chat": FallbackChain(models=("m-backup",))})
    rig.primary.cut_stream_after(2)
    resp = await stream(rig)
    assert resp.status_code == 200  # the status line went out with the first chunk
    evs = events(resp.text)
    assert all(d != "[DONE]" for _, d in evs)
    name, data = evs[-1]
    assert name == "error" and json.loads(data)["error"]["code"] == "stream_cut"
    assert rig.backup.count == 0  # no failover after the first byte
    record = rig.recorder.records[0]
    assert record["error_stage"] == "stream" and "after 2 chunk(s)" in record["error"]
    assert record["response"]["content"] == "piece0 piece1 "


async def test_stall_mid_stream(make_rig: Any) -> None:
    rig = await make_rig(stall_timeout_s=0.3)
    rig.primary.stall_stream_after(1, 3.0)
    resp = await stream(rig)
    name, data = events(resp.text)[-1]
    assert name == "error" and json.loads(data)["error"]["code"] == "stream_stall"
    assert rig.recorder.records[0]["error"].startswith("stall")


async def test_malformed_chunk_mid_stream(make_rig: Any) -> None:
    rig = await make_rig()
    rig.primary.malformed_after(1)
    resp = await stream(rig)
    name, data = events(resp.text)[-1]
    assert name == "error" and json.loads(data)["error"]["code"] == "stream_malformed"
    assert "[DONE]" not in resp.text


async def test_fixed_answer_streams(make_rig: Any) -> None:
    rig = await make_rig(fallbacks={"chat": FallbackChain(answer="later")})
    rig.primary.fail_next(500)
    resp = await stream(rig, stream_options={"include_usage": True})
    evs = events(resp.text)
    assert evs[-1] == (None, "[DONE]")
    assert json.loads(evs[0][1])["choices"][0]["delta"]["content"] == "later"
    assert json.loads(evs[-2][1])["choices"] == []
    assert resp.headers["x-releasegate-fallback-depth"] == "1"
