"""OpenAI-compatible chat endpoints (type ``openai``) through the official ``openai`` SDK.

Works with api.openai.com and any server that speaks ``/v1/chat/completions`` (vLLM,
Ollama, llama.cpp server, LiteLLM, the releasegate gateway) via ``base_url``.

Choices made for throughput, measured in ``benchmarks/provider_clients`` and
``benchmarks/eval_throughput``:

* The default client (``client: direct``) speaks the chat-completions protocol on a bare
  aiohttp session (:mod:`releasegate.providers._openai_direct`): no SDK import (about
  0.9 s) and no per-call SDK request building (about 0.8 ms of CPU per call). It sends
  the same requests, maps errors to the same :class:`ProviderError` and shares the cache
  identity with the SDK client.
* ``client: sdk`` uses the official SDK on its aiohttp transport
  (``openai.DefaultAioHttpClient``; ``aiohttp`` is the same); ``client: httpx`` on the
  SDK's default httpx pool, which was slower at concurrency 32.
* On the SDK, calls go through the SDK's generic ``post`` with a plain dict body and a dict result.
  ``chat.completions.create`` walks the typed request schema and builds pydantic models
  for every call, which cost about 0.5 ms of CPU per call, on the event loop that also
  drives every other call in flight. Auth, headers, timeouts and the SDK's error classes
  are the same on both paths.

The SDK never retries (``max_retries=0``): the engine owns retries and honours the
``Retry-After`` value carried by the :class:`ProviderError` raised here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from releasegate import settings as _settings
from releasegate.errors import ProviderError
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse, Usage
from releasegate.providers._body import model_and_params
from releasegate.providers._errors import shorten, status_error
from releasegate.providers._openai_direct import DirectChatClient, decode_answer, error_detail
from releasegate.providers.identity import headers_identity, secret_digest, url_identity
from releasegate.providers.pricing import PriceTable
from releasegate.providers.registry import ProviderSpec

if TYPE_CHECKING:
    import openai

__all__ = ["OpenAIOptions", "OpenAIProvider", "sdk_base_url"]

# Local OpenAI-compatible servers ignore the key, but the SDK refuses to start without one.
_PLACEHOLDER_KEY = "releasegate-no-key"


class OpenAIOptions(BaseModel):
    """Options of the ``openai`` provider beyond the common provider keys."""

    model_config = ConfigDict(extra="forbid")

    client: Literal["direct", "sdk", "aiohttp", "httpx"] = "direct"
    organization: str | None = None
    project: str | None = None


class OpenAIProvider(ChatProvider):
    """Chat completions against an OpenAI-compatible endpoint.

    Args:
        name: provider name, used in error messages.
        model: the configured pinned model (a request's own model wins).
        base_url: API base URL (``None`` for api.openai.com).
        api_key: the key; a placeholder is fine for local servers.
        timeout_s: per-call timeout.
        params: default generation parameters (a request's params win).
        headers: extra HTTP headers on every call.
        pricing: prices for the cost of each call.
        client: ``"direct"`` (the default: no SDK, chat completions on a bare aiohttp
            session), ``"sdk"`` (the official SDK on its aiohttp transport; ``"aiohttp"``
            is the same) or ``"httpx"`` (the SDK on httpx).
        organization: OpenAI organization id (default: ``OPENAI_ORG_ID``, as the SDK).
        project: OpenAI project id (default: ``OPENAI_PROJECT_ID``, as the SDK).
    """

    type = "openai"
    cache_request_fields: frozenset[str] = frozenset()

    def __init__(
        self,
        *,
        name: str = "openai",
        model: str | None = None,
        base_url: str | None = None,
        api_key: str = _PLACEHOLDER_KEY,
        timeout_s: float = 60.0,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        pricing: PriceTable | None = None,
        client: Literal["direct", "sdk", "aiohttp", "httpx"] = "direct",
        organization: str | None = None,
        project: str | None = None,
        concurrency: int = 100,
    ) -> None:
        self.name = name
        self._model = model
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._params = dict(params or {})
        self._pricing = pricing or PriceTable()
        self._direct: DirectChatClient | None = None
        self._client: openai.AsyncOpenAI | None = None
        self._base_url_norm = sdk_base_url(base_url)
        # Resolved here, as the SDK would, so that every client sends the same ids.
        if organization is None:
            organization = _settings.current().openai_org_id
        if project is None:
            project = _settings.current().openai_project_id
        self._identity: dict[str, Any] = {
            "type": self.type,
            "base_url": url_identity(self._base_url_norm),
            "api_key": secret_digest(api_key),
            "organization": organization,
            "project": project,
            "headers": headers_identity(headers or {}),
            "model": model,
            "params": self._params,
        }
        if client == "direct":
            extra = dict(headers or {})
            if organization:
                extra["OpenAI-Organization"] = organization
            if project:
                extra["OpenAI-Project"] = project
            self._direct = DirectChatClient(
                name=name,
                base_url=self._base_url_norm,
                api_key=api_key,
                timeout_s=timeout_s,
                headers=extra,
                concurrency=concurrency,
            )
            return
        # The SDK takes about 0.9 s to import (its typed models); `client: direct` never
        # pays for it.
        import openai

        http_client = (
            openai.DefaultAsyncHttpxClient(timeout=timeout_s)
            if client == "httpx"
            else openai.DefaultAioHttpClient(timeout=timeout_s)
        )
        self._client = openai.AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            organization=organization,
            project=project,
            timeout=timeout_s,
            max_retries=0,
            default_headers=headers or None,
            http_client=http_client,
        )

    @classmethod
    def from_spec(cls, spec: ProviderSpec) -> OpenAIProvider:
        """Build from config; the key comes from ``api_key_env`` (or ``OPENAI_API_KEY``)."""
        opts = spec.options(OpenAIOptions)
        cfg = spec.config
        env_name = cfg.api_key_env
        if env_name is not None:
            key = _settings.current().secret(env_name)
            if not key:
                raise spec.error(
                    f"environment variable {env_name} (api_key_env) is not set",
                    option="api_key_env",
                )
        else:
            key = _settings.current().openai_api_key
            if not key:
                if cfg.base_url is None:
                    raise spec.error(
                        "no API key: set OPENAI_API_KEY or api_key_env, or point base_url "
                        "at a local OpenAI-compatible server"
                    )
                key = _PLACEHOLDER_KEY
        return cls(
            name=spec.name,
            model=cfg.model,
            base_url=cfg.base_url,
            api_key=key,
            timeout_s=cfg.timeout_s,
            params=cfg.params,
            headers=cfg.headers,
            pricing=spec.pricing,
            client=opts.client,
            organization=opts.organization,
            project=opts.project,
            concurrency=cfg.concurrency,
        )

    @property
    def model(self) -> str | None:
        return self._model

    def cache_identity(self) -> dict[str, Any]:
        """Base URL (normalised as the SDK does, so every ``client`` shares answers),
        key digest, organization, project, headers, model and default parameters."""
        return self._identity

    def _body(self, request: ChatRequest) -> tuple[str, dict[str, Any]]:
        model, body = model_and_params(self.name, self._model, self._params, request)
        body["model"] = model
        body["messages"] = list(request.messages)
        if request.response_format is not None:
            body["response_format"] = request.response_format
        if request.tools is not None:
            body["tools"] = list(request.tools)
        if request.tool_choice is not None:
            body["tool_choice"] = request.tool_choice
        return model, body

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Run one chat completion.

        Raises:
            ProviderError: retryable for 408/409/429/5xx, timeouts and connection errors,
                with ``retry_after`` from ``retry-after-ms``/``Retry-After``.
        """
        model, body = self._body(request)
        start = time.perf_counter()
        if self._direct is not None:
            data = await self._direct.post(body)
        else:
            data = await self._post_sdk(body)
        return self._response(model, data, (time.perf_counter() - start) * 1000)

    async def _post_sdk(self, body: dict[str, Any]) -> Any:
        import httpx
        import openai

        assert self._client is not None
        try:
            # The raw answer, decoded as on the direct path: both clients fail alike.
            response = await self._client.post(
                "/chat/completions", body=body, cast_to=httpx.Response
            )
            return decode_answer(self.name, await response.aread())
        except openai.APITimeoutError as exc:
            import aiohttp

            refused = _connect_failure(exc, aiohttp.ClientConnectorError)
            if refused is not None:
                raise ProviderError(
                    f"{self.name}: connection error to {self._base_url_norm}: {refused}",
                    retryable=True,
                ) from exc
            raise ProviderError(
                f"{self.name}: request timed out after {self._timeout_s:g} s", retryable=True
            ) from exc
        except openai.APIConnectionError as exc:
            cause = exc.__cause__ or exc
            raise ProviderError(
                f"{self.name}: connection error to {self._base_url_norm}: {cause}",
                retryable=True,
            ) from exc
        except openai.APIStatusError as exc:
            raise status_error(
                exc.status_code,
                error_detail(exc.response.content),
                provider=self.name,
                headers=exc.response.headers,
            ) from exc
        except openai.OpenAIError as exc:
            raise ProviderError(f"{self.name}: unreadable response: {exc}") from exc

    def _response(self, model: str, data: Any, latency_ms: float) -> ChatResponse:
        try:
            message = data["choices"][0]["message"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ProviderError(
                f"{self.name}: malformed response (no choices[0].message): "
                f"{shorten(repr(data), 200)}"
            ) from exc
        text = message.get("content")
        if text is None:
            # A model that declines answers in ``refusal``; keep it so checks can see it.
            text = message.get("refusal") or ""
        if isinstance(text, list):
            text = "".join(str(p.get("text", "")) for p in text if isinstance(p, dict))
        raw_usage = data.get("usage") or {}
        usage = Usage(
            prompt_tokens=int(raw_usage.get("prompt_tokens") or 0),
            completion_tokens=int(raw_usage.get("completion_tokens") or 0),
        )
        served = data.get("model")
        served_model = str(served) if served else model
        calls = message.get("tool_calls")
        # Kept as received: a malformed entry is the checks' to report, not a failure.
        tool_calls = () if calls is None else tuple(calls) if isinstance(calls, list) else (calls,)
        return ChatResponse(
            tool_calls=tool_calls,
            text=str(text),
            usage=usage,
            model=served_model,
            latency_ms=latency_ms,
            cost_usd=self._pricing.cost_first((model, served_model), usage),
            raw=data,
        )

    async def aclose(self) -> None:
        if self._direct is not None:
            await self._direct.close()
        if self._client is not None:
            await self._client.close()


def sdk_base_url(base_url: str | None) -> str:
    """``base_url`` as the SDK normalises it (lower-case scheme and host, a trailing
    slash; ``OPENAI_BASE_URL`` or api.openai.com when unset), without importing the SDK.
    """
    raw = base_url or _settings.current().openai_base_url or "https://api.openai.com/v1"
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rsplit("@", 1)[0] + "@" + netloc
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))


def _connect_failure(
    exc: BaseException, connector_error: type[BaseException]
) -> BaseException | None:
    """The refused/unreachable connection behind a reported timeout, if that is what it was.

    The SDK's aiohttp transport reports every ``aiohttp.ClientConnectionError`` as a connect
    *timeout*; a refused connection should say so, or users chase a slow server that is
    actually down.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, connector_error) or (
            isinstance(current, ConnectionError) and not isinstance(current, TimeoutError)
        ):
            return current
        current = current.__cause__ or current.__context__
    return None
