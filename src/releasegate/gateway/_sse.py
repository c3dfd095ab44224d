"""Reading an upstream's server-sent events and keeping what the record needs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from releasegate.gateway import _json as fast_json

__all__ = ["Event", "StreamBroken", "StreamTally", "read_event"]


@dataclass(slots=True)
class Event:
    """One SSE event: its name (None for plain ``data:`` events) and data text."""

    name: str | None
    data: str

    @property
    def done(self) -> bool:
        return self.data.strip() == "[DONE]"


class StreamBroken(Exception):
    """An upstream stream that ended badly.

    Attributes:
        reason: ``stall`` (no chunk within the timeout), ``cut`` (the connection closed
            before ``[DONE]``), ``malformed`` (a chunk that is not a JSON object) or
            ``upstream_error`` (the upstream sent an error event).
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


async def read_event(content: aiohttp.StreamReader, timeout_s: float) -> Event | None:
    """The next event, or None at the end of the body.

    Raises:
        StreamBroken: ``stall`` when no full line arrives within ``timeout_s``, or
            ``malformed`` for a line too long to be a chunk.
    """
    name: str | None = None
    data: list[str] = []
    while True:
        try:
            raw = await asyncio.wait_for(content.readline(), timeout_s)
        except TimeoutError:
            raise StreamBroken("stall", f"no stream chunk within {timeout_s:g} s") from None
        except ValueError as exc:  # aiohttp: a line above its buffer limit
            raise StreamBroken("malformed", f"stream line too long: {exc}") from None
        except aiohttp.ClientError as exc:
            raise StreamBroken("cut", f"stream connection failed: {exc}") from None
        if not raw:
            if data:
                return Event(name, "\n".join(data))
            return None
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                return Event(name, "\n".join(data))
            name = None
            continue
        if line.startswith(":"):
            continue  # comment / keep-alive
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "data":
            data.append(value)
        elif key == "event":
            name = value


@dataclass(slots=True)
class StreamTally:
    """What a relayed stream delivered: text and tool calls of choice 0, usage, the
    finish reason, and the number of chunks."""

    content: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    chunks: int = 0

    def add(self, chunk: Any) -> bool:
        """Count one decoded chunk; whether it carries content (text, tool calls, a
        finish reason or usage) rather than only a role.

        Raises:
            StreamBroken: ``malformed`` when it is not a chunk object, or
                ``upstream_error`` when it is an error object.
        """
        if not isinstance(chunk, dict):
            raise StreamBroken("malformed", "stream chunk is not a JSON object")
        if isinstance(chunk.get("error"), dict):
            message = chunk["error"].get("message") or "upstream error in stream"
            raise StreamBroken("upstream_error", f"upstream error in stream: {message}")
        choices = chunk.get("choices")
        if choices is not None and not isinstance(choices, list):
            raise StreamBroken("malformed", "stream chunk 'choices' is not a list")
        self.chunks += 1
        substantive = False
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
            substantive = True
        for choice in choices or []:
            if not isinstance(choice, dict):
                raise StreamBroken("malformed", "stream chunk choice is not an object")
            if choice.get("finish_reason") is not None:
                substantive = True
                if choice.get("index", 0) == 0:
                    self.finish_reason = str(choice["finish_reason"])
            delta = choice.get("delta")
            if not isinstance(delta, dict):
                continue
            if delta.get("content") or delta.get("tool_calls") or delta.get("refusal"):
                substantive = True
            if choice.get("index", 0) != 0:
                continue
            if isinstance(delta.get("content"), str):
                self.content.append(delta["content"])
            for call in delta.get("tool_calls") or []:
                if isinstance(call, dict):
                    self._tool(call)
        return substantive

    def _tool(self, call: dict[str, Any]) -> None:
        # Deltas of one call share its ``index``; its id, type and name come once, the
        # arguments in pieces. A delta without an index continues call 0 (servers that
        # stream one call omit it); one with an index that is not an integer starts a
        # call of its own.
        index = call.get("index", 0)
        if not isinstance(index, int) or isinstance(index, bool):
            index = max(self.tool_calls, default=-1) + 1
        slot = self.tool_calls.setdefault(
            index, {"id": None, "type": "function", "function": {"name": None, "arguments": ""}}
        )
        if isinstance(call.get("id"), str) and call["id"]:
            slot["id"] = call["id"]
        if isinstance(call.get("type"), str) and call["type"]:
            slot["type"] = call["type"]
        function = call.get("function")
        if isinstance(function, dict):
            if isinstance(function.get("name"), str) and function["name"]:
                slot["function"]["name"] = function["name"]
            if isinstance(function.get("arguments"), str):
                slot["function"]["arguments"] += function["arguments"]

    def response(self) -> dict[str, Any]:
        """The delivered answer in the record's shape, the one of a non-streamed
        answer's message: ``content`` (the text, None without any), ``tool_calls``
        (None without any; else in index order, each ``{id, type: function, function:
        {name, arguments}}`` with the argument pieces joined) and ``finish_reason``."""
        calls = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        return {
            "content": "".join(self.content) if self.content else None,
            "tool_calls": calls or None,
            "finish_reason": self.finish_reason,
        }


def decode(event: Event) -> Any:
    """The event's JSON data.

    Raises:
        StreamBroken: ``malformed`` when it is not JSON, ``upstream_error`` for an
            ``error`` event.
    """
    try:
        data = fast_json.loads(event.data)
    except ValueError:
        raise StreamBroken("malformed", "stream chunk is not JSON") from None
    if event.name == "error":
        message = data.get("error", {}).get("message") if isinstance(data, dict) else None
        raise StreamBroken("upstream_error", f"upstream error in stream: {message or data}")
    return data
