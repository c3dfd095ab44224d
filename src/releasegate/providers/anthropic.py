"""Anthropic Messages API (type ``anthropic``) through the official ``anthropic`` SDK.

The SDK is an optional extra (``pip install 'releasegate[anthropic]'``) and is imported
only when an ``anthropic`` provider is built. Chat messages arrive OpenAI-style; system
and developer messages are moved to the Messages API's top-level ``system`` field;
OpenAI-style function tools, tool choice, the tool calls of assistant messages and
``tool`` results are mapped to the Messages API's (see
:mod:`releasegate.providers._anthropic_tools`), and ``tool_use`` blocks come back as
tool calls. As for ``openai``,
the SDK runs on its aiohttp transport, never retries (the engine does), and calls go
through its generic ``post`` to skip per-call schema walking; failures map to the same
retryable :class:`ProviderError` classes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from releasegate import settings as _settings
from releasegate._optional import MissingExtra, install_command, require
from releasegate.errors import ProviderError
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse, Message, Usage
from releasegate.providers._anthropic_tools import (
    anthropic_tool_choice,
    anthropic_tools,
    messages_api_conversation,
    tool_calls_of,
)
from releasegate.providers._body import model_and_params
from releasegate.providers._errors import shorten, status_error
from releasegate.providers.identity import headers_identity, secret_digest, url_identity
from releasegate.providers.pricing import PriceTable
from releasegate.providers.registry import ProviderSpec

if TYPE_CHECKING:
    import anthropic
    import httpx2

__all__ = ["AnthropicOptions", "AnthropicProvider", "split_system"]

INSTALL_HINT = f"the anthropic SDK is not installed: {install_command('anthropic')}"


class AnthropicOptions(BaseModel):
    """Options of the ``anthropic`` provider beyond the common provider keys."""

    model_config = ConfigDict(extra="forbid")

    client: Literal["aiohttp", "httpx"] = "aiohttp"
    max_tokens: int = Field(
        default=1024, ge=1, description="Default max_tokens (the Messages API requires one)"
    )


def split_system(messages: tuple[Message, ...] | list[Message]) -> tuple[str | None, list[Message]]:
    """An OpenAI-style conversation as the Messages API's ``system`` and ``messages``.

    System and developer messages are joined by blank lines into the first item (``None``
    without any); tool calls and tool results are mapped as
    :func:`~releasegate.providers._anthropic_tools.messages_api_conversation` describes.

    Raises:
        ValueError: a tool call or tool result that cannot be mapped, naming the message.
    """
    return messages_api_conversation(messages)


class AnthropicProvider(ChatProvider):
    """Claude models over the Messages API.

    Args:
        name: provider name, used in error messages.
        model: the configured pinned model (a request's own model wins).
        api_key: the key.
        base_url: API base URL (``None`` for api.anthropic.com).
        timeout_s: per-call timeout.
        params: default generation parameters.
        headers: extra HTTP headers on every call.
        pricing: prices for the cost of each call.
        max_tokens: used when neither params nor the request set ``max_tokens``.
        client: ``"aiohttp"`` or ``"httpx"``.
        http_client: an ``httpx2.AsyncClient`` to use instead (tests pass a mock transport).
    """

    type = "anthropic"
    cache_request_fields: frozenset[str] = frozenset()

    def __init__(
        self,
        *,
        name: str = "anthropic",
        model: str | None = None,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 60.0,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        pricing: PriceTable | None = None,
        max_tokens: int = 1024,
        client: Literal["aiohttp", "httpx"] = "aiohttp",
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        require("anthropic", purpose="the anthropic provider")
        import anthropic

        self._sdk = anthropic
        self.name = name
        self._model = model
        self._timeout_s = timeout_s
        self._params = dict(params or {})
        self._pricing = pricing or PriceTable()
        self._max_tokens = max_tokens
        if http_client is None:
            http_client = (
                anthropic.DefaultAioHttpClient(timeout=timeout_s)
                if client == "aiohttp"
                else anthropic.DefaultAsyncHttpxClient(timeout=timeout_s)
            )
        self._client: anthropic.AsyncAnthropic = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout_s,
            max_retries=0,
            default_headers=headers or None,
            http_client=http_client,
        )
        auth_token = self._client.auth_token  # the SDK reads ANTHROPIC_AUTH_TOKEN too
        self._identity: dict[str, Any] = {
            "type": self.type,
            "base_url": url_identity(str(self._client.base_url)),
            "api_key": secret_digest(api_key),
            "auth_token": secret_digest(auth_token) if auth_token else None,
            "headers": headers_identity(headers or {}),
            "model": model,
            "params": self._params,
            "max_tokens": max_tokens,
        }

    @classmethod
    def from_spec(cls, spec: ProviderSpec) -> AnthropicProvider:
        """Build from config; the key comes from ``api_key_env`` or ``ANTHROPIC_API_KEY``."""
        opts = spec.options(AnthropicOptions)
        try:
            require("anthropic")
        except MissingExtra as exc:  # one line naming the config entry and the extra
            raise spec.error(str(exc)) from None
        cfg = spec.config
        env_name = cfg.api_key_env or "ANTHROPIC_API_KEY"
        key = _settings.current().secret(env_name)
        if not key:
            raise spec.error(
                f"environment variable {env_name} is not set (it should hold the API key)",
                option="api_key_env",
            )
        return cls(
            name=spec.name,
            model=cfg.model,
            api_key=key,
            base_url=cfg.base_url,
            timeout_s=cfg.timeout_s,
            params=cfg.params,
            headers=cfg.headers,
            pricing=spec.pricing,
            max_tokens=opts.max_tokens,
            client=opts.client,
        )

    @property
    def model(self) -> str | None:
        return self._model

    def cache_identity(self) -> dict[str, Any]:
        """Base URL, key digest, headers, model, default parameters and ``max_tokens``."""
        return self._identity

    def _body(self, request: ChatRequest) -> tuple[str, dict[str, Any]]:
        model, body = model_and_params(self.name, self._model, self._params, request)
        # OpenAI-style parameter names that Anthropic spells differently or lacks.
        if "stop" in body:
            stop = body.pop("stop")
            body["stop_sequences"] = [stop] if isinstance(stop, str) else stop
        for unsupported in ("seed", "frequency_penalty", "presence_penalty", "n"):
            body.pop(unsupported, None)
        body.setdefault("max_tokens", self._max_tokens)
        parallel = body.pop("parallel_tool_calls", None)
        try:
            if request.tools is not None:
                body["tools"] = anthropic_tools(request.tools)
            choice = anthropic_tool_choice(request.tool_choice, parallel)
        except ValueError as exc:
            raise ProviderError(f"{self.name}: {exc}") from None
        if choice is not None:
            body["tool_choice"] = choice
        try:
            system, messages = split_system(request.messages)
        except ValueError as exc:
            case = f"case {request.case_id!r}: " if request.case_id else ""
            raise ProviderError(f"{self.name}: {case}{exc}") from None
        if system is not None:
            body["system"] = system
        body["model"] = model
        body["messages"] = messages
        return model, body

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Run one Messages API call.

        Raises:
            ProviderError: retryable for 408/409/429/5xx (including 529 overloaded),
                timeouts and connection errors, with ``retry_after`` when sent.
        """
        sdk = self._sdk
        model, body = self._body(request)
        start = time.perf_counter()
        try:
            data = await self._client.post("/v1/messages", body=body, cast_to=dict[str, Any])
        except sdk.APITimeoutError as exc:
            raise ProviderError(
                f"{self.name}: request timed out after {self._timeout_s:g} s", retryable=True
            ) from exc
        except sdk.APIConnectionError as exc:
            raise ProviderError(
                f"{self.name}: connection error to {self._client.base_url}: {exc.__cause__ or exc}",
                retryable=True,
            ) from exc
        except sdk.APIStatusError as exc:
            raise status_error(
                exc.status_code, _detail(exc), provider=self.name, headers=exc.response.headers
            ) from exc
        except (sdk.AnthropicError, ValueError) as exc:
            raise ProviderError(f"{self.name}: unreadable response: {exc}") from exc
        latency_ms = (time.perf_counter() - start) * 1000
        if not isinstance(data, dict) or not isinstance(data.get("content"), list):
            raise ProviderError(
                f"{self.name}: malformed response (no content list): {shorten(repr(data), 200)}"
            )
        text = "".join(
            str(block.get("text", ""))
            for block in data["content"]
            if isinstance(block, dict) and block.get("type") == "text"
        )
        raw_usage = data.get("usage") or {}
        usage = Usage(
            prompt_tokens=int(raw_usage.get("input_tokens") or 0),
            completion_tokens=int(raw_usage.get("output_tokens") or 0),
        )
        served_model = str(data.get("model") or model)
        return ChatResponse(
            text=text,
            tool_calls=tool_calls_of(data["content"]),
            usage=usage,
            model=served_model,
            latency_ms=latency_ms,
            cost_usd=self._pricing.cost_first((model, served_model), usage),
            raw=data,
        )

    async def aclose(self) -> None:
        await self._client.close()


def _detail(exc: anthropic.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return shorten(str(err["message"]))
    return shorten(exc.message)
