"""OpenAI-style conversations and function tools to and from the Anthropic Messages API.

* a tool ``{type: function, function: {name, description, parameters}}`` becomes
  ``{name, description, input_schema: parameters}`` (an empty object schema when the
  function declares no parameters; OpenAI's ``strict`` has no Anthropic counterpart and
  is dropped);
* ``tool_choice`` ``auto`` -> ``{type: auto}``, ``required`` -> ``{type: any}``,
  ``none`` -> ``{type: none}``, a named function -> ``{type: tool, name}``; the OpenAI
  parameter ``parallel_tool_calls: false`` becomes ``disable_parallel_tool_use: true``;
* a ``tool_use`` block of the answer becomes an OpenAI tool call ``{id, type:
  function, function: {name, arguments}}`` with ``arguments`` the JSON text of its
  ``input``;
* a conversation (:func:`messages_api_conversation`): ``system`` and ``developer``
  messages go to the top-level ``system``; an assistant message with ``tool_calls``
  becomes one whose content is a ``text`` block (when it has text) and one ``tool_use``
  block per call (``id``, ``name``, ``input`` = the parsed ``arguments`` object); a
  ``tool`` message becomes a ``tool_result`` block (``tool_use_id``, ``content``) of a
  ``user`` message, consecutive results and a user message right after them sharing
  one ``user`` message, results first, as the Messages API requires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "anthropic_tool_choice",
    "anthropic_tools",
    "messages_api_conversation",
    "tool_calls_of",
]

_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}
_CHOICES = {"auto": "auto", "required": "any", "none": "none"}


def anthropic_tools(tools: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """The Messages API ``tools`` for OpenAI-style function tools.

    Raises:
        ValueError: a tool that is not ``{type: function, function: {name: ...}}``.
    """
    out: list[dict[str, Any]] = []
    for i, tool in enumerate(tools):
        function = tool.get("function") if tool.get("type") == "function" else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ValueError(f"tools[{i}] is not a function tool with a name")
        mapped: dict[str, Any] = {
            "name": function["name"],
            "input_schema": function.get("parameters") or _EMPTY_SCHEMA,
        }
        if function.get("description"):
            mapped["description"] = function["description"]
        out.append(mapped)
    return out


def anthropic_tool_choice(
    choice: str | dict[str, Any] | None, parallel: bool | None
) -> dict[str, Any] | None:
    """The Messages API ``tool_choice`` for an OpenAI one (``None``: leave it unset).

    Raises:
        ValueError: a choice that is neither a known word nor a named function.
    """
    if choice is None:
        mapped: dict[str, Any] | None = None if parallel is not False else {"type": "auto"}
    elif isinstance(choice, str):
        if choice not in _CHOICES:
            raise ValueError(f"unknown tool_choice {choice!r}")
        mapped = {"type": _CHOICES[choice]}
    else:
        function = choice.get("function")
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ValueError("tool_choice must name a function: {type: function, function: {name}}")
        mapped = {"type": "tool", "name": function["name"]}
    if mapped is not None and parallel is False and mapped["type"] != "none":
        mapped["disable_parallel_tool_use"] = True
    return mapped


def tool_calls_of(content: list[Any]) -> tuple[dict[str, Any], ...]:
    """The ``tool_use`` blocks of an answer's content as OpenAI tool calls."""
    calls: list[dict[str, Any]] = []
    for block in content:
        if not isinstance(block, dict) or block.get("type") != "tool_use":
            continue
        calls.append(
            {
                "id": block.get("id"),
                "type": "function",
                "function": {
                    "name": block.get("name"),
                    "arguments": json.dumps(block.get("input"), ensure_ascii=False),
                },
            }
        )
    return tuple(calls)


_SYSTEM_ROLES = frozenset({"system", "developer"})


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _text_blocks(content: Any) -> list[dict[str, Any]]:
    # Non-empty text only: the Messages API rejects an empty text block.
    text = _text(content)
    return [{"type": "text", "text": text}] if text else []


def _tool_use(call: Any, where: str) -> dict[str, Any]:
    if not isinstance(call, dict):
        raise ValueError(f"{where} is not a mapping")
    function = call.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise ValueError(f"{where} has no function name")
    name = function["name"]
    call_id = call.get("id")
    if not isinstance(call_id, str) or not call_id:
        raise ValueError(
            f"{where} ({name}) has no id (the Messages API pairs each tool_use with its "
            "tool_result by id)"
        )
    arguments = function.get("arguments")
    if arguments is None or arguments == "":
        parsed: Any = {}  # a call without arguments
    elif not isinstance(arguments, str):
        raise ValueError(
            f"{where} ({name}) arguments are {type(arguments).__name__}, not a JSON string"
        )
    else:
        try:
            parsed = json.loads(arguments)
        except ValueError as exc:
            raise ValueError(f"{where} ({name}) arguments are not JSON ({exc})") from None
    if not isinstance(parsed, dict):
        raise ValueError(
            f"{where} ({name}) arguments are JSON {type(parsed).__name__}, not an object "
            "(the Messages API takes the input as an object)"
        )
    return {"type": "tool_use", "id": call_id, "name": name, "input": parsed}


def _tool_result(message: dict[str, Any], where: str) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    if not isinstance(call_id, str) or not call_id:
        raise ValueError(f"{where} (tool) has no tool_call_id naming the call it answers")
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
    content = message.get("content")
    if isinstance(content, list):  # text parts, one text block each
        block["content"] = [b for part in content for b in _text_blocks([part])]
    elif content is not None:
        block["content"] = str(content)
    return block


def _is_result(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "tool_result"


def _results_turn(out: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    # The content of the last message when it is a user message carrying tool results.
    if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
        content: list[dict[str, Any]] = out[-1]["content"]
        if any(_is_result(b) for b in content):
            return content
    return None


def messages_api_conversation(
    messages: Sequence[Mapping[str, Any]],
) -> tuple[str | None, list[dict[str, Any]]]:
    """An OpenAI-style chat conversation as the Messages API's ``system`` and ``messages``.

    Args:
        messages: OpenAI chat messages (``role``, ``content``, ``tool_calls``,
            ``tool_call_id``, ``name``).

    Returns:
        ``(system, messages)``: the text of the ``system`` and ``developer`` messages
        joined by blank lines (``None`` when there are none), and the other messages in
        order as Messages API messages (``role`` and ``content`` only: a ``name`` has no
        counterpart and is dropped). Assistant and user messages without tool calls or
        tool results keep their content as written.

    Raises:
        ValueError: naming the message (``messages[3].tool_calls[0] (lookup)``) for
            ``tool_calls`` that are not a list, a tool call that is not a mapping or has
            no function name or ``id``, arguments that are not the
            JSON text of an object (missing or empty arguments are the empty object),
            or a ``tool`` message without a ``tool_call_id``.
    """
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        role = message.get("role")
        content = message.get("content")
        if role in _SYSTEM_ROLES:
            system.append(_text(content))
        elif role == "tool":
            block = _tool_result(dict(message), f"messages[{i}]")
            results = _results_turn(out)
            if results is None:
                out.append({"role": "user", "content": [block]})
            else:  # after the results already there, before any text
                at = max(k for k, b in enumerate(results) if _is_result(b)) + 1
                results.insert(at, block)
        elif role == "assistant" and message.get("tool_calls"):
            calls = message["tool_calls"]
            if not isinstance(calls, list | tuple):
                raise ValueError(f"messages[{i}].tool_calls is not a list")
            blocks = _text_blocks(content)
            blocks += [
                _tool_use(call, f"messages[{i}].tool_calls[{j}]") for j, call in enumerate(calls)
            ]
            out.append({"role": "assistant", "content": blocks})
        elif role == "user" and (results := _results_turn(out)) is not None:
            # Text right after tool results joins their user message, after them.
            if isinstance(content, list):
                results.extend(dict(p) for p in content if isinstance(p, dict))
            else:
                results.extend(_text_blocks(content))
        else:
            out.append({"role": role, "content": content})
    return ("\n\n".join(system) if system else None), out
