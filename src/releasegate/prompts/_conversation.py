"""Conversation turns and the one rule that assembles a request's messages.

:func:`assemble_conversation` is shared by the eval engine (a prompt applied to a
dataset case) and the gateway (a prompt applied to a served request): the prompt's
system message, then its few-shot ``messages``, then the conversation's history, then
the last user turn rendered by the template, then (gateway only) whatever the caller
sent after that user turn (a tool-calling loop's assistant and tool messages).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Turn", "assemble_conversation", "turn_dicts"]

Role = Literal["system", "developer", "user", "assistant", "tool"]


class Turn(BaseModel):
    """One message of a conversation, as written in a prompt or dataset file.

    ``content`` is text (or ``null`` for an assistant turn that only calls tools);
    ``tool_calls`` (assistant only) are OpenAI function calls; ``tool_call_id``
    (tool only) names the call a tool result answers.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role = Field(description="system, developer, user, assistant or tool")
    content: str | None = Field(default=None, description="The message text")
    name: str | None = Field(default=None, description="Optional participant name")
    tool_calls: tuple[dict[str, Any], ...] | None = Field(
        default=None,
        description="Assistant turns only: function calls, "
        "{id, type: function, function: {name, arguments}}",
    )
    tool_call_id: str | None = Field(
        default=None, description="Tool turns only: the id of the call this result answers"
    )

    @model_validator(mode="after")
    def _shape(self) -> Turn:
        if self.tool_calls is not None and self.role != "assistant":
            raise ValueError("tool_calls: only an assistant turn can call tools")
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("tool_call_id: a tool turn must name the call it answers")
        if self.tool_call_id is not None and self.role != "tool":
            raise ValueError("tool_call_id: only a tool turn answers a call")
        if self.content is None and not (self.role == "assistant" and self.tool_calls):
            raise ValueError(
                "content: required (only an assistant turn with tool_calls may omit it)"
            )
        return self

    def as_message(self) -> dict[str, Any]:
        """The turn as an OpenAI chat message (unset keys left out); a new dict."""
        return self.model_dump(mode="json", exclude_none=True)


def turn_dicts(turns: Sequence[Turn] | None) -> list[dict[str, Any]]:
    """``turns`` as OpenAI chat messages (new dicts, in order; ``None`` gives ``[]``)."""
    return [t.as_message() for t in turns or ()]


def _with_text(content: Any, text: str) -> Any:
    """``content`` with its text replaced by ``text``; non-text parts (images...) of a
    parts list are kept after the text."""
    if isinstance(content, list):
        others = [p for p in content if not (isinstance(p, dict) and p.get("type") == "text")]
        return [{"type": "text", "text": text}, *others]
    return text


def assemble_conversation(
    *,
    system: Mapping[str, Any] | None,
    few_shot: Sequence[Any],
    history: Sequence[Any],
    user: Mapping[str, Any] | None,
    render: Callable[[], str],
    after: Sequence[Any] = (),
) -> list[Any]:
    """The request's messages, in the one order both the engine and the gateway use.

    Args:
        system: the system message (the prompt's; in the gateway, the caller's own
            leading system or developer message when the prompt has none), or ``None``.
        few_shot: the prompt's example turns.
        history: the conversation so far (a case's ``messages``, or a request's
            messages before its last user turn).
        user: the last user message (``{"role": "user"}`` for an eval case; the
            request's own message in the gateway, whose other keys and non-text
            content parts are kept), or ``None`` when there is no user turn to render.
        render: renders the template into the user turn's text (called only when
            ``user`` is given).
        after: messages that follow the last user turn (a tool loop's continuation).

    Returns:
        A new list: system, few-shot, history, rendered user turn (a new dict), then
        ``after``; every input turn appears exactly once, in order. The other turns
        are the objects passed in (not copied).

    Raises:
        PromptError: raised by ``render``.
    """
    out: list[Any] = []
    if system is not None:
        out.append(system)
    out.extend(few_shot)
    out.extend(history)
    if user is not None:
        text = render()
        out.append({**user, "role": "user", "content": _with_text(user.get("content"), text)})
    out.extend(after)
    return out
