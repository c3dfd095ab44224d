"""The official Node.js ``openai`` SDK against a real gateway process: plain answers,
streams with the usage chunk, streamed tool calls, and a stream cut mid-way.

The SDK and the Node.js 22 runtime it needs are installed by ``scripts/setup``
(``npm ci`` in ``tests/e2e/gateway/node``)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.gateway._process import Served, make_project, serve
from tests.support.gateway_upstream import GatewayUpstream

NODE_DIR = Path(__file__).parent / "node"
NODE = NODE_DIR / "node_modules" / ".bin" / "node"


def _require_node_sdk() -> None:
    if NODE.exists() and (NODE_DIR / "node_modules" / "openai").is_dir():
        return
    msg = f"the Node.js openai SDK is not installed: run scripts/setup (npm ci in {NODE_DIR})"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(msg + " (CI=true: these tests must run)")
    pytest.skip(msg)


@dataclass
class Rig:
    gateway: Served
    upstream: GatewayUpstream

    def node(self, scenario: str) -> dict[str, Any]:
        done = subprocess.run(
            [str(NODE), str(NODE_DIR / "sdk.mjs"), scenario, self.gateway.url + "/v1"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=NODE_DIR,
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    _require_node_sdk()
    root = tmp_path_factory.mktemp("gw-node")
    with GatewayUpstream.run_in_thread(record=True) as up:
        config = {
            "version": 1,
            "providers": {
                "main": {"type": "openai", "base_url": up.base_url, "model": "m-1"},
                "main2": {"type": "openai", "base_url": up.base_url, "model": "m-2"},
            },
            "gateway": {"default_provider": "main"},
        }
        db_url = make_project(root, config, faq_model="m-1")
        with serve(root, db_url) as gateway:
            yield Rig(gateway, up)


def test_plain_answer_with_provenance_headers(rig: Rig) -> None:
    got = rig.node("plain")
    assert got["version"] in ("v1", "v2")
    expected = "Q: hello from node" if got["version"] == "v1" else "hello from node!"
    assert got["content"] == expected
    assert got["servedModel"] == ("m-1" if got["version"] == "v1" else "m-2")
    assert got["requestId"] and got["usage"]["total_tokens"] > 0


def test_stream_ends_with_the_usage_chunk(rig: Rig) -> None:
    got = rig.node("stream")
    assert got["text"] in ("Q: hello from node", "hello from node!")
    assert got["finish"] == "stop"
    assert got["lastChoices"] == [] and got["lastUsage"]["total_tokens"] > 0


def test_streamed_tool_calls_keep_ids_and_names(rig: Rig) -> None:
    for _ in range(2):  # the raw stream, then the SDK's accumulating stream helper
        rig.upstream.tool_call_next("get_weather", '{"city": "Paris"}')
    got = rig.node("tools")
    assert len(got["ids"]) == 1 and got["ids"][0].startswith("call_")
    assert got["names"] == ["get_weather"] and got["args"] == '{"city": "Paris"}'
    assert got["finish"] == "tool_calls" and got["lastChoices"] == []  # the usage chunk
    assert got["accumulated"]["name"] == "get_weather"
    assert got["accumulated"]["arguments"] == '{"city": "Paris"}'
    assert got["accumulated"]["id"].startswith("call_")


def test_a_cut_stream_raises_in_the_sdk(rig: Rig) -> None:
    rig.upstream.cut_stream_after(2)
    got = rig.node("cut")
    assert got["received"] == 2
    assert got["error"] is not None and "failed after 2 chunk" in got["message"]
