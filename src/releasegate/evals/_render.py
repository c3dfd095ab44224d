"""A dataset case rendered through a prompt, with errors pointing at the case."""

from __future__ import annotations

import dataclasses
from typing import Any

from releasegate.datasets.case import Case
from releasegate.errors import PromptError
from releasegate.prompts import Prompt


def render_case(prompt: Prompt, case: Case) -> list[dict[str, Any]]:
    """``prompt.render(case.template_vars())``: the chat messages for one case.

    Raises:
        PromptError: the template uses a variable the case does not define, or fails
            at render time; each issue names the case's file, line and id (the prompt's
            file when the case was not loaded from one), the prompt and the variable.
    """
    try:
        return prompt.render(case.template_vars())
    except PromptError as exc:
        raise PromptError(
            [
                dataclasses.replace(
                    issue, file=case.source or issue.file, line=case.line, case_id=case.id
                )
                for issue in exc.issues
            ]
        ) from None
