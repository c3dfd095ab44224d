"""Request rewriting, stream tallies, retry-after parsing and the bounded recorder."""

from __future__ import annotations

import pytest

from releasegate.errors import PromptError
from releasegate.gateway import MemoryRecorder
from releasegate.gateway._shape import apply_version, feature_of, unit_key_of
from releasegate.gateway._sse import StreamBroken, StreamTally
from releasegate.gateway.upstream import UpstreamError, parse_retry_after
from releasegate.prompts import Prompt

PROMPT = Prompt(name="p", version="1.0.0", model="m", system="sys", template="<{{ input }}>")


def test_version_applies_without_touching_the_original() -> None:
    body = {"model": "f", "temperature": 1, "messages": [{"role": "user", "content": "hi"}]}
    out = apply_version(body, model="m-1", params={"temperature": 0}, prompt=PROMPT)
    assert out["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "<hi>"},
    ]
    assert out["model"] == "m-1" and out["temperature"] == 0
    assert body["messages"] == [{"role": "user", "content": "hi"}] and body["temperature"] == 1


def test_developer_message_is_replaced_and_content_parts_keep_images() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:,"}}
    body = {
        "messages": [
            {"role": "developer", "content": "d"},
            {"role": "user", "content": [{"type": "text", "text": "look"}, image]},
        ]
    }
    out = apply_version(body, model="m", params={}, prompt=PROMPT)
    assert out["messages"][0] == {"role": "system", "content": "sys"}
    assert out["messages"][1]["content"] == [{"type": "text", "text": "<look>"}, image]


def test_template_needing_other_variables_is_a_prompt_error() -> None:
    needs = PROMPT.model_copy(update={"template": "{{ topic }}"})
    with pytest.raises(PromptError, match="topic"):
        apply_version(
            {"messages": [{"role": "user", "content": "x"}]}, model="m", params={}, prompt=needs
        )


def test_feature_and_unit_key_sources() -> None:
    assert feature_of({b"x-releasegate-feature": b"f"}, {"model": "g"}) == ("f", "header")
    assert feature_of({}, {"model": "g"}) == ("g", "model")
    assert unit_key_of({b"x-releasegate-unit": b"u"}, {"user": "v"}) == ("u", False)
    assert unit_key_of({}, {"user": "v"}) == ("v", False)
    key, random = unit_key_of({}, {})
    assert random and len(key) == 32


def test_tally_content_tools_usage_and_malformed() -> None:
    t = StreamTally()
    assert not t.add({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})
    assert t.add({"choices": [{"index": 0, "delta": {"content": "a"}}]})
    call = {"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{"}}
    assert t.add({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]})
    more = {"index": 0, "function": {"arguments": "}"}}
    t.add({"choices": [{"index": 0, "delta": {"tool_calls": [more]}, "finish_reason": "stop"}]})
    assert t.add({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}})
    assert t.response() == {
        "content": "a",
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ],
        "finish_reason": "stop",
    }
    with pytest.raises(StreamBroken) as info:
        t.add([1, 2])
    assert info.value.reason == "malformed"
    with pytest.raises(StreamBroken) as info:
        t.add({"error": {"message": "overloaded"}})
    assert info.value.reason == "upstream_error"


def _calls(*tool_call_deltas: list[dict[str, object]]) -> object:
    t = StreamTally()
    for parts in tool_call_deltas:
        t.add({"choices": [{"index": 0, "delta": {"tool_calls": parts}}]})
    return t.response()["tool_calls"]


def test_tally_assembles_tool_calls_in_the_shape_of_a_plain_answer() -> None:
    fn = {"name": "now", "arguments": ""}
    # parallel calls, their argument pieces interleaved
    assert _calls(
        [{"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}],
        [{"index": 1, "id": "b", "type": "function", "function": fn}],
        [
            {"index": 0, "function": {"arguments": '{"x"'}},
            {"index": 1, "function": {"arguments": "{}"}},
        ],
        [{"index": 0, "function": {"arguments": ": 1}"}}],
    ) == [
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}},
        {"id": "b", "type": "function", "function": {"name": "now", "arguments": "{}"}},
    ]  # fmt: skip
    # a server that streams one call without index: the pieces are call 0
    assert _calls(
        [{"id": "a", "function": {"name": "f", "arguments": "{"}}],
        [{"function": {"arguments": "}"}}],
    ) == [{"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    # an index that is not an integer, pieces that are not text: kept, never a crash
    assert _calls(
        [{"index": "zero", "id": "a", "function": {"name": "f", "arguments": 5}}],
        [{"index": True, "id": 7, "function": {"name": None}}],
    ) == [
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": ""}},
        {"id": None, "type": "function", "function": {"name": None, "arguments": ""}},
    ]
    assert _calls([]) is None


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now=0) > 0
    assert parse_retry_after({"retry-after": "soon"}) is None


def test_which_errors_fail_over() -> None:
    def status(code: int) -> UpstreamError:
        return UpstreamError("status", "x", upstream="u", status=code)

    assert status(500).fail_over and status(429).fail_over and status(408).fail_over
    assert not status(400).fail_over and not status(404).fail_over
    assert UpstreamError("timeout", "x", upstream="u").fail_over
    assert not UpstreamError("unavailable", "x", upstream="u").counts_against_upstream


def test_memory_recorder_is_bounded_and_counts_drops() -> None:
    rec = MemoryRecorder(capacity=3)
    for i in range(5):
        rec.submit({"i": i})
    assert [r["i"] for r in rec.records] == [2, 3, 4]
    assert (rec.submitted, rec.dropped, len(rec)) == (5, 2, 3)
    assert len(rec.drain()) == 3 and len(rec) == 0
