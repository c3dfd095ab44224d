"""A real gateway process (``releasegate serve --gateway``) in front of a real mock
upstream, driven by the official ``openai`` SDK."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from releasegate.control.deployments import DeploymentService
from releasegate.deploy.names import GATEWAY_FEATURE
from releasegate.online.scoring import interaction_sample
from releasegate.ports import Interaction
from releasegate.scorers import AssertSpec, CheckBuilder, score_sample
from releasegate.store.database import open_database
from tests.e2e.deploy._cli import CLI, free_port
from tests.support.gateway_upstream import GatewayUpstream

PROMPT = {
    "name": "chat",
    "version": "1.0.0",
    "model": "m-1",
    "system": "You are v1.",
    "template": "Q: {{ input }}",
}
PROMPT2 = {
    **PROMPT,
    "name": "chat2",
    "model": "m-2",
    "system": "You are v2.",
    "template": "{{ input }}!",
}


@dataclass
class Running:
    url: str
    upstream: GatewayUpstream
    backup: GatewayUpstream
    log: Path
    db_url: str

    def metric(self, name: str) -> float:
        text = httpx.get(self.url + "/metrics").text
        match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.M)
        assert match, f"{name} not in metrics"
        return float(match.group(1))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("gw")
    with (
        GatewayUpstream.run_in_thread(record=True) as up,
        GatewayUpstream.run_in_thread(record=True) as backup,
    ):
        (root / "prompts").mkdir()
        (root / "prompts" / "chat.yaml").write_text(yaml.safe_dump(PROMPT))
        (root / "prompts" / "chat2.yaml").write_text(yaml.safe_dump(PROMPT2))
        config = {
            "version": 1,
            "providers": {
                "main": {"type": "openai", "base_url": up.base_url, "model": "m-1", "timeout_s": 5},
                "main2": {"type": "openai", "base_url": up.base_url, "model": "m-2"},
                "backup": {"type": "openai", "base_url": backup.base_url, "model": "m-b"},
                # Same server, its own breaker: only feature "faq" calls it.
                "flaky": {"type": "openai", "base_url": up.base_url, "model": "m-3"},
            },
            "prompts": "prompts/",
            "gateway": {
                "default_provider": "main",
                "fallbacks": {"faq": {"models": ["m-b"], "answer": "fixed answer"}},
                "breaker": {"min_volume": 4, "failure_rate": 0.5, "open_s": 1.0},
                "stall_timeout_s": 0.5,
            },
        }
        (root / "releasegate.yaml").write_text(yaml.safe_dump(config))
        db_url = f"sqlite:///{root / 'rg.sqlite'}"
        db = open_database(db_url, create=True)
        db.upgrade()
        svc = DeploymentService(db.uow())
        svc.register("chat", "v1", prompt="chat@1.0.0", model="m-1", actor="t")
        svc.approve("chat", "v1", actor="t")
        svc.promote("chat", "v1", actor="t")
        svc.register("chat", "v2", prompt="chat2@1.0.0", model="m-2", actor="t")
        svc.approve("chat", "v2", actor="t")
        svc.canary("chat", "v2", actor="t", share=0.3)
        svc.register("faq", "f1", prompt="chat@1.0.0", model="m-3", actor="t")
        svc.approve("faq", "f1", actor="t")
        svc.promote("faq", "f1", actor="t")
        db.close()
        port = free_port()
        log = root / "gateway.log"
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [
                    *CLI,
                    "serve",
                    "--gateway",
                    "--port",
                    str(port),
                    "--db",
                    db_url,
                    "--config",
                    str(root / "releasegate.yaml"),
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=root,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None:
                    pytest.fail(f"gateway exited: {log.read_text()}")
                time.sleep(0.1)
            else:
                pytest.fail("gateway did not become ready")
            yield Running(url, up, backup, log, db_url)
        finally:
            while _CLIENTS:
                _CLIENTS.pop().close()
            proc.terminate()
            proc.wait(timeout=30)


_CLIENTS: list[openai.OpenAI] = []


def client(g: Running, unit: str = "u1") -> openai.OpenAI:
    made = openai.OpenAI(
        base_url=g.url + "/v1",
        api_key="unused",
        max_retries=0,
        default_headers={"X-Releasegate-Unit": unit},
    )
    _CLIENTS.append(made)  # closed with the gateway: an open pool warns when collected
    return made


def test_sync_sdk_sticky_and_provenance(gateway: Running) -> None:
    seen: dict[str, str] = {}
    for i in range(30):
        for _ in range(2):
            raw = client(gateway, f"unit-{i}").chat.completions.with_raw_response.create(
                model="chat", messages=[{"role": "user", "content": "hi"}]
            )
            version = raw.headers["x-releasegate-version"]
            assert seen.setdefault(f"unit-{i}", version) == version
            completion = raw.parse()
            expected = "Q: hi" if version == "v1" else "hi!"
            assert completion.choices[0].message.content == expected
            assert raw.headers["x-releasegate-served-model"] == (
                "m-1" if version == "v1" else "m-2"
            )
    assert set(seen.values()) == {"v1", "v2"}


async def test_async_sdk_stream_with_usage(gateway: Running) -> None:
    aclient = openai.AsyncOpenAI(
        base_url=gateway.url + "/v1",
        api_key="x",
        max_retries=0,
        default_headers={"X-Releasegate-Unit": "u-async"},
    )
    text, usage = "", None
    try:
        stream = await aclient.chat.completions.create(
            model="chat",
            messages=[{"role": "user", "content": "stream me please"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            else:
                usage = chunk.usage
    finally:
        await aclient.close()  # closed even when the stream fails: no leak into later tests
    assert text in ("Q: stream me please", "stream me please!"), text
    assert usage is not None and usage.total_tokens > 0


def _stored(gateway: Running, request_id: str) -> Interaction:
    # Written in batches by the gateway's writer process: poll for it.
    for _ in range(300):
        db = open_database(gateway.db_url)
        try:
            with db.uow(write=False) as uow:
                found = uow.interactions.by_request_ids([request_id])
        finally:
            db.close()
        if request_id in found:
            return found[request_id]
        time.sleep(0.1)
    pytest.fail(f"interaction {request_id} was not stored")


def test_streamed_tool_calls_keep_ids_and_names(gateway: Running) -> None:
    calls = [("get_weather", '{"city": "Paris"}'), ("now", "{}")]
    gateway.upstream.tool_calls_next(calls, text="Checking.")
    gateway.backup.tool_calls_next(calls, text="Checking.")  # if routed there
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        },
        {"type": "function", "function": {"name": "now"}},
    ]
    stream = client(gateway, "u-tools").chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "weather?"}], tools=tools, stream=True
    )
    request_id = stream.response.headers["x-request-id"]
    ids, names, args, text = set(), set(), "", ""
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        for call in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            if call.id:
                ids.add(call.id)
            if call.function and call.function.name:
                names.add(call.function.name)
            if call.function and call.function.arguments:
                args += call.function.arguments
    assert len(ids) == 2 and names == {"get_weather", "now"}
    assert args == '{"city": "Paris"}{}' and text == "Checking."
    gateway.backup.reset()
    # The stored interaction has the text, the assembled calls and the tools offered, and
    # the online tool-call checks grade it as they grade an eval's answer.
    stored = _stored(gateway, request_id)
    assert stored.response == "Checking." and stored.tools == tools
    assert stored.tool_calls is not None
    assert [c["id"] for c in stored.tool_calls] == sorted(ids)
    assert [c["function"] for c in stored.tool_calls] == [
        {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"name": "now", "arguments": "{}"},
    ]
    builder = CheckBuilder()
    checks = [
        builder.build(AssertSpec.model_validate(spec))
        for spec in (
            {"type": "tool-call", "value": "get_weather", "arguments": {"city": "Paris"}},
            {"type": "no-tool-call"},
            {"type": "valid-tool-call"},
        )
    ]
    scores = asyncio.run(score_sample(interaction_sample(stored), checks))
    assert [s.value for s in scores] == [1.0, 0.0, 1.0]


def test_cut_stream_raises_in_the_sdk(gateway: Running) -> None:
    # u-cut is on v1 or v2; both are served by the same upstream.
    gateway.upstream.cut_stream_after(2)
    stream = client(gateway, "u-cut").chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "go"}], stream=True
    )
    got = []
    with pytest.raises(openai.APIError, match="failed after 2 chunk"):
        for chunk in stream:
            got.append(chunk)
    assert len(got) == 2


def test_stall_raises_in_the_sdk(gateway: Running) -> None:
    gateway.upstream.stall_stream_after(1, 3.0)
    stream = client(gateway, "u-stall").chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "go"}], stream=True
    )
    with pytest.raises(openai.APIError, match=r"no stream chunk within 0\.5 s"):
        list(stream)


def test_fallback_then_breaker_open_half_open_closed(gateway: Running) -> None:
    c = client(gateway, "u-fallback")

    def ask() -> dict[str, str]:
        raw = c.chat.completions.with_raw_response.create(
            model="faq", messages=[{"role": "user", "content": "x"}]
        )
        return dict(raw.headers)

    def breaker() -> str:
        text = httpx.get(gateway.url + "/metrics").text
        match = re.search(r'releasegate_gateway_breaker_state\{upstream="flaky"\} (\S+)', text)
        return match.group(1) if match else "absent"

    gateway.upstream.fail_next(500, times=4)
    for _ in range(4):
        headers = ask()
        assert headers["x-releasegate-fallback-depth"] == "1"
        assert headers["x-releasegate-served-model"] == "m-b"
        assert headers["x-releasegate-version"] == "f1"
    assert breaker() == "2.0"  # open: calls skip "flaky" without reaching it
    before = gateway.upstream.count
    assert ask()["x-releasegate-served-model"] == "m-b"
    assert gateway.upstream.count == before
    time.sleep(1.05)  # open_s elapsed: half-open; the probe fails and re-opens it
    gateway.upstream.fail_next(500)
    assert ask()["x-releasegate-fallback-depth"] == "1"
    assert gateway.upstream.count == before + 1 and breaker() == "2.0"
    time.sleep(1.05)  # the next probe succeeds and closes it
    assert ask()["x-releasegate-fallback-depth"] == "0"
    assert breaker() == "0.0"
    # Both upstreams failing: the fixed answer, depth 2.
    gateway.upstream.fail_next(500)
    gateway.backup.fail_next(500)
    headers = ask()
    assert headers["x-releasegate-fallback-depth"] == "2"
    assert headers["x-releasegate-served-model"] == "releasegate-fallback"


def test_errors_reach_the_sdk_with_headers(gateway: Running) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client(gateway).chat.completions.create(
            model="nosuch", messages=[{"role": "user", "content": "x"}]
        )
    assert "x-request-id" in info.value.response.headers
    assert info.value.response.json()["error"]["code"] == "model_not_found"


def test_requests_in_equal_records_out(gateway: Running) -> None:
    before = gateway.metric("releasegate_gateway_records_submitted")
    c = client(gateway, "u-count")
    for i in range(25):
        c.chat.completions.create(model="chat", messages=[{"role": "user", "content": f"{i}"}])
    with pytest.raises(openai.BadRequestError) as info:
        c.chat.completions.create(model="chat", messages="nope")  # type: ignore[arg-type]
    refused_id = info.value.response.headers["x-request-id"]
    assert gateway.metric("releasegate_gateway_records_submitted") == before + 26
    assert gateway.metric("releasegate_gateway_records_dropped") == 0
    # ... and each one reaches the store (written in batches by the gateway's writer
    # process) with the gateway's own facts in its metadata; the malformed request was
    # refused before it was attributed to a feature: it is stored under "_gateway"
    stored: list[Interaction] = []
    refused: list[Interaction] = []
    for _ in range(300):
        db = open_database(gateway.db_url)
        try:
            with db.uow(write=False) as uow:
                found = uow.interactions.for_feature("chat", limit=10_000)
                other = uow.interactions.for_feature(GATEWAY_FEATURE, limit=10_000)
        finally:
            db.close()
        stored = [i for i in found if i.unit_key == "u-count"]
        refused = [i for i in other if i.request_id == refused_id]
        if len(stored) >= 25 and refused:
            break
        time.sleep(0.1)
    assert len(stored) == 25 and len(refused) == 1
    assert refused[0].metadata and refused[0].metadata["status"] == 400
    assert gateway.metric("releasegate_gateway_records_written") >= 26
    assert {i.arm for i in stored} <= {"incumbent", "canary"}
    assert {i.response for i in stored} != {None} and all(i.error is None for i in stored)
    assert all(i.prompt and i.prompt[-1]["role"] == "user" for i in stored)
    assert all(i.metadata and i.metadata["unit_key_random"] is False for i in stored)


def test_serve_with_a_missing_database_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text("version: 1\n")
    result = subprocess.run(
        [
            *CLI,
            "serve",
            "--gateway",
            "--db",
            f"sqlite:///{tmp_path / 'none.sqlite'}",
            "--config",
            str(tmp_path / "releasegate.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "none.sqlite" in result.stderr


def _upstream_request(g: Running, marker: str) -> dict[str, str]:
    """The headers (lowercase names) of the upstream request whose messages hold
    ``marker``."""
    for r in reversed(g.upstream.requests):
        if isinstance(r.body, dict) and marker in str(r.body.get("messages")):
            return {k.lower(): v for k, v in r.headers.items()}
    raise AssertionError(f"no upstream request with {marker!r}")


@pytest.mark.parametrize("stream", [False, True])
def test_trace_context_passes_through_unchanged_or_not_at_all(
    gateway: Running, stream: bool
) -> None:
    trace = "0af7651916cd43dd8448eb211c80319c"
    cases = {
        "valid": (f"00-{trace}-b7ad6b7169203331-01", "congo=t61rcWkgMzE", True),
        "unsampled": (f"00-{trace}-b7ad6b7169203331-00", None, True),
        "invalid": (f"00-{trace}-0000000000000000-01", "congo=x", False),
    }
    for name, (parent, state, forwarded) in cases.items():
        marker = f"tp-{name}-{stream}"
        headers = {"traceparent": parent, **({"tracestate": state} if state else {})}
        reply = client(gateway, "u-trace").chat.completions.create(
            model="chat",
            messages=[{"role": "user", "content": marker}],
            stream=stream,
            extra_headers=headers,
        )
        if stream:
            assert "".join(c.choices[0].delta.content or "" for c in reply if c.choices)  # type: ignore[union-attr]
        sent = _upstream_request(gateway, marker)
        if forwarded:
            assert sent.get("traceparent") == parent and sent.get("tracestate") == state
        else:
            assert "traceparent" not in sent and "tracestate" not in sent


def test_a_stream_without_usage_asked_is_recorded_with_the_real_usage(gateway: Running) -> None:
    rid = "usage-not-asked"
    chunks = list(
        client(gateway, "u-usage").chat.completions.create(
            model="chat",
            messages=[{"role": "user", "content": rid}],
            stream=True,
            extra_headers={"X-Request-Id": rid},
        )
    )
    # the caller sees the stream it asked for: content chunks only, no usage
    assert chunks and all(c.choices and c.usage is None for c in chunks)
    body = next(r.body for r in gateway.upstream.requests if rid in str(r.body))
    assert body["stream_options"] == {"include_usage": True}
    found: dict[str, Interaction] = {}
    for _ in range(300):
        db = open_database(gateway.db_url)
        try:
            with db.uow(write=False) as uow:
                found = uow.interactions.by_request_ids([rid])
        finally:
            db.close()
        if found:
            break
        time.sleep(0.1)
    record = found[rid]
    assert record.prompt_tokens > 0 and record.completion_tokens > 0
    assert record.metadata is not None and "usage_estimated" not in record.metadata
