"""A case rendered through a prompt: errors point at the case, not the prompt file."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.datasets.case import Case
from releasegate.errors import PromptError
from releasegate.evals._render import render_case
from releasegate.prompts import Prompt, load_prompt

PROMPT = """\
name: support
version: 1.2.0
model: gpt-4o-2024-11-20
system: You are terse.
template: |
  Context: {{ customer }}
  Question: {{ input }}
"""


def test_render_case_uses_the_case_template_vars() -> None:
    prompt = Prompt(name="p", version="0.1.0", model="m-q8_0", template="{{ city }}/{{ n + 1 }}")
    case = Case(id="x", input={"city": "Oslo"}, vars={"n": 2})
    assert render_case(prompt, case) == [{"role": "user", "content": "Oslo/3"}]


def test_undefined_variable_names_prompt_case_and_variable(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PROMPT, encoding="utf-8")
    prompt = load_prompt(path)
    case = Case(id="case-7", input="hi", source="data.yaml", line=12)
    with pytest.raises(PromptError) as info:
        render_case(prompt, case)
    (issue,) = info.value.issues
    assert (issue.file, issue.line, issue.case_id) == ("data.yaml", 12, "case-7")
    assert "'support'" in issue.message
    assert "'customer' is undefined" in issue.message
    assert str(issue).startswith("data.yaml:12: case 'case-7': prompt 'support': ")


def test_a_case_without_a_file_keeps_the_prompt_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(PROMPT, encoding="utf-8")
    prompt = load_prompt(path)
    with pytest.raises(PromptError) as info:
        render_case(prompt, Case(id="c", input="hi"))
    (issue,) = info.value.issues
    assert (issue.file, issue.case_id) == (prompt.path, "c")
