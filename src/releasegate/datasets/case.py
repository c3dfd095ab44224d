"""One golden-dataset case: input, context, reference, the checks asserted on it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from releasegate.prompts import Turn, turn_dicts
from releasegate.scorers.spec import AssertSpec, refuse_bool

__all__ = ["ArgumentsMatch", "Case", "CaseTurn", "ToolResult", "expand_turns"]

#: tool rounds a turn may take when the case does not say (see ``max_tool_rounds``)
DEFAULT_MAX_TOOL_ROUNDS = 5


class ArgumentsMatch(BaseModel):
    """One entry of a tool result's ``match`` list: ``result`` answers a call whose
    arguments contain every key of ``arguments`` with an equal value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arguments: dict[str, Any] = Field(
        description="Argument values the call must have (a subset of its arguments)"
    )
    result: Any = Field(description="The result: text as is, anything else sent as JSON")


class ToolResult(BaseModel):
    """What a tool returns when the model calls it, for one tool of ``tool_results``.

    Written either as the result itself (text, sent as is; a mapping, list, number...
    sent as JSON text), or as ``{match: [{arguments, result}, ...], default: result}``:
    the first entry whose ``arguments`` are all in the call's arguments (equal values)
    answers it, else ``default``; with neither, the call has no result.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: tuple[ArgumentsMatch, ...] = ()
    default: Any = None

    @model_validator(mode="before")
    @classmethod
    def _plain_result(cls, data: Any) -> Any:
        # A mapping with a `match` key is the matching form; any other value is the
        # result of every call.
        if isinstance(data, dict) and "match" in data:
            return data
        return {"default": data}

    @field_validator("match", mode="before")
    @classmethod
    def _match_list(cls, v: Any) -> Any:
        if not isinstance(v, list | tuple) or not v:
            raise ValueError(
                "must be a non-empty list of {arguments, result} (write a result that "
                "is a mapping with a `match` key as JSON text)"
            )
        return v

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        # As written: the matching form (a mapping with `match`), or any other value.
        form = dict(handler.resolve_ref_schema(handler(core_schema)))
        description = form.pop("description", None)
        form.pop("title", None)
        form["required"] = ["match"]
        match = dict(form["properties"]["match"])
        match.pop("default", None)
        form["properties"] = {**form["properties"], "match": {**match, "minItems": 1}}
        return {
            "title": "ToolResult",
            "description": description,
            "anyOf": [form, {"not": {"type": "object", "required": ["match"]}}],
        }

    def result_for(self, arguments: Any) -> str | None:
        """The result text for a call with ``arguments`` (the parsed JSON arguments;
        anything but a mapping matches no ``match`` entry), or ``None`` when no entry
        matches and there is no ``default``."""
        if isinstance(arguments, dict):
            for entry in self.match:
                if all(k in arguments and arguments[k] == v for k, v in entry.arguments.items()):
                    return result_text(entry.result)
        if "default" in self.model_fields_set:
            return result_text(self.default)
        return None


def result_text(value: Any) -> str:
    """A tool result as sent in a ``tool`` message: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class CaseTurn(BaseModel):
    """One user turn of a dynamic multi-turn case, graded by its own checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: str | dict[str, Any]
    asserts: tuple[AssertSpec, ...] = Field(default=(), alias="assert")
    #: results of tools the model calls during this turn (added to the case's, by name)
    tool_results: dict[str, ToolResult] | None = None


class Case(BaseModel):
    """One golden-dataset case.

    ``input`` is either the user text or a mapping of template variables. ``context`` is
    retrieved text or a ranked list of chunks. ``messages`` is the conversation so far
    (structured turns), sent before the last user turn. ``source`` and ``line`` say where the case
    was read from, so that errors can point at it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    input: str | dict[str, Any]
    context: str | list[str] | None = None
    reference: str | None = None
    expected_behavior: str | None = None
    asserts: tuple[AssertSpec, ...] = Field(default=(), alias="assert")
    tags: tuple[str, ...] = ()
    #: weight in run-level means; 0 makes the case informational (reported, never gates)
    weight: float = Field(default=1.0, ge=0.0, allow_inf_nan=False)
    metadata: dict[str, Any] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)
    #: the conversation before the last user turn (structured turns, never templated)
    messages: tuple[Turn, ...] | None = None
    #: dynamic multi-turn: user turns sent one after another, the model's replies
    #: carried forward; ``input`` may then be left out
    turns: tuple[CaseTurn, ...] | None = None
    #: after a turn fails: ``continue`` with the next turn, or ``stop`` the conversation
    on_turn_failure: Literal["continue", "stop"] = "continue"
    #: how turn scores (and the case-level checks' score) make the case score
    turn_aggregate: Literal["mean", "min"] = "mean"
    #: results of the tools the model may call, by tool name: the engine answers the
    #: calls and asks the model again (see docs/datasets.md, "Tool results")
    tool_results: dict[str, ToolResult] | None = None
    #: tool rounds (results sent back, model asked again) one turn may take
    max_tool_rounds: int = Field(default=DEFAULT_MAX_TOOL_ROUNDS, ge=1, le=100)
    source: str | None = Field(default=None, exclude=True)
    line: int | None = Field(default=None, exclude=True)
    #: how many of ``asserts`` came from the dataset's ``defaults`` (they come first)
    default_asserts: int = Field(default=0, ge=0, exclude=True)

    @field_validator("weight", mode="before")
    @classmethod
    def _weight_not_bool(cls, v: Any) -> Any:
        return refuse_bool(v)

    @model_validator(mode="before")
    @classmethod
    def _input_of_turns(cls, data: Any) -> Any:
        # A multi-turn case's inputs are its turns'; `input` is optional then.
        if isinstance(data, dict) and data.get("turns") is not None and "input" not in data:
            return {**data, "input": ""}
        return data

    @field_validator("turns")
    @classmethod
    def _turns_not_empty(cls, v: tuple[CaseTurn, ...] | None) -> tuple[CaseTurn, ...] | None:
        if v is not None and not v:
            raise ValueError("must not be empty (leave `turns:` out for a single-turn case)")
        return v

    def turn_cases(self) -> list[Case]:
        """One case per turn of :attr:`turns` (``[]`` without turns): this case with
        the turn's ``input`` and checks, no history and no turns, so that a turn is
        rendered and scored like a single-turn case; its ``tool_results`` are the
        case's with the turn's added (a turn's result for a tool replaces the case's).
        Not validated again."""
        return [
            self.model_copy(
                update={
                    "input": t.input,
                    "asserts": t.asserts,
                    "turns": None,
                    "messages": None,
                    "default_asserts": 0,
                    "tool_results": _merged(self.tool_results, t.tool_results),
                }
            )
            for t in self.turns or ()
        ]

    @field_validator("messages", mode="before")
    @classmethod
    def _messages_list(cls, v: Any) -> Any:
        if v is not None and not isinstance(v, list | tuple):
            raise ValueError("must be a list of turns ({role, content} mappings)")
        return v

    @field_validator("messages")
    @classmethod
    def _messages_not_empty(cls, v: tuple[Turn, ...] | None) -> tuple[Turn, ...] | None:
        if v is not None and not v:
            raise ValueError("must not be empty (leave `messages:` out for no history)")
        return v

    def history(self) -> list[dict[str, Any]]:
        """The case's ``messages`` as chat messages (new dicts; ``[]`` when none)."""
        return turn_dicts(self.messages)

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            return str(v)
        return v

    @field_validator("id")
    @classmethod
    def _id_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("id must not be empty")
        return v

    def check_label(self, index: int) -> str:
        """Where check ``index`` of :attr:`asserts` was written, as the user wrote it.

        Args:
            index: Position in the merged list (dataset defaults first).

        Returns:
            ``"defaults.assert[i]"`` for a check from the dataset's defaults, else
            ``"assert[i]"`` with ``i`` the position in the case's own ``assert`` list.
        """
        if index < self.default_asserts:
            return f"defaults.assert[{index}]"
        return f"assert[{index - self.default_asserts}]"

    @property
    def input_text(self) -> str:
        """The user text: ``input`` itself, or its ``input``/``question``/``query`` var."""
        if isinstance(self.input, str):
            return self.input
        for key in ("input", "question", "query", "text"):
            val = self.input.get(key)
            if isinstance(val, str):
                return val
        return ""

    @property
    def context_chunks(self) -> list[str]:
        """``context`` as a list of chunks (a single text is one chunk)."""
        if self.context is None:
            return []
        if isinstance(self.context, str):
            return [self.context]
        return list(self.context)

    def template_vars(self) -> dict[str, Any]:
        """Variables a prompt template sees for this case."""
        base: dict[str, Any] = {
            "input": self.input_text,
            "context": self.context,
            "reference": self.reference,
            "metadata": self.metadata,
        }
        if isinstance(self.input, dict):
            base.update(self.input)
        base.update(self.vars)
        return base


def _merged(
    case: dict[str, ToolResult] | None, turn: dict[str, ToolResult] | None
) -> dict[str, ToolResult] | None:
    if case is None or turn is None:
        return turn if case is None else case
    return {**case, **turn}


def expand_turns(cases: Iterable[Case]) -> list[Case]:
    """``cases`` followed by the per-turn cases of every multi-turn case (see
    :meth:`Case.turn_cases`): what check preparation and validation walk."""
    out = list(cases)
    out += [t for c in out if c.turns for t in c.turn_cases()]
    return out
