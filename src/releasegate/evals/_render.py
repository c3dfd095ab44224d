"""A dataset case rendered through a prompt, with errors pointing at the case."""

from __future__ import annotations

import dataclasses
from typing import Any

from releasegate.datasets.case import Case
from releasegate.errors import PromptError
from releasegate.prompts import Prompt, assemble_conversation


def render_case(
    prompt: Prompt | None, case: Case, *, history: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The chat messages for one case, assembled by
    :func:`~releasegate.prompts.assemble_conversation` exactly as the gateway applies a
    version to a request: the prompt's system message and few-shot turns, the case's
    ``messages`` (history), then the user turn rendered from the case's variables.
    Without a prompt: the history, then the case's input text as the user turn.
    ``history`` replaces the case's own (a multi-turn case's conversation so far).

    Raises:
        PromptError: the template uses a variable the case does not define, or fails
            at render time; each issue names the case's file, line and id (the prompt's
            file when the case was not loaded from one), the prompt and the variable.
    """
    if prompt is None:
        return assemble_conversation(
            system=None,
            few_shot=(),
            history=case.history() if history is None else history,
            user={"role": "user"},
            render=lambda: case.input_text,
        )
    try:
        return prompt.render(
            case.template_vars(), history=case.history() if history is None else history
        )
    except PromptError as exc:
        raise PromptError(
            [
                dataclasses.replace(
                    issue, file=case.source or issue.file, line=case.line, case_id=case.id
                )
                for issue in exc.issues
            ]
        ) from None
