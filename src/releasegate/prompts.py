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

Templates run in Jinja2's sandbox with ``StrictUndefined``, so a variable a case does not
provide is an error naming the prompt, the case and the variable, never an empty string.
Three hashes identify a prompt: ``content_hash`` (everything that changes the request),
``text_hash`` (system + template) and ``config_hash`` (model + params); the last two let
``validate --base`` refuse a change that alters text and model in one step.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from releasegate._yaml import display_path, load_yaml_file, validation_issues
from releasegate.datasets.case import Case
from releasegate.errors import Issue, PromptError

__all__ = ["Prompt", "load_prompt", "load_prompts", "scan_prompts"]

# Semantic Versioning 2.0.0: MAJOR.MINOR.PATCH, optional -prerelease and +build metadata,
# no leading zeros in numeric identifiers.
_NUM = r"(?:0|[1-9]\d*)"
_PRE_ID = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_SEMVER = re.compile(
    rf"^{_NUM}\.{_NUM}\.{_NUM}"
    rf"(?:-{_PRE_ID}(?:\.{_PRE_ID})*)?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

# One sandboxed environment for every prompt: templates cannot reach Python internals,
# output is text (no HTML autoescaping), and undefined variables raise.
_ENV = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)


def _canonical_hash(obj: dict[str, Any]) -> str:
    # sort_keys + compact separators make the JSON (and so the hash) independent of key
    # order and formatting in the YAML file; default=str covers YAML dates in params.
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Prompt(BaseModel):
    """A versioned prompt: identity, pinned model, parameters and template."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Unique prompt name (letters, digits, '.', '_', '-')")
    version: str = Field(description="Semantic version, e.g. 1.2.0")
    model: str = Field(description="Pinned model name, e.g. gpt-4o-2024-11-20")
    params: dict[str, Any] = Field(
        default_factory=dict, description="Generation parameters (temperature, max_tokens...)"
    )
    system: str | None = Field(default=None, description="System message (not templated)")
    template: str = Field(description="Jinja2 template of the user message")
    description: str | None = Field(default=None, description="What the prompt is for")
    path: str | None = Field(
        default=None, exclude=True, description="File the prompt was loaded from (set by loader)"
    )

    # The compiled template is cached together with the text it was compiled from:
    # ``model_copy(update={"template": ...})`` copies private attributes, and a copy must
    # not render its original's template.
    _compiled: tuple[str, jinja2.Template] | None = PrivateAttr(default=None)
    _field_lines: dict[str, int] = PrivateAttr(default_factory=dict)
    _template_line: int | None = PrivateAttr(default=None)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        # YAML reads `version: 1.2` as a float; turn it back into text so that the error
        # below can say what is wrong with it.
        if isinstance(v, int | float) and not isinstance(v, bool):
            return str(v)
        return v

    @field_validator("version")
    @classmethod
    def _semver(cls, v: str) -> str:
        if not _SEMVER.match(v):
            raise ValueError(
                f"must be a semantic version MAJOR.MINOR.PATCH such as 1.0.0, got {v!r}"
            )
        return v

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(
                "must start with a letter or digit and contain only letters, digits, "
                f"'.', '_' or '-', got {v!r}"
            )
        return v

    @field_validator("model", "template")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def content_hash(self) -> str:
        """sha256 over name, version, model, params, system and template."""
        return _canonical_hash(
            {
                "name": self.name,
                "version": self.version,
                "model": self.model,
                "params": self.params,
                "system": self.system,
                "template": self.template,
            }
        )

    @property
    def text_hash(self) -> str:
        """sha256 over the text only (system and template)."""
        return _canonical_hash({"system": self.system, "template": self.template})

    @property
    def config_hash(self) -> str:
        """sha256 over the model and its parameters only."""
        return _canonical_hash({"model": self.model, "params": self.params})

    def line_of(self, field_name: str) -> int | None:
        """Line of a top-level key in the prompt file, when loaded from a file."""
        return self._field_lines.get(field_name)

    @property
    def _where(self) -> str:
        return self.path or f"<prompt {self.name}>"

    def compile(self) -> jinja2.Template:
        """Compile the template once and cache it.

        Raises:
            PromptError: on a template syntax error, with the file line and template line.
        """
        cached = self._compiled
        if cached is not None and cached[0] == self.template:
            return cached[1]
        try:
            compiled = _ENV.from_string(self.template)
        except jinja2.TemplateSyntaxError as exc:
            line = None
            if self._template_line is not None and exc.lineno:
                line = self._template_line + exc.lineno - 1
            raise PromptError(
                Issue(
                    file=self._where,
                    line=line,
                    field="template",
                    message=f"prompt {self.name!r}: template syntax error at template "
                    f"line {exc.lineno}: {exc.message}",
                )
            ) from None
        self._compiled = (self.template, compiled)
        return compiled

    def render(self, case: Case) -> list[dict[str, Any]]:
        """The chat messages for one case: the system message (if any), then the user
        message rendered from the template with ``case.template_vars()``.

        Raises:
            PromptError: when the template uses a variable the case does not define, or
                fails at render time; the message names the prompt, case and variable.
        """
        template = self.compile()
        variables = case.template_vars()
        try:
            content = template.render(variables)
        except jinja2.UndefinedError as exc:
            raise PromptError(
                Issue(
                    file=case.source or self._where,
                    line=case.line,
                    case_id=case.id,
                    message=f"prompt {self.name!r}: undefined template variable: {exc.message}"
                    f" (case provides: {', '.join(sorted(variables))})",
                )
            ) from None
        except Exception as exc:  # user template code: any failure is a prompt error
            raise PromptError(
                Issue(
                    file=case.source or self._where,
                    line=case.line,
                    case_id=case.id,
                    message=f"prompt {self.name!r}: template failed to render: "
                    f"{type(exc).__name__}: {exc}",
                )
            ) from None
        messages: list[dict[str, Any]] = []
        if self.system is not None:
            messages.append({"role": "system", "content": self.system})
        messages.append({"role": "user", "content": content})
        return messages


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
