"""Chat completions through the gateway: routing, rewriting, pass-through, provenance."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest

from releasegate.gateway import RECORD_FIELDS


async def test_applies_the_version_and_names_it_in_headers_and_record(make_rig: Any) -> None:
    rig = await make_rig()
    resp = await rig.chat(
        "what is 2+2?",
        tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        response_format={"type": "text"},
        seed=7,
        n=1,
        logprobs=False,
        temperature=0.9,
        x_unknown_field={"kept": True},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["choices"][0]["message"]["content"] == "Q: what is 2+2?"
    sent = rig.primary.requests[-1].body
    assert sent["model"] == "m-1" and sent["temperature"] == 0  # the version's pins win
    assert sent["messages"] == [
        {"role": "system", "content": "You are v1."},
        {"role": "user", "content": "Q: what is 2+2?"},
    ]
    for key in ("tools", "response_format", "seed", "n", "logprobs", "x_unknown_field"):
        assert key in sent, key
    assert sent["x_unknown_field"] == {"kept": True}
    h = resp.headers
    assert h["x-releasegate-version"] == "v1" and h["x-releasegate-served-version"] == "v1"
    assert h["x-releasegate-served-model"] == "m-1" and h["x-releasegate-fallback-depth"] == "0"
    assert len(h["x-request-id"]) >= 16 and float(h["x-releasegate-overhead-ms"]) >= 0
    (record,) = rig.recorder.records
    assert tuple(record) == RECORD_FIELDS
    assert record["request_id"] == h["x-request-id"]
    assert record["unit_key"] == "u1" and record["unit_key_random"] is False
    assert record["response"]["content"] == "Q: what is 2+2?"
    assert record["prompt_tokens"] > 0 and record["completion_tokens"] > 0
    assert record["error"] is None and record["status"] == 200 and record["shadow"] is False


async def test_multi_turn_rule_replaces_system_and_renders_last_user_turn(make_rig: Any) -> None:
    rig = await make_rig()
    messages = [
        {"role": "system", "content": "caller system"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "answer"},
        {"role": "user", "content": "second"},
    ]
    resp = await rig.client.post(
        "/v1/chat/completions",
        json={"model": "x", "messages": messages, "user": "alice"},
        headers={"X-Releasegate-Feature": "chat"},
    )
    assert resp.status_code == 200
    sent = rig.primary.requests[-1].body["messages"]
    assert sent == [
        {"role": "system", "content": "You are v1."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "answer"},
        {"role": "user", "content": "Q: second"},
    ]
    assert rig.recorder.records[0]["unit_key"] == "alice"


async def test_no_unit_key_gets_a_random_flagged_one(make_rig: Any) -> None:
    rig = await make_rig()
    resp = await rig.chat(headers={})
    assert resp.status_code == 200
    record = rig.recorder.records[0]
    assert record["unit_key_random"] is True and len(record["unit_key"]) == 32


async def test_errors_are_openai_shaped_with_headers_and_recorded(make_rig: Any) -> None:
    rig = await make_rig()
    bad = await rig.client.post("/v1/chat/completions", content=b"{nope")
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    assert "x-request-id" in bad.headers and "x-releasegate-overhead-ms" in bad.headers
    unknown = await rig.client.post(
        "/v1/chat/completions", json={"model": "nosuch", "messages": []}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "model_not_found"
    assert "nosuch" in unknown.json()["error"]["message"]
    assert (
        "(the feature name came from the request's 'model')" in unknown.json()["error"]["message"]
    )
    by_header = await rig.client.post(
        "/v1/chat/completions",
        json={"model": "m-1", "messages": [{"role": "user", "content": "hi"}]},
        headers={"X-Releasegate-Feature": "nosuch"},
    )
    assert by_header.status_code == 404
    assert by_header.json()["error"]["message"].endswith(
        "(the feature name came from the X-Releasegate-Feature header)"
    )
    no_messages = await rig.client.post("/v1/chat/completions", json={"model": "chat"})
    assert no_messages.status_code == 400 and no_messages.json()["error"]["param"] == "messages"
    stages = [r["error_stage"] for r in rig.recorder.records]
    assert stages == ["request", "route", "route", "request"]


async def test_caller_request_id_is_kept(make_rig: Any) -> None:
    rig = await make_rig()
    resp = await rig.chat(headers={"X-Request-Id": "req-123", "X-Releasegate-Unit": "u"})
    assert resp.headers["x-request-id"] == "req-123"
    assert rig.recorder.records[0]["request_id"] == "req-123"


async def test_upstream_rejection_is_passed_on_without_fallback(make_rig: Any) -> None:
    from releasegate.gateway import FallbackChain

    rig = await make_rig(fallbacks={"chat": FallbackChain(models=("m-backup",))})
    rig.primary.fail_next(400, message="bad tool schema")
    resp = await rig.chat()
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "bad tool schema"
    assert rig.backup.count == 0
    assert rig.recorder.records[0]["error_stage"] == "upstream"


async def test_canary_share_and_stickiness(make_rig: Any) -> None:
    rig = await make_rig(canary_share=0.5)
    seen: dict[str, str] = {}
    for i in range(40):
        for _ in range(2):
            resp = await rig.chat(headers={"X-Releasegate-Unit": f"unit-{i}"})
            version = resp.headers["x-releasegate-version"]
            assert seen.setdefault(f"unit-{i}", version) == version
    assert set(seen.values()) == {"v1", "v2"}
    v2 = [r for r in rig.recorder.records if r["assigned_version"] == "v2"]
    assert all(r["arm"] == "canary" and r["served_model"] == "m-2" for r in v2)


async def test_models_embeddings_health_metrics(make_rig: Any) -> None:
    rig = await make_rig()
    models = await rig.client.get("/v1/models")
    assert {m["id"] for m in models.json()["data"]} >= {"m-1", "m-backup"}
    emb = await rig.client.post("/v1/embeddings", json={"model": "m-1", "input": ["ab", "c"]})
    assert emb.status_code == 200 and len(emb.json()["data"]) == 2
    assert rig.primary.requests[-1].path == "/v1/embeddings"
    assert (await rig.client.get("/healthz")).status_code == 200
    await rig.chat()
    text = (await rig.client.get("/metrics")).text
    assert "gen_ai_client_operation_duration_seconds_bucket" in text
    assert 'releasegate_gateway_requests_total{feature="chat",route="chat",status="200"' in text
    assert "releasegate_gateway_overhead_seconds" in text
    assert 'gen_ai_token_type="input"' in text
    missing = await rig.client.get("/v1/nothing")
    assert missing.status_code == 404 and json.loads(missing.content)["error"]


@pytest.mark.parametrize(
    ("extra", "check"),
    [
        (
            '"seed": 123456789012345678901234567890',
            lambda s: s["seed"] == 123456789012345678901234567890,
        ),
        ('"x_ratio": NaN', lambda s: math.isnan(s["x_ratio"])),
        ('"x_limit": Infinity', lambda s: s["x_limit"] == math.inf),
        ('"x_note": "caf\\u00e9 \\ud83d\\ude00"', lambda s: s["x_note"] == "café 😀"),
        ('"x_big": 18446744073709551616', lambda s: s["x_big"] == 2**64),
        ('"x_float": 0.30000000000000004', lambda s: s["x_float"] == 0.30000000000000004),
    ],
)
async def test_unusual_json_in_unknown_fields_reaches_the_upstream_unchanged(
    make_rig: Any, extra: str, check: Any
) -> None:
    rig = await make_rig()
    raw = '{"model": "chat", "messages": [{"role": "user", "content": "hi"}], ' + extra + "}"
    resp = await rig.client.post(
        "/v1/chat/completions",
        content=raw.encode(),
        headers={"X-Releasegate-Unit": "u1", "Content-Type": "application/json"},
    )
    assert resp.status_code == 200, resp.text
    sent = rig.primary.requests[-1].body
    assert check(sent), sent
    assert sent["messages"][-1]["content"] == "Q: hi"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{nope", "request body is not valid JSON (line 1, column 2: Expecting property name"),
        (
            b'{"model": "chat", "messages": [',
            "is not valid JSON (line 1, column 32: Expecting value)",
        ),
        (b"hello", "is not valid JSON (line 1, column 1: Expecting value)"),
        (b"", "is not valid JSON (line 1, column 1: Expecting value)"),
        (b"[1, 2]", "request body must be a JSON object, not an array"),
        (b'"chat"', "must be a JSON object, not a string"),
        (b"12.5", "must be a JSON object, not a number"),
        (b"true", "must be a JSON object, not a boolean"),
        (b"null", "must be a JSON object, not null"),
    ],
)
async def test_a_body_that_is_not_a_json_object_says_what_and_where(
    make_rig: Any, body: bytes, message: str
) -> None:
    rig = await make_rig()
    answer = await rig.client.post("/v1/chat/completions", content=body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and message in error["message"], error
    assert rig.recorder.records[-1]["error_stage"] == "request"
    assert not rig.primary.requests  # nothing reached the upstream


async def test_metric_labels_never_take_a_name_the_caller_made_up(make_rig: Any) -> None:
    # Any caller can ask for any model name: a label per name would grow /metrics
    # without bound. A request that does not route counts under the reserved feature.
    rig = await make_rig()
    await rig.chat()
    made_up = [f"made-up-{i}" for i in range(40)] + ["Bad Name!!", "x" * 300, "_gateway"]
    for name in made_up:
        answer = await rig.client.post(
            "/v1/chat/completions",
            json={"model": name, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert answer.status_code in (400, 404)
    no_feature = await rig.client.post("/v1/chat/completions", content=b"{nope")
    assert no_feature.status_code == 400
    text = (await rig.client.get("/metrics")).text
    features = set(re.findall(r'[{,]feature="([^"]*)"', text))
    assert features == {"chat", "_gateway"}, sorted(features)[:10]
    assert "made-up" not in text and "Bad Name" not in text
    assert (
        'releasegate_gateway_requests_total{feature="_gateway",route="chat",status="404",'
        f'version=""}} {len(made_up)}.0'
    ) in text


async def test_metrics_have_no_empty_series_for_what_a_request_never_has(make_rig: Any) -> None:
    # A plain request has no time to first chunk; a refused one has no tokens. (The
    # stream and the plain requests differ in no other label, so they share the rest.)
    rig = await make_rig()
    await rig.chat()
    await rig.chat()
    streamed = await rig.chat(stream=True)
    assert streamed.status_code == 200 and b"[DONE]" in streamed.content
    refused = await rig.client.post("/v1/chat/completions", json={"model": "nosuch"})
    assert refused.status_code == 400
    text = (await rig.client.get("/metrics")).text
    counts = re.findall(
        r"^(gen_ai_client_(?:operation_time_to_first_chunk_seconds|token_usage))_count"
        r"\{([^}]*)\} (\S+)$",
        text,
        re.M,
    )
    first_chunk = [float(n) for name, _, n in counts if "time_to_first_chunk" in name]
    assert first_chunk == [1.0], counts  # the stream's only
    tokens = {labels: float(n) for name, labels, n in counts if name.endswith("token_usage")}
    assert tokens and all(n == 3.0 for n in tokens.values()), tokens
    assert all('feature="chat"' in labels for labels in tokens), tokens
