"""How a version applies to a chat request, and what a request says about itself.

The rule (the same for one turn or many): the version's pinned model and parameters
replace the request's; its system prompt replaces the request's system message when the
first message is one (``system`` or ``developer``), else it is inserted first; its
template renders the *last* user message, the caller's text being the template's
``input``. Earlier turns, tools, ``response_format``, ``n``, ``logprobs``, ``seed``,
``stream_options`` and unknown fields pass through unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from releasegate.prompts import Prompt

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
    messages = list(body.get("messages") or [])
    last_user = next(
        (
            i
            for i in range(len(messages) - 1, -1, -1)
            if isinstance(messages[i], dict) and messages[i].get("role") == "user"
        ),
        None,
    )
    if last_user is not None:
        message = messages[last_user]
        text = _text(message.get("content")) or ""
        rendered = prompt.render({"input": text})
        user_text = next((m["content"] for m in rendered if m.get("role") == "user"), text)
        content = message.get("content")
        if isinstance(content, list):  # keep non-text parts (images...) after the text
            others = [p for p in content if not (isinstance(p, dict) and p.get("type") == "text")]
            new_content: Any = [{"type": "text", "text": user_text}, *others]
        else:
            new_content = user_text
        messages[last_user] = {**message, "content": new_content}
    if prompt.system is not None:
        system = {"role": "system", "content": prompt.system}
        first = messages[0] if messages else None
        if isinstance(first, dict) and first.get("role") in ("system", "developer"):
            messages[0] = system
        else:
            messages.insert(0, system)
    out["messages"] = messages
    return out
