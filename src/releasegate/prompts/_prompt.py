"""The :class:`Prompt` model: identity, hashes and sandboxed rendering."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
)

from releasegate.errors import Issue, PromptError
from releasegate.prompts._conversation import Turn, assemble_conversation, turn_dicts
from releasegate.prompts._fast_render import SimpleRender, simple_renderer
from releasegate.prompts._tools import (
    ToolChoiceFunction,
    ToolSpec,
    check_tool_choice,
    duplicate_names,
)

__all__ = ["Prompt"]

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
    messages: list[Turn] | None = Field(
        default=None,
        description="Few-shot turns sent after the system message and before the "
        "conversation (role/content; assistant turns may carry tool_calls, tool turns a "
        "tool_call_id)",
    )
    tools: list[ToolSpec] | None = Field(
        default=None,
        description="Function tools offered to the model (OpenAI format: type: function, "
        "function: {name, description, parameters})",
    )
    tool_choice: str | ToolChoiceFunction | None = Field(
        default=None,
        description="none, auto, required, or {type: function, function: {name: ...}} "
        "naming a declared tool",
    )
    path: str | None = Field(
        default=None, exclude=True, description="File the prompt was loaded from (set by loader)"
    )

    # The compiled template is cached together with the text it was compiled from:
    # ``model_copy(update={"template": ...})`` copies private attributes, and a copy must
    # not render its original's template.
    # A template of only text and ``{{ name }}`` also keeps its direct renderer.
    _compiled: tuple[str, jinja2.Template, SimpleRender | None] | None = PrivateAttr(default=None)
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

    @field_validator("tools")
    @classmethod
    def _unique_tools(cls, v: list[ToolSpec] | None) -> list[ToolSpec] | None:
        if v is not None:
            if not v:
                raise ValueError("must not be empty (leave `tools:` out for no tools)")
            dups = duplicate_names(v)
            if dups:
                raise ValueError(f"function name(s) declared twice: {', '.join(dups)}")
        return v

    @field_validator("messages")
    @classmethod
    def _messages_not_empty(cls, v: list[Turn] | None) -> list[Turn] | None:
        if v is not None and not v:
            raise ValueError("must not be empty (leave `messages:` out for no examples)")
        return v

    @field_validator("tool_choice")
    @classmethod
    def _choice_fits(
        cls, v: str | ToolChoiceFunction | None, info: ValidationInfo
    ) -> str | ToolChoiceFunction | None:
        if "tools" in info.data:  # tools that failed validation are reported on their own
            check_tool_choice(v, info.data["tools"])
        return v

    def tool_schemas(self) -> tuple[dict[str, Any], ...] | None:
        """The declared tools as sent to an OpenAI-compatible API (unset keys left
        out), or ``None`` when the prompt declares none."""
        if self.tools is None:
            return None
        return tuple(t.model_dump(mode="json", exclude_none=True) for t in self.tools)

    def tool_choice_value(self) -> str | dict[str, Any] | None:
        """The tool choice as sent to an OpenAI-compatible API (``None``: not set)."""
        if isinstance(self.tool_choice, ToolChoiceFunction):
            return self.tool_choice.model_dump(mode="json")
        return self.tool_choice

    def system_message(self) -> dict[str, Any] | None:
        """``{"role": "system", "content": system}``, or ``None`` without one."""
        return None if self.system is None else {"role": "system", "content": self.system}

    def few_shot(self) -> list[dict[str, Any]]:
        """The few-shot turns as chat messages (new dicts; ``[]`` when none)."""
        return turn_dicts(self.messages)

    def _tool_identity(self) -> dict[str, Any]:
        # Only prompts with tools or few-shot turns carry the keys, so hashes of the
        # others do not change.
        ident: dict[str, Any] = {}
        if self.messages is not None:
            ident["messages"] = self.few_shot()
        if self.tools is not None:
            ident["tools"] = list(self.tool_schemas() or ())
        if self.tool_choice is not None:
            ident["tool_choice"] = self.tool_choice_value()
        return ident

    @property
    def ref(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def content_hash(self) -> str:
        """sha256 over name, version, model, params, system, template, and the few-shot
        messages, tools and tool choice when set."""
        return _canonical_hash(
            {
                "name": self.name,
                "version": self.version,
                "model": self.model,
                "params": self.params,
                "system": self.system,
                "template": self.template,
                **self._tool_identity(),
            }
        )

    @property
    def text_hash(self) -> str:
        """sha256 over what the model reads: system, template, and the few-shot messages,
        tools and tool choice when set."""
        return _canonical_hash(
            {"system": self.system, "template": self.template, **self._tool_identity()}
        )

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
        return self._compile()[1]

    def _compile(self) -> tuple[str, jinja2.Template, SimpleRender | None]:
        # read from pydantic's private-attribute dict directly: ``self._compiled`` goes
        # through a slow attribute fallback, and this runs on every gateway request
        private = self.__pydantic_private__ or {}
        cached: tuple[str, jinja2.Template, SimpleRender | None] | None = private.get("_compiled")
        if cached is not None and cached[0] == self.template:
            return cached
        try:
            compiled = _ENV.from_string(self.template)
            direct = simple_renderer(_ENV, self.template)
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
        self._compiled = (self.template, compiled, direct)
        return self._compiled

    def render_text(self, variables: Mapping[str, Any]) -> str:
        """The template rendered with ``variables``: the last user turn's text.

        Raises:
            PromptError: when the template uses a variable ``variables`` does not
                define, or fails at render time; the message names the prompt and the
                variable. Its issue points at the prompt file: a caller that knows where
                the variables came from (a dataset case) re-points it there.
        """
        _, template, direct = self._compile()
        if direct is not None:
            try:
                return direct(variables)
            except Exception:  # a name it was not given, a value whose str() fails:
                pass  # Jinja resolves the name, or raises the error reported below
        try:
            return template.render(variables)
        except jinja2.UndefinedError as exc:
            raise PromptError(
                Issue(
                    file=self._where,
                    message=f"prompt {self.name!r}: undefined template variable: {exc.message}"
                    f" (variables provided: {', '.join(sorted(variables))})",
                )
            ) from None
        except Exception as exc:  # user template code: any failure is a prompt error
            raise PromptError(
                Issue(
                    file=self._where,
                    message=f"prompt {self.name!r}: template failed to render: "
                    f"{type(exc).__name__}: {exc}",
                )
            ) from None

    def render(
        self,
        variables: Mapping[str, Any],
        *,
        history: Sequence[Mapping[str, Any]] = (),
        user: Mapping[str, Any] | None = None,
        after: Sequence[Mapping[str, Any]] = (),
    ) -> list[dict[str, Any]]:
        """The chat messages for one request, assembled by
        :func:`~releasegate.prompts.assemble_conversation`: the system message (if
        any), the few-shot ``messages`` (if any), ``history``, the user message rendered
        from the template with ``variables``, then ``after``.

        Args:
            variables: template variables by name (an eval case's
                ``Case.template_vars()``, or a served request's variables).
            history: earlier turns of the conversation (a case's ``messages``, or a
                request's messages before its last user turn).
            user: the user message whose text the template replaces (its other keys
                and non-text content parts are kept); default ``{"role": "user"}``.
            after: messages after the last user turn (gateway tool loops).

        Returns:
            New message dicts, e.g. ``[{"role": "system", ...}, {"role": "user", ...}]``.

        Raises:
            PromptError: see :meth:`render_text`.
        """
        return assemble_conversation(
            system=self.system_message(),
            few_shot=self.few_shot(),
            history=history,
            user=user if user is not None else {"role": "user"},
            render=lambda: self.render_text(variables),
            after=after,
        )
