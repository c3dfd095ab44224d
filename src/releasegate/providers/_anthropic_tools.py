"""OpenAI-style function tools to and from the Anthropic Messages API.

* a tool ``{type: function, function: {name, description, parameters}}`` becomes
  ``{name, description, input_schema: parameters}`` (an empty object schema when the
  function declares no parameters; OpenAI's ``strict`` has no Anthropic counterpart and
  is dropped);
* ``tool_choice`` ``auto`` -> ``{type: auto}``, ``required`` -> ``{type: any}``,
  ``none`` -> ``{type: none}``, a named function -> ``{type: tool, name}``; the OpenAI
  parameter ``parallel_tool_calls: false`` becomes ``disable_parallel_tool_use: true``;
* a ``tool_use`` block of the answer becomes an OpenAI tool call ``{id, type:
  function, function: {name, arguments}}`` with ``arguments`` the JSON text of its
  ``input``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["anthropic_tool_choice", "anthropic_tools", "tool_calls_of"]

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
