"""Function tools a prompt offers the model, and its tool choice (OpenAI's format)::

    tools:
      - type: function
        function:
          name: get_weather
          description: Current weather in a city
          parameters:
            type: object
            properties: {city: {type: string}}
            required: [city]
    tool_choice: auto        # none | auto | required | {type: function, function: {name: ...}}

Names follow OpenAI's rule (letters, digits, ``_`` and ``-``, at most 64); ``parameters``
must be a valid JSON Schema (checked with the ``jsonschema`` library) describing an
object. A named ``tool_choice`` must name a declared tool.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ToolChoiceFunction", "ToolFunction", "ToolSpec", "check_tool_choice"]

_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TOOL_CHOICES = ("none", "auto", "required")


class ToolFunction(BaseModel):
    """One function the model may call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Function name (letters, digits, '_' or '-', at most 64)")
    description: str | None = Field(default=None, description="What the function does")
    parameters: dict[str, Any] | None = Field(
        default=None, description="JSON Schema of the arguments (an object)"
    )
    strict: bool | None = Field(default=None, description="OpenAI strict schema adherence")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        if not _TOOL_NAME.match(v):
            raise ValueError(
                f"must be 1-64 letters, digits, '_' or '-' (no spaces or dots), got {v!r}"
            )
        return v

    @field_validator("parameters")
    @classmethod
    def _valid_schema(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is None:
            return v
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for

        validator = validator_for(v)
        try:
            validator.check_schema(v)
        except SchemaError as exc:
            where = "/".join(str(p) for p in exc.path) or "(root)"
            raise ValueError(f"not a valid JSON Schema at {where}: {exc.message}") from None
        kind = v.get("type")
        if kind is not None and kind != "object":
            raise ValueError(f"must describe an object (type: object), got type {kind!r}")
        return v


class ToolSpec(BaseModel):
    """A tool: ``{type: function, function: {...}}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["function"] = Field(description="Tool kind; only 'function' exists")
    function: ToolFunction


class _ChoiceName(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str


class ToolChoiceFunction(BaseModel):
    """``{type: function, function: {name: ...}}``: the model must call that function."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["function"]
    function: _ChoiceName


def check_tool_choice(
    choice: str | ToolChoiceFunction | None, tools: list[ToolSpec] | None
) -> None:
    """Refuse a tool choice that cannot work with ``tools``.

    Raises:
        ValueError: an unknown choice word, ``auto``/``required``/a named function
            without tools, or a named function that is not declared.
    """
    if choice is None:
        return
    names = [t.function.name for t in tools or []]
    if isinstance(choice, str):
        if choice not in TOOL_CHOICES:
            raise ValueError(
                f"must be one of {', '.join(TOOL_CHOICES)} or "
                f"{{type: function, function: {{name: ...}}}}, got {choice!r}"
            )
        if choice != "none" and not names:
            raise ValueError(f"{choice!r} needs `tools:` to choose from")
        return
    wanted = choice.function.name
    if wanted not in names:
        known = ", ".join(names) if names else "none declared"
        raise ValueError(f"names function {wanted!r}, which is not in tools ({known})")


def duplicate_names(tools: list[ToolSpec]) -> list[str]:
    """Function names declared more than once, in order of their second appearance."""
    seen: set[str] = set()
    dups: list[str] = []
    for tool in tools:
        name = tool.function.name
        if name in seen and name not in dups:
            dups.append(name)
        seen.add(name)
    return dups
