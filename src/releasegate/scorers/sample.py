"""What a check scores: one model output and the inputs it answered.

A :class:`Sample` is the whole scorer input. It is built from an eval case and the
target's response by the eval engine, and from a recorded production interaction by
online scoring; checks see the same fields either way and never a dataset case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from releasegate.llm import Usage

__all__ = ["Sample", "as_chunks"]


def as_chunks(context: str | Sequence[str] | None) -> tuple[str, ...]:
    """Retrieved context as a tuple of chunks.

    ``None`` and ``""`` are no context (``()``); one text is one chunk; a list keeps its
    order (``[""]`` is one empty chunk, which is context that was retrieved).
    """
    if context is None or context == "":
        return ()
    if isinstance(context, str):
        return (context,)
    return tuple(context)


@dataclass(frozen=True, slots=True)
class Sample:
    """One output to score and what produced it.

    Only ``output`` is positional; every other field is a keyword.

    Attributes:
        output: the text the model or application answered (``""`` when it failed).
        input: the user's text (the question a judge or relevancy check reads).
        variables: the input variables the prompt was rendered with (may be empty).
        context: retrieved chunks in rank order; ``()`` when there is no context. A
            single text or ``None`` given here is turned into chunks (see
            :func:`as_chunks`).
        reference: the expected answer, or ``None``.
        expected_behavior: what a good answer does, in words (a judge's rubric), or
            ``None``.
        metadata: free-form data about the interaction or case.
        tags: labels of the interaction or case.
        id: the case id or request id; judge calls carry it (response cache keys).
        latency_ms: the call's latency in milliseconds, when measured.
        cost_usd: the call's cost in US dollars, when known.
        usage: the call's tokens, when known.
        error: why the call failed, when it did (checks then score 0).
        repeat: which repetition of the same input this is (0 for the first).
        tool_calls: the function calls the model made, as received (OpenAI shape
            ``{"id", "type": "function", "function": {"name", "arguments"}}``; entries
            may be malformed, and tool-call checks say so); ``()`` for a text answer.
        tools: the function tools the request offered (OpenAI shape); ``()`` for none.
    """

    output: str
    _: KW_ONLY
    input: str = ""
    variables: Mapping[str, Any] = field(default_factory=dict)
    context: tuple[str, ...] = ()
    reference: str | None = None
    expected_behavior: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    id: str = ""
    latency_ms: float | None = None
    cost_usd: float | None = None
    usage: Usage | None = None
    error: str | None = None
    repeat: int = 0
    tool_calls: tuple[Any, ...] = ()
    tools: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if type(self.context) is not tuple:
            object.__setattr__(self, "context", as_chunks(self.context))
        if type(self.tags) is not tuple:
            object.__setattr__(self, "tags", tuple(self.tags))
