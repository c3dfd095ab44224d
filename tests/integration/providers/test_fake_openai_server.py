"""The fake OpenAI server speaks the protocol the official SDK expects, in all its modes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import openai

from tests.support.openai_server import FakeOpenAIServer

ROOT = Path(__file__).resolve().parents[3]


async def test_sdk_round_trip_stream_and_models(openai_server: FakeOpenAIServer) -> None:
    client = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="k", max_retries=0)
    try:
        plain = await client.chat.completions.create(
            model="m-1", messages=[{"role": "user", "content": "ping"}]
        )
        assert plain.choices[0].message.content == "ping"
        assert plain.usage is not None and plain.usage.total_tokens == 2

        text = "a streamed answer that spans more than one chunk"
        openai_server.reply_next(text)
        stream = await client.chat.completions.create(
            model="m-1",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        pieces: list[str] = []
        usage_seen = False
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)
            usage_seen = usage_seen or chunk.usage is not None
        assert "".join(pieces) == text and len(pieces) > 1 and usage_seen

        models = await client.models.list()
        assert [m.id for m in models.data] == [openai_server.model]
    finally:
        await client.close()
    assert openai_server.count == 3
    assert openai_server.requests[1].body["stream"] is True


async def test_scripted_queue_is_consumed_in_order(openai_server: FakeOpenAIServer) -> None:
    openai_server.fail_next(500, times=2)
    openai_server.reply_next("third")
    async with httpx.AsyncClient(base_url=openai_server.base_url) as http:
        body = {"model": "m", "messages": [{"role": "user", "content": "q"}]}
        statuses = [(await http.post("/chat/completions", json=body)).status_code for _ in range(2)]
        third = (await http.post("/chat/completions", json=body)).json()
        fourth = (await http.post("/chat/completions", json=body)).json()
        bad = await http.post("/chat/completions", content=b"not json")
    assert statuses == [500, 500]
    assert third["choices"][0]["message"]["content"] == "third"
    assert fourth["choices"][0]["message"]["content"] == "q"
    assert bad.status_code == 400
    openai_server.reset()
    assert openai_server.count == 0 and openai_server.requests == []


def test_run_in_thread_for_sync_callers() -> None:
    with FakeOpenAIServer.run_in_thread(reply="fixed") as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        answer = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "anything"}]
        )
        client.close()
    assert answer.choices[0].message.content == "fixed"
    assert server.count == 1


def test_standalone_process_mode() -> None:
    command = [sys.executable, "-m", "tests.support.openai_server", "--port", "0", "--reply", "hi"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            assert match, line
            reply = httpx.post(
                match.group(0) + "/v1/chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
                timeout=10,
            )
            assert reply.json()["choices"][0]["message"]["content"] == "hi"
        finally:
            proc.terminate()
