"""Provider protocols: what the engine needs from a chat model or an embedder."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ChatProvider",
    "ChatRequest",
    "ChatResponse",
    "EmbeddingProvider",
    "Message",
    "Usage",
]

Message = dict[str, Any]
"""An OpenAI-style chat message: ``{"role": ..., "content": ...}``."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one call."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A fully rendered chat call.

    ``params`` holds generation parameters (temperature, max_tokens, seed, ...).
    ``case_id`` and ``repeat`` are not sent upstream; fakes use them to script answers and
    the cache uses ``repeat`` in its key. ``vars`` holds the case's template variables
    (``Case.template_vars()``); only in-process targets (the ``python`` provider) see them.
    """

    messages: tuple[Message, ...]
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    response_format: dict[str, Any] | None = None
    case_id: str | None = None
    repeat: int = 0
    vars: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """What a chat call returned."""

    text: str
    usage: Usage = Usage()
    model: str | None = None
    latency_ms: float = 0.0
    cost_usd: float | None = None
    cached: bool = False
    raw: dict[str, Any] | None = None


class ChatProvider(abc.ABC):
    """A chat model endpoint. Lifecycle: construct, ``await complete(...)`` any number of
    times (concurrently), then ``await aclose()``.

    Subclasses raise :class:`releasegate.errors.ProviderError` on failure with
    ``retryable``/``retry_after`` set, and never retry themselves: the engine owns retries,
    concurrency and rate limits.
    """

    #: registry name, e.g. ``"openai"``
    type: str = ""

    @abc.abstractmethod
    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Run one chat completion."""

    def cache_identity(self) -> dict[str, Any]:
        """What, besides the request, makes an answer distinct (type, base URL ...)."""
        return {"type": self.type}

    @property
    def model(self) -> str | None:
        """The configured (pinned) model name, if any."""
        return None

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


class EmbeddingProvider(abc.ABC):
    """An embedding endpoint (sentence-transformers locally, or `/v1/embeddings`)."""

    type: str = ""

    @abc.abstractmethod
    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed texts; one vector per text, in order."""

    def cache_identity(self) -> dict[str, Any]:
        return {"type": self.type}

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
