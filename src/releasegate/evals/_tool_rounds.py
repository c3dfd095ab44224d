"""One turn's exchange with the model, tool rounds included.

The request is sent; while the reply calls tools and the case gives a result for every
call (:class:`~releasegate.datasets.case.ToolResult`), the assistant message with its
calls and one ``tool`` message per call (``tool_call_id`` = the call's id, in the
calls' order) are appended and the model is asked again, at most ``max_rounds`` times.
A reply with a call the case has no result for ends the exchange: that reply is the
answer, and the calls left unanswered are named (a conversation cannot go on past
them: the APIs reject an assistant tool call without its result). A reply that still
calls tools after ``max_rounds`` rounds ends it with an error.

A ``tool_choice`` that forces a call (``required``, or a named function) applies to the
turn's first request only; the requests that send results back say ``auto``, or a
forced model could only ever call tools again (the OpenAI Agents SDK resets it the
same way).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from releasegate.datasets.case import ToolResult
from releasegate.llm import ChatRequest, ChatResponse, Message, Usage

__all__ = ["Exchange", "Send", "reply_message", "run_exchange"]

#: sends one request; returns the response, or the error text when the call failed
Send = Callable[[ChatRequest], Awaitable[ChatResponse | str]]


def reply_message(response: ChatResponse) -> dict[str, Any]:
    """``response`` as the assistant message carried forward (``content`` ``None``
    when a reply that calls tools has no text)."""
    message: dict[str, Any] = {"role": "assistant", "content": response.text}
    if response.tool_calls:
        message["tool_calls"] = list(response.tool_calls)
        message["content"] = response.text or None
    return message


@dataclasses.dataclass(frozen=True, slots=True)
class Exchange:
    """What one turn's exchange produced.

    ``sent`` is the last request's messages (every tool round's assistant and ``tool``
    messages included); ``replies`` every response, in order; ``error`` the reason the
    exchange failed (a failed call, too many tool rounds), else ``None``;
    ``unanswered`` the tools the final reply called without a result (``name``, or
    ``tool_calls[i]`` for an entry without a function name or an id).
    """

    sent: tuple[Message, ...]
    replies: tuple[ChatResponse, ...]
    error: str | None = None
    unanswered: tuple[str, ...] = ()

    def answer(self) -> ChatResponse | None:
        """The turn's answer: the final reply's text; the tool calls of every reply;
        tokens, latency and cost summed over the replies; cached when all were.
        ``None`` without a reply."""
        if not self.replies:
            return None
        last = self.replies[-1]
        if len(self.replies) == 1:
            return last
        costs = [r.cost_usd for r in self.replies if r.cost_usd is not None]
        usage = Usage()
        for r in self.replies:
            usage = usage + r.usage
        return dataclasses.replace(
            last,
            usage=usage,
            latency_ms=math.fsum(r.latency_ms for r in self.replies),
            cost_usd=math.fsum(costs) if costs else None,
            cached=all(r.cached for r in self.replies),
            tool_calls=tuple(c for r in self.replies for c in r.tool_calls),
        )

    def transcript(self) -> list[Any]:
        """The messages sent, then the final reply (when there is one)."""
        if not self.replies:
            return list(self.sent)
        return [*self.sent, reply_message(self.replies[-1])]


def _label(index: int, call: Any) -> str:
    function = call.get("function") if isinstance(call, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    return name if isinstance(name, str) and name else f"tool_calls[{index}]"


def _result(call: Any, results: Mapping[str, ToolResult]) -> str | None:
    """The result text for ``call``, or ``None`` when it cannot be answered (no
    result given, or an entry without an id or a function name)."""
    if not isinstance(call, dict) or not isinstance(call.get("id"), str) or not call["id"]:
        return None
    function = call.get("function")
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str) or name not in results:
        return None
    raw = function.get("arguments") if isinstance(function, dict) else None
    try:
        arguments = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        arguments = None
    return results[name].result_for(arguments)


async def run_exchange(
    request: ChatRequest,
    send: Send,
    *,
    results: Mapping[str, ToolResult] | None,
    max_rounds: int,
    where: str,
) -> Exchange:
    """Send ``request`` and run its tool rounds (see the module docstring).

    Args:
        request: the turn's first request.
        send: calls the target.
        results: the case's (or turn's) ``tool_results``; ``None``: no call is answered.
        max_rounds: tool rounds allowed (``max_tool_rounds``, at least 1).
        where: names the case and turn in error texts (``case 'c1' turn 2``).

    Returns:
        The :class:`Exchange`; never raises for a failed call (its text is ``error``).
    """
    replies: list[ChatResponse] = []
    rounds = 0
    while True:
        answer = await send(request)
        if isinstance(answer, str):
            return Exchange(request.messages, tuple(replies), error=answer)
        replies.append(answer)
        if not answer.tool_calls:
            return Exchange(request.messages, tuple(replies))
        texts = [_result(call, results or {}) for call in answer.tool_calls]
        missing = tuple(
            _label(i, call)
            for i, (call, text) in enumerate(zip(answer.tool_calls, texts, strict=True))
            if text is None
        )
        if missing:
            return Exchange(request.messages, tuple(replies), unanswered=missing)
        if rounds == max_rounds:
            names = ", ".join(dict.fromkeys(_label(i, c) for i, c in enumerate(answer.tool_calls)))
            return Exchange(
                request.messages,
                tuple(replies),
                error=(
                    f"{where}: the model still called tools ({names}) after "
                    f"{max_rounds} tool round(s); raise max_tool_rounds if more are expected"
                ),
            )
        rounds += 1
        tool_messages = [
            {"role": "tool", "tool_call_id": call["id"], "content": text}
            for call, text in zip(answer.tool_calls, texts, strict=True)
        ]
        request = dataclasses.replace(
            request,
            messages=(*request.messages, reply_message(answer), *tool_messages),
            tool_choice=_after_results(request.tool_choice),
        )


def _after_results(choice: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
    """The tool choice of a request that sends results back: a forced call becomes
    ``auto``; ``none``, ``auto`` and no choice are kept."""
    return "auto" if choice == "required" or isinstance(choice, dict) else choice
