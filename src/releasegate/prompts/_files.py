"""Prompt files: loading one, or every prompt below a directory, with their issues."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from releasegate._yaml import display_path, load_yaml_file, validation_issues
from releasegate.errors import Issue, PromptError
from releasegate.prompts._prompt import Prompt

__all__ = ["load_prompt", "load_prompts", "scan_prompts"]


def load_prompt(path: str | Path) -> Prompt:
    """Load and validate one prompt file, compiling its template.

    Raises:
        PromptError: with every problem found (file:line, field and what is wrong).
    """
    doc = load_yaml_file(path, PromptError)
    shown = display_path(path)
    data = doc.data
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise PromptError(
            Issue(
                file=shown,
                line=doc.line_at(()),
                message=f"a prompt file must be a mapping with name, version, model and "
                f"template; this one is {kind}",
            )
        )
    if "path" in data:
        raise PromptError(
            Issue(file=shown, line=doc.line_at(("path",)), message="path: set by the loader")
        )
    try:
        prompt = Prompt.model_validate({**data, "path": shown})
    except ValidationError as exc:
        raise PromptError(
            validation_issues(exc, file=shown, data=data, doc=doc, model=Prompt)
        ) from None
    lines = {str(k): line for k in data if (line := doc.line_at((k,))) is not None}
    prompt._field_lines = lines
    node = doc.node_at(("template",))
    if node is not None:
        # A block scalar (`template: |`) starts on the line after its indicator.
        offset = 1 if getattr(node, "style", None) in ("|", ">") else 0
        prompt._template_line = node.start_mark.line + 1 + offset
    prompt.compile()
    return prompt


def scan_prompts(directory: str | Path) -> tuple[dict[str, Prompt], list[Issue]]:
    """Load every ``*.yaml``/``*.yml`` prompt below ``directory``, collecting problems.

    Returns:
        The prompts that loaded, by name, and the issues of those that did not
        (including duplicate names, which name both files).
    """
    root = Path(directory)
    if not root.is_dir():
        what = "is not a directory" if root.exists() else "not found"
        return {}, [Issue(file=display_path(root), message=f"prompt directory {what}")]
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    prompts: dict[str, Prompt] = {}
    issues: list[Issue] = []
    for file in files:
        try:
            prompt = load_prompt(file)
        except PromptError as exc:
            issues.extend(exc.issues)
            continue
        other = prompts.get(prompt.name)
        if other is not None:
            issues.append(
                Issue(
                    file=prompt.path or display_path(file),
                    line=prompt.line_of("name"),
                    message=f"duplicate prompt name {prompt.name!r}: also defined in {other.path}",
                )
            )
            continue
        prompts[prompt.name] = prompt
    return prompts, issues


def load_prompts(directory: str | Path) -> dict[str, Prompt]:
    """Load every prompt file in ``directory`` (recursively), by name.

    Raises:
        PromptError: with the issues of every bad file, or for a duplicate name.
    """
    prompts, issues = scan_prompts(directory)
    if issues:
        raise PromptError(issues)
    return prompts
