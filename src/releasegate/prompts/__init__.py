"""Prompts as versioned files.

A prompt file is YAML with a name, a semantic version, a pinned model, generation
parameters, an optional system message and a Jinja2 template for the user message::

    name: support-answer
    version: 1.2.0
    model: gpt-4o-2024-11-20
    params: {temperature: 0}
    system: You are a concise support agent.
    template: |
      Context: {{ context }}
      Question: {{ input }}

Optional ``messages:`` are few-shot turns (role/content, assistant turns with
``tool_calls``, tool results with ``tool_call_id``) sent between the system message and
the conversation. :func:`assemble_conversation` is the one rule that orders a request's
messages, for eval cases and gateway requests alike.

Templates run in Jinja2's sandbox with ``StrictUndefined``, so a variable the caller does
not provide is an error naming the prompt and the variable, never an empty string.
:meth:`Prompt.render` takes plain variables: an eval case's or a served request's.
Three hashes identify a prompt: ``content_hash`` (everything that changes the request),
``text_hash`` (system + few-shot messages + template) and ``config_hash`` (model +
params); the last two let ``validate --base`` refuse a change that alters text and
model in one step.
"""

from __future__ import annotations

from releasegate.prompts._conversation import Turn, assemble_conversation, turn_dicts
from releasegate.prompts._files import load_prompt, load_prompts, scan_prompts
from releasegate.prompts._prompt import Prompt

__all__ = [
    "Prompt",
    "Turn",
    "assemble_conversation",
    "load_prompt",
    "load_prompts",
    "scan_prompts",
    "turn_dicts",
]
