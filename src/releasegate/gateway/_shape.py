"""How a version applies to a chat request, and what a request says about itself.

The rule (the same for one turn or many): the version's pinned model and parameters
replace the request's; the messages are assembled by
:func:`~releasegate.prompts.assemble_conversation`, the function the eval engine uses
for a dataset case: the version's system prompt (replacing the request's system message
when the first message is one, ``system`` or ``developer``, else inserted first), its
few-shot ``messages``, the request's earlier turns, then the *last* user message
rendered by the template (the caller's text being the template's ``input``), then any
messages after it (a tool loop's assistant and tool turns). Without a prompt system
message, the caller's own leading system message is kept first, before the few-shot
turns.

Tools follow the system message's rule: when the prompt declares ``tools``, they
replace the caller's and the request's ``tool_choice`` becomes the prompt's (removed
when the prompt sets none, since the caller's may name a tool that is no longer
offered); a prompt ``tool_choice`` alone (``none``) replaces the caller's choice and
keeps the caller's tools. These are the values the eval engine sends for a case
(:meth:`~releasegate.prompts.Prompt.tool_schemas`,
:meth:`~releasegate.prompts.Prompt.tool_choice_value`). Without prompt tools, the
caller's ``tools`` and ``tool_choice``, like ``response_format``, ``n``, ``logprobs``,
``seed``, ``stream_options`` and unknown fields, pass through unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from releasegate.prompts import Prompt, assemble_conversation

__all__ = ["apply_version", "feature_of", "unit_key_of"]

FEATURE_HEADER = b"x-releasegate-feature"
UNIT_HEADER = b"x-releasegate-unit"
SESSION_HEADER = b"x-releasegate-session"


def feature_of(headers: Mapping[bytes, bytes], body: Mapping[str, Any]) -> tuple[str | None, str]:
    """The feature a request asks for and where it came from (``header`` or ``model``)."""
    value = headers.get(FEATURE_HEADER)
    if value:
        return value.decode("utf-8", "replace"), "header"
    model = body.get("model")
    return (model if isinstance(model, str) and model else None), "model"


def unit_key_of(headers: Mapping[bytes, bytes], body: Mapping[str, Any]) -> tuple[str, bool]:
    """The unit key (header, else the request's ``user``) and whether it was made up.

    A request without one gets a random key, flagged so analyses can leave it out of
    per-unit statistics.
    """
    value = headers.get(UNIT_HEADER)
    if value:
        return value.decode("utf-8", "replace"), False
    user = body.get("user")
    if isinstance(user, str) and user:
        return user, False
    return uuid.uuid4().hex, True


def _text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "".join(p for p in parts if isinstance(p, str))
    return None


class _Applied:
    """What a prompt contributes to every request, computed once per prompt object:
    its system message, few-shot turns, tools and tool choice. The dicts are shared by
    every request the prompt serves and never modified."""

    __slots__ = ("choice", "few_shot", "prompt", "system", "tools")

    def __init__(self, prompt: Prompt) -> None:
        self.prompt = prompt  # kept alive: the cache is keyed by its id
        self.system = prompt.system_message()
        self.few_shot = tuple(prompt.few_shot())
        self.tools = prompt.tool_schemas()
        self.choice = prompt.tool_choice_value()


_APPLIED: dict[int, _Applied] = {}
_APPLIED_MAX = 4096  # prompt objects remembered at most


def _applied(prompt: Prompt) -> _Applied:
    applied = _APPLIED.get(id(prompt))
    if applied is None or applied.prompt is not prompt:
        if len(_APPLIED) >= _APPLIED_MAX:
            _APPLIED.clear()
        applied = _APPLIED[id(prompt)] = _Applied(prompt)
    return applied


def _apply_tools(out: dict[str, Any], applied: _Applied) -> None:
    if applied.tools is not None:
        out["tools"] = [dict(t) for t in applied.tools]
        out.pop("tool_choice", None)
    if applied.choice is not None:
        out["tool_choice"] = applied.choice


def apply_version(
    body: dict[str, Any],
    *,
    model: str,
    params: Mapping[str, Any],
    prompt: Prompt | None,
) -> dict[str, Any]:
    """A new request body for ``model`` with the version's params and prompt applied.

    ``body`` is not modified. Message dicts that change are copied; others are shared.

    Raises:
        PromptError: the template needs a variable other than ``input``, or fails.
    """
    out = dict(body)
    out.update(params)
    out["model"] = model
    if prompt is None:
        return out
    applied = _applied(prompt)
    messages = list(body.get("messages") or [])
    first = messages[0] if messages else None
    lead = 1 if isinstance(first, dict) and first.get("role") in ("system", "developer") else 0
    system = applied.system or (first if lead else None)
    last_user = next(
        (
            i
            for i in range(len(messages) - 1, lead - 1, -1)
            if isinstance(messages[i], dict) and messages[i].get("role") == "user"
        ),
        None,
    )
    if last_user is None:
        history, user, after = messages[lead:], None, []
    else:
        history, user, after = (
            messages[lead:last_user],
            messages[last_user],
            messages[last_user + 1 :],
        )
    text = (_text(user.get("content")) or "") if user is not None else ""
    _apply_tools(out, applied)
    out["messages"] = assemble_conversation(
        system=system,
        few_shot=applied.few_shot,
        history=history,
        user=user,
        render=lambda: prompt.render_text({"input": text}),
        after=after,
    )
    return out
