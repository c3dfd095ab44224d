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
    ``case_id`` and ``repeat`` are not sent to chat endpoints; fakes use them to script
    answers, and the cache keys on ``repeat`` always and on ``case_id`` for providers
    that read it (see :attr:`ChatProvider.cache_request_fields`). ``vars`` holds the
    case's template variables (``Case.template_vars()``); only application targets
    (``python``, ``http``) see them.
    """

    messages: tuple[Message, ...]
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    response_format: dict[str, Any] | None = None
    case_id: str | None = None
    repeat: int = 0
    vars: dict[str, Any] = field(default_factory=dict)
    #: function tools offered to the model, OpenAI-style
    #: (``{"type": "function", "function": {"name", "description", "parameters"}}``);
    #: ``None`` when the prompt declares none
    tools: tuple[dict[str, Any], ...] | None = None
    #: ``"auto"``, ``"none"``, ``"required"`` or
    #: ``{"type": "function", "function": {"name": ...}}``; ``None`` leaves it to the model
    tool_choice: str | dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """What a chat call returned.

    ``tool_calls`` holds the function calls the model made, each in the OpenAI wire
    shape ``{"id": ..., "type": "function", "function": {"name": ..., "arguments":
    "<JSON text>"}}`` with the arguments as the raw string the model produced (never
    parsed here). Entries are kept as received, so a malformed one (no ``function``,
    arguments that are not a string) reaches the checks, which report it.
    """

    text: str
    usage: Usage = Usage()
    model: str | None = None
    latency_ms: float = 0.0
    cost_usd: float | None = None
    cached: bool = False
    raw: dict[str, Any] | None = None
    tool_calls: tuple[Any, ...] = ()


class ChatProvider(abc.ABC):
    """A chat model endpoint. Lifecycle: construct, ``await complete(...)`` any number of
    times (concurrently), then ``await aclose()``.

    Subclasses raise :class:`releasegate.errors.ProviderError` on failure with
    ``retryable``/``retry_after`` set, and never retry themselves: the engine owns retries,
    concurrency and rate limits.
    """

    #: registry name, e.g. ``"openai"``
    type: str = ""

    #: Request fields, besides the model, messages, parameters, response format and
    #: repeat index (always in the cache key), that this provider's answer depends on:
    #: ``"case_id"`` and/or ``"vars"``. Chat endpoints read neither; the default assumes
    #: both, the safe choice for a provider that does not say.
    cache_request_fields: frozenset[str] = frozenset({"case_id", "vars"})

    #: Set by :func:`~releasegate.providers.build_provider`: the provider's config as it
    #: counts for the cache (secrets digested). The default :meth:`cache_identity` uses
    #: it, so a plugin that does not override the method is still keyed on its options.
    config_identity: dict[str, Any] | None = None

    @abc.abstractmethod
    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Run one chat completion."""

    def cache_identity(self) -> dict[str, Any]:
        """Every option of this provider that can change an answer, as a JSON-able mapping.

        The engine calls it once per provider and digests it into every response-cache
        key, together with the request (:class:`releasegate.providers.cache.CacheKeyer`).
        Include the endpoint, model, default parameters, headers, templates and anything
        else sent to the model or shaping the answer; leave out what only changes how
        the call is made (timeouts, concurrency, retries, the HTTP client). Secrets go in
        as :func:`releasegate.providers.identity.secret_digest` values, never in clear.
        Values must be stable across processes (no object ids, no random values).

        The default is the type, the class and the provider's config with secrets
        digested (when it was built from config).
        """
        ident: dict[str, Any] = {
            "type": self.type,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
        }
        if self.config_identity is not None:
            ident["config"] = self.config_identity
        return ident

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
        """What makes this embedder's vectors distinct (see :meth:`ChatProvider.cache_identity`)."""
        return {"type": self.type}

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
