"""Record every answer of a provider to a JSONL file, for later ``replay``.

Each successful call becomes one line::

    {"case_id": "greet-1", "repeat": 0, "key": "3f2a...", "model": "gpt-4.1-mini-2025-04-14",
     "output": "Hello!", "usage": {"prompt_tokens": 12, "completion_tokens": 3},
     "latency_ms": 812.4, "cost_usd": 1.3e-05}

An answer with function calls also carries ``"tool_calls": [{"id": ..., "type":
"function", "function": {"name": ..., "arguments": "<JSON text>"}}]``.

``key`` is :func:`request_key` of the rendered messages (and the tools offered), so a
recording can be replayed by case id or, for requests without one, by content. Failed
calls are not recorded: a replay of them would only replay the outage.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import IO, Any

from releasegate.llm import ChatProvider, ChatRequest, ChatResponse, Message

__all__ = ["RecordingProvider", "request_key"]


def request_key(
    messages: tuple[Message, ...] | list[Message],
    tools: tuple[dict[str, Any], ...] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
) -> str:
    """A stable hash of rendered chat messages (canonical JSON, SHA-256, hex), and of the
    tools and tool choice offered when there are any (keys of tool-less requests are the
    hash of the messages alone, as they always were)."""
    material: Any = list(messages)
    if tools is not None or tool_choice is not None:
        material = [material, {"tools": tools, "tool_choice": tool_choice}]
    canonical = json.dumps(material, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RecordingProvider(ChatProvider):
    """Wraps a provider and appends one JSONL line per successful call.

    Args:
        inner: the provider whose answers are recorded.
        path: the JSONL file.
        append: add to an existing file instead of starting a new one.
    """

    def __init__(self, inner: ChatProvider, path: str | Path, *, append: bool = False) -> None:
        self.inner = inner
        self.type = inner.type
        self.cache_request_fields = inner.cache_request_fields
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = self.path.open("a" if append else "w", encoding="utf-8")
        #: lines written so far
        self.recorded = 0

    @property
    def model(self) -> str | None:
        return self.inner.model

    def cache_identity(self) -> dict[str, Any]:
        return self.inner.cache_identity()

    async def complete(self, request: ChatRequest) -> ChatResponse:
        response = await self.inner.complete(request)
        self.write(request, response)
        return response

    def write(self, request: ChatRequest, response: ChatResponse) -> None:
        """Append the line for one call (also usable by callers that hold the response)."""
        if self._file is None:
            raise RuntimeError(f"recording to {self.path} is closed")
        line: dict[str, Any] = {
            "case_id": request.case_id,
            "repeat": request.repeat,
            "key": request_key(request.messages, request.tools, request.tool_choice),
            "model": response.model or request.model,
            "output": response.text,
            "usage": {
                "prompt_tokens": response.usage.prompt_tokens,
                "completion_tokens": response.usage.completion_tokens,
            },
            "latency_ms": round(response.latency_ms, 3),
            "cost_usd": response.cost_usd,
        }
        if response.tool_calls:
            line["tool_calls"] = list(response.tool_calls)
        # One write of a whole line, flushed: a run stopped half-way leaves valid lines.
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()
        self.recorded += 1

    async def aclose(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        await self.inner.aclose()
