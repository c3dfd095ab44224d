"""Tools through the anthropic provider: the real Anthropic SDK against a local Messages
API server (aiohttp) that records each request and answers as scripted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from releasegate.datasets.case import ToolResult
from releasegate.errors import ProviderError
from releasegate.evals._tool_rounds import run_exchange
from releasegate.llm import ChatResponse
from releasegate.providers import ChatRequest
from releasegate.providers.anthropic import AnthropicProvider

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
TOOLS = (
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": WEATHER_SCHEMA,
            "strict": True,
        },
    },
    {"type": "function", "function": {"name": "now"}},
)


class MessagesServer:
    """A Messages API endpoint: ``content`` is what the next answer's content is (the
    first of ``queue`` when there is one, taken from it)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.content: list[dict[str, Any]] = [{"type": "text", "text": "Hi"}]
        self.queue: list[list[dict[str, Any]]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.bodies.append(body)
        if self.queue:
            self.content = self.queue.pop(0)
        stop = "tool_use" if any(b.get("type") == "tool_use" for b in self.content) else "end_turn"
        return web.json_response(
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": self.content,
                "stop_reason": stop,
                "usage": {"input_tokens": 10, "output_tokens": 5},
            }
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[MessagesServer]:
    s = MessagesServer()
    await s.start()
    try:
        yield s
    finally:
        await s.stop()


@pytest.fixture(params=["aiohttp", "httpx"])
async def provider(
    request: pytest.FixtureRequest, server: MessagesServer
) -> AsyncIterator[AnthropicProvider]:
    p = AnthropicProvider(
        api_key="k", model="claude-sonnet-4-5-20250929", base_url=server.url, client=request.param
    )
    try:
        yield p
    finally:
        await p.aclose()


def req(**kwargs: Any) -> ChatRequest:
    return ChatRequest(messages=({"role": "user", "content": "Weather?"},), model="", **kwargs)


async def test_tools_are_mapped_to_input_schema(
    provider: AnthropicProvider, server: MessagesServer
) -> None:
    await provider.complete(req(tools=TOOLS))
    body = server.bodies[-1]
    assert body["tools"] == [
        {"name": "get_weather", "description": "Weather in a city", "input_schema": WEATHER_SCHEMA},
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert "tool_choice" not in body


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        (
            {"type": "function", "function": {"name": "now"}},
            None,
            {"type": "tool", "name": "now"},
        ),
        ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("auto", True, {"type": "auto"}),
        (None, None, None),
    ],
)
async def test_tool_choice_mapping(
    provider: AnthropicProvider,
    server: MessagesServer,
    choice: Any,
    parallel: bool | None,
    expected: Any,
) -> None:
    params = {} if parallel is None else {"parallel_tool_calls": parallel}
    await provider.complete(req(tools=TOOLS, tool_choice=choice, params=params))
    body = server.bodies[-1]
    assert body.get("tool_choice") == expected
    assert "parallel_tool_calls" not in body


@pytest.mark.parametrize(
    ("content", "text", "calls"),
    [
        (
            [
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Pé"},
                },
            ],
            "Checking.",
            [("toolu_1", "get_weather", {"city": "Pé"})],
        ),
        (
            [
                {"type": "tool_use", "id": "t1", "name": "now", "input": {}},
                {"type": "tool_use", "id": "t2", "name": "get_weather", "input": {"city": "X"}},
            ],
            "",
            [("t1", "now", {}), ("t2", "get_weather", {"city": "X"})],
        ),
        ([{"type": "text", "text": "Sunny"}], "Sunny", []),
    ],
)
async def test_tool_use_blocks_become_tool_calls(
    provider: AnthropicProvider,
    server: MessagesServer,
    content: list[dict[str, Any]],
    text: str,
    calls: list[tuple[str, str, dict[str, Any]]],
) -> None:
    server.content = content
    response = await provider.complete(req(tools=TOOLS))
    assert response.text == text
    assert len(response.tool_calls) == len(calls)
    for got, (id_, name, args) in zip(response.tool_calls, calls, strict=True):
        assert got["id"] == id_ and got["type"] == "function"
        assert got["function"]["name"] == name
        assert isinstance(got["function"]["arguments"], str)
        assert json.loads(got["function"]["arguments"]) == args


async def test_a_tool_choice_that_cannot_be_mapped_is_a_provider_error(
    provider: AnthropicProvider,
) -> None:
    with pytest.raises(ProviderError, match="unknown tool_choice 'sometimes'"):
        await provider.complete(req(tools=TOOLS, tool_choice="sometimes"))


def call(id_: str | None, name: str, arguments: Any = '{"city": "Oslo"}') -> dict[str, Any]:
    out: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if id_ is not None:
        out["id"] = id_
    return out


def use(id_: str, name: str, input_: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": id_, "name": name, "input": input_}


def result(id_: str, content: Any) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": id_, "content": content}


@pytest.mark.parametrize(
    ("history", "system", "expected"),
    [
        pytest.param(
            [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Oslo and the time?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [call("c1", "get_weather"), call("c2", "now", "{}")],
                },
                {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 3}'},
                {"role": "tool", "tool_call_id": "c2", "content": "12:00"},
            ],
            "Be brief.",
            [
                {"role": "user", "content": "Weather in Oslo and the time?"},
                {
                    "role": "assistant",
                    "content": [use("c1", "get_weather", {"city": "Oslo"}), use("c2", "now", {})],
                },
                {"role": "user", "content": [result("c1", '{"temp": 3}'), result("c2", "12:00")]},
            ],
            id="parallel-calls-merge-their-results",
        ),
        pytest.param(
            [
                {"role": "developer", "content": "Use tools."},
                {"role": "user", "content": "Oslo?", "name": "ann"},
                {
                    "role": "assistant",
                    "content": "Let me check.",
                    "tool_calls": [call("toolu_9", "get_weather", '{"city": "Pé \\"x\\""}')],
                },
                {"role": "tool", "tool_call_id": "toolu_9", "content": "sunny"},
                {"role": "user", "content": "And tomorrow?"},
            ],
            "Use tools.",
            [
                {"role": "user", "content": "Oslo?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Let me check."},
                        use("toolu_9", "get_weather", {"city": 'Pé "x"'}),
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        result("toolu_9", "sunny"),
                        {"type": "text", "text": "And tomorrow?"},
                    ],
                },
            ],
            id="text-and-call-then-result-then-user-text",
        ),
        pytest.param(
            [
                {"role": "user", "content": "Time?"},
                {"role": "assistant", "content": "", "tool_calls": [call("a", "now", "")]},
                {
                    "role": "tool",
                    "tool_call_id": "a",
                    "content": [{"type": "text", "text": "12"}, {"type": "text", "text": ":00"}],
                },
                {"role": "assistant", "content": "It is noon."},
                {"role": "user", "content": "Thanks"},
            ],
            None,
            [
                {"role": "user", "content": "Time?"},
                {"role": "assistant", "content": [use("a", "now", {})]},
                {
                    "role": "user",
                    "content": [
                        result(
                            "a", [{"type": "text", "text": "12"}, {"type": "text", "text": ":00"}]
                        )
                    ],
                },
                {"role": "assistant", "content": "It is noon."},
                {"role": "user", "content": "Thanks"},
            ],
            id="empty-text-and-arguments-list-result-then-plain-turns",
        ),
    ],
)
async def test_history_tool_calls_and_results_are_mapped(
    provider: AnthropicProvider,
    server: MessagesServer,
    history: list[dict[str, Any]],
    system: str | None,
    expected: list[dict[str, Any]],
) -> None:
    await provider.complete(ChatRequest(messages=tuple(history), model="", tools=TOOLS))
    body = server.bodies[-1]
    assert body.get("system") == system
    assert body["messages"] == expected


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            {"role": "assistant", "tool_calls": [call(None, "get_weather")]},
            r"case 'c-7': messages\[1\]\.tool_calls\[0\] \(get_weather\) has no id",
        ),
        (
            {"role": "assistant", "tool_calls": [call("c1", "get_weather", '"Oslo"')]},
            r"case 'c-7': messages\[1\]\.tool_calls\[0\] \(get_weather\) arguments are JSON "
            r"str, not an object",
        ),
        (
            {"role": "assistant", "tool_calls": [call("c1", "now", "{}"), call("c2", "x", "{no")]},
            r"messages\[1\]\.tool_calls\[1\] \(x\) arguments are not JSON \(Expecting",
        ),
        (
            {"role": "assistant", "tool_calls": [call("c1", "now", {"city": "Oslo"})]},
            r"messages\[1\]\.tool_calls\[0\] \(now\) arguments are dict, not a JSON string",
        ),
        (
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function"}]},
            r"messages\[1\]\.tool_calls\[0\] has no function name",
        ),
        (
            {"role": "assistant", "tool_calls": {"id": "c1"}},
            r"messages\[1\]\.tool_calls is not a list",
        ),
        (
            {"role": "assistant", "tool_calls": ["get_weather"]},
            r"messages\[1\]\.tool_calls\[0\] is not a mapping",
        ),
        (
            {"role": "tool", "content": "3 degrees"},
            r"messages\[1\] \(tool\) has no tool_call_id",
        ),
    ],
)
async def test_a_history_that_cannot_be_mapped_is_a_clear_provider_error(
    provider: AnthropicProvider, server: MessagesServer, bad: dict[str, Any], message: str
) -> None:
    request = ChatRequest(
        messages=({"role": "user", "content": "Oslo?"}, bad, {"role": "user", "content": "So?"}),
        model="",
        case_id="c-7",
    )
    with pytest.raises(ProviderError, match=message) as info:
        await provider.complete(request)
    assert str(info.value).startswith("anthropic: ")
    assert not info.value.retryable
    assert server.bodies == []  # nothing was sent


async def test_tool_rounds_send_tool_result_blocks_with_the_call_ids(
    provider: AnthropicProvider, server: MessagesServer
) -> None:
    # The eval engine's tool rounds (one turn's exchange) with this provider as target.
    server.queue = [
        [
            {"type": "text", "text": "Checking."},
            use("toolu_p", "get_weather", {"city": "Paris"}),
            use("toolu_o", "get_weather", {"city": "Oslo"}),
        ],
        [use("toolu_n", "now", {})],
        [{"type": "text", "text": "Paris 18, Oslo 3, at noon."}],
    ]
    results = {
        "get_weather": ToolResult.model_validate(
            {
                "match": [
                    {"arguments": {"city": "Paris"}, "result": {"temp_c": 18}},
                    {"arguments": {"city": "Oslo"}, "result": "3 degrees"},
                ]
            }
        ),
        "now": ToolResult.model_validate("12:00"),
    }

    async def send(request: ChatRequest) -> ChatResponse | str:
        return await provider.complete(request)

    exchange = await run_exchange(
        req(tools=TOOLS), send, results=results, max_rounds=5, where="case 'c'"
    )
    assert exchange.error is None and exchange.unanswered == ()
    answer = exchange.answer()
    assert answer is not None and answer.text == "Paris 18, Oslo 3, at noon."
    assert [c["id"] for c in answer.tool_calls] == ["toolu_p", "toolu_o", "toolu_n"]
    assert answer.usage.prompt_tokens == 30  # three calls of 10 input tokens each
    assert len(server.bodies) == 3
    assert server.bodies[1]["messages"] == [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                use("toolu_p", "get_weather", {"city": "Paris"}),
                use("toolu_o", "get_weather", {"city": "Oslo"}),
            ],
        },
        {
            "role": "user",
            "content": [
                result("toolu_p", '{"temp_c": 18}'),
                result("toolu_o", "3 degrees"),
            ],
        },
    ]
    assert server.bodies[2]["messages"][3:] == [
        {"role": "assistant", "content": [use("toolu_n", "now", {})]},
        {"role": "user", "content": [result("toolu_n", "12:00")]},
    ]


async def test_a_call_without_a_result_is_not_answered_upstream(
    provider: AnthropicProvider, server: MessagesServer
) -> None:
    server.queue = [[use("toolu_1", "now", {})]]

    async def send(request: ChatRequest) -> ChatResponse | str:
        return await provider.complete(request)

    exchange = await run_exchange(
        req(tools=TOOLS), send, results={}, max_rounds=5, where="case 'c'"
    )
    assert exchange.unanswered == ("now",) and len(server.bodies) == 1
