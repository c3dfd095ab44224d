"""The user's application over HTTP (type ``http``), with aiohttp.

Options:

* ``url`` (required) and ``method`` (default ``POST``).
* ``headers`` (a common provider key): header values may use ``{{ env.NAME }}`` to read
  an environment variable (for tokens), rendered once when the provider is built. Such
  values, and those of credential headers, enter the cache identity only as digests.
* ``body``: a JSON template. Every string in it is a Jinja2 template (sandboxed) seeing
  ``input``, ``messages``, ``vars``, ``case_id``, ``model`` and ``params``. A string that is
  exactly one placeholder (``"{{ messages }}"``) is replaced by the value itself, keeping
  its JSON type; anywhere else values render as text (use ``{{ messages | tojson }}`` for
  JSON text). Default: ``{"input": "{{ input }}"}``. For ``GET`` the body is not sent.
* ``json_path``: where the answer is in the JSON response (see
  :mod:`releasegate.providers.jsonpath`); without it the whole response body is the answer.
* ``usage_path``: where token usage is (an object with ``prompt_tokens`` and
  ``completion_tokens``, or ``input_tokens`` and ``output_tokens``).

One ``aiohttp.ClientSession`` is shared by all calls, its connection pool sized to the
provider's ``concurrency``. HTTP failures map to :class:`ProviderError` the same way as for
the SDK providers (429/5xx/timeouts retryable, ``Retry-After`` honoured).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Literal

import aiohttp
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field

from releasegate import settings as _settings
from releasegate.errors import ProviderError
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse, Usage
from releasegate.providers._errors import shorten, status_error
from releasegate.providers.identity import headers_identity, redact, url_identity
from releasegate.providers.jsonpath import JsonPathError, extract, parse_path
from releasegate.providers.pricing import PriceTable
from releasegate.providers.registry import ProviderSpec

__all__ = ["HttpOptions", "HttpProvider", "render_body"]

_SOLE_PLACEHOLDER = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")
_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


class HttpOptions(BaseModel):
    """Options of the ``http`` provider beyond the common provider keys."""

    model_config = ConfigDict(extra="forbid")

    url: str
    method: Literal["POST", "PUT", "PATCH", "GET"] = "POST"
    body: Any = Field(default_factory=lambda: {"input": "{{ input }}"})
    json_path: str | None = None
    usage_path: str | None = None


class _Template:
    """A compiled JSON template: the same shape, strings replaced by renderers."""

    def __init__(self, spec: ProviderSpec, node: Any, where: str = "body") -> None:
        self.node = self._compile(spec, node, where)

    def _compile(self, spec: ProviderSpec, node: Any, where: str) -> Any:
        if isinstance(node, dict):
            return {k: self._compile(spec, v, f"{where}.{k}") for k, v in node.items()}
        if isinstance(node, list):
            return [self._compile(spec, v, f"{where}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, str):
            sole = _SOLE_PLACEHOLDER.match(node)
            if sole:
                return ("var", sole.group(1))
            if "{{" not in node and "{%" not in node:
                return node
            try:
                return ("tpl", _ENV.from_string(node))
            except TemplateError as exc:
                raise spec.error(f"template error in {where}: {exc}", option="body") from exc
        return node

    def render(self, context: dict[str, Any]) -> Any:
        return self._render(self.node, context)

    def _render(self, node: Any, context: dict[str, Any]) -> Any:
        if isinstance(node, dict):
            return {k: self._render(v, context) for k, v in node.items()}
        if isinstance(node, list):
            return [self._render(v, context) for v in node]
        if isinstance(node, tuple):
            kind, value = node
            if kind == "var":
                if value not in context:
                    raise ProviderError(
                        f"body placeholder {{{{ {value} }}}} is not defined "
                        f"(available: {', '.join(sorted(context))})"
                    )
                return context[value]
            return value.render(context)
        return node


def render_body(template: Any, context: dict[str, Any], spec: ProviderSpec) -> Any:
    """Render a JSON body template once (exposed for ``releasegate validate`` and tests)."""
    return _Template(spec, template).render(context)


def _render_headers(spec: ProviderSpec, headers: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers.items():
        try:
            out[name] = _ENV.from_string(value).render(env=dict(_settings.current().environ))
        except TemplateError as exc:
            raise spec.error(f"header {name!r}: {exc}", option="headers") from exc
    return out


def _templated(headers: dict[str, str]) -> list[str]:
    """Names of headers whose value is a template (it may read secrets from the env)."""
    return [name for name, value in headers.items() if "{{" in value or "{%" in value]


def _usage(data: Any) -> Usage:
    if not isinstance(data, dict):
        return Usage()
    prompt = data.get("prompt_tokens", data.get("input_tokens", 0))
    completion = data.get("completion_tokens", data.get("output_tokens", 0))
    try:
        return Usage(prompt_tokens=int(prompt or 0), completion_tokens=int(completion or 0))
    except (TypeError, ValueError):
        return Usage()


class HttpProvider(ChatProvider):
    """Calls an HTTP endpoint of the user's application.

    Build it with :meth:`from_spec`; the constructor takes already-validated parts.
    """

    type = "http"

    def __init__(
        self,
        *,
        name: str,
        options: HttpOptions,
        template: _Template,
        headers: dict[str, str],
        timeout_s: float,
        concurrency: int,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        pricing: PriceTable | None = None,
        secret_headers: tuple[str, ...] | list[str] = (),
    ) -> None:
        self.name = name
        self._opts = options
        self._template = template
        self._headers = headers
        self._timeout_s = timeout_s
        self._concurrency = concurrency
        self._model = model
        self._params = dict(params or {})
        self._pricing = pricing or PriceTable()
        self._json_path = parse_path(options.json_path) if options.json_path else None
        self._usage_path = parse_path(options.usage_path) if options.usage_path else None
        self._session: aiohttp.ClientSession | None = None
        self._identity: dict[str, Any] = {
            "type": self.type,
            "url": url_identity(options.url),
            "method": options.method,
            "body": redact(options.body),
            "json_path": self._json_path,
            "usage_path": self._usage_path,
            "headers": headers_identity(headers, secret=secret_headers),
            "model": model,
            "params": self._params,
        }

    @classmethod
    def from_spec(cls, spec: ProviderSpec) -> HttpProvider:
        """Validate options, compile the body template and check the paths."""
        opts = spec.options(HttpOptions)
        if not opts.url.startswith(("http://", "https://")):
            raise spec.error(f"url {opts.url!r} must start with http:// or https://", option="url")
        for option in ("json_path", "usage_path"):
            value = getattr(opts, option)
            if value is not None:
                try:
                    parse_path(value)
                except JsonPathError as exc:
                    raise spec.error(str(exc), option=option) from exc
        cfg = spec.config
        return cls(
            name=spec.name,
            options=opts,
            template=_Template(spec, opts.body),
            headers=_render_headers(spec, cfg.headers),
            secret_headers=_templated(cfg.headers),
            timeout_s=cfg.timeout_s,
            concurrency=cfg.concurrency,
            model=cfg.model,
            params=cfg.params,
            pricing=spec.pricing,
        )

    @property
    def model(self) -> str | None:
        return self._model

    def cache_identity(self) -> dict[str, Any]:
        """URL, method, body template, answer and usage paths, headers (credentials and
        values rendered from the environment as digests), model and default parameters.
        The answer also depends on the case id and variables the body template sees."""
        return self._identity

    def _session_for_loop(self) -> aiohttp.ClientSession:
        # Created on first use: aiohttp sessions belong to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._concurrency),
                timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                headers=self._headers,
            )
        return self._session

    def _context(self, request: ChatRequest) -> dict[str, Any]:
        last_user = next(
            (m.get("content") for m in reversed(request.messages) if m.get("role") == "user"),
            "",
        )
        given = request.vars.get("input")
        return {
            "input": given if isinstance(given, str) else last_user,
            "messages": [dict(m) for m in request.messages],
            "vars": dict(request.vars),
            "case_id": request.case_id,
            "model": request.model or self._model,
            "params": {**self._params, **request.params},
        }

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """POST (or the configured method) the rendered body and extract the answer.

        Raises:
            ProviderError: retryable for 408/409/429/5xx, timeouts and connection errors;
                not retryable for other statuses or an answer missing at ``json_path``.
        """
        try:
            body = self._template.render(self._context(request))
        except TemplateError as exc:
            raise ProviderError(f"{self.name}: cannot render the request body: {exc}") from exc
        session = self._session_for_loop()
        kwargs: dict[str, Any] = {} if self._opts.method == "GET" else {"json": body}
        start = time.perf_counter()
        try:
            async with session.request(self._opts.method, self._opts.url, **kwargs) as resp:
                raw = await resp.read()
                status = resp.status
                headers = dict(resp.headers)
                content_type = resp.content_type
        except TimeoutError as exc:
            raise ProviderError(
                f"{self.name}: request timed out after {self._timeout_s:g} s", retryable=True
            ) from exc
        except aiohttp.ClientError as exc:
            raise ProviderError(
                f"{self.name}: connection error to {self._opts.url}: {exc}", retryable=True
            ) from exc
        latency_ms = (time.perf_counter() - start) * 1000
        text_body = raw.decode("utf-8", errors="replace")
        if status >= 400:
            raise status_error(status, shorten(text_body), provider=self.name, headers=headers)
        return self._response(text_body, content_type, latency_ms, request)

    def _response(
        self, text_body: str, content_type: str, latency_ms: float, request: ChatRequest
    ) -> ChatResponse:
        data: Any = None
        if self._json_path is not None or self._usage_path is not None:
            try:
                data = json.loads(text_body)
            except json.JSONDecodeError as exc:
                raise ProviderError(
                    f"{self.name}: response is not JSON ({content_type}): {shorten(text_body)}"
                ) from exc
        if self._json_path is None:
            text = text_body
        else:
            try:
                value = extract(data, self._json_path)
            except JsonPathError as exc:
                raise ProviderError(
                    f"{self.name}: json_path {self._opts.json_path!r} not found in the "
                    f"response: {exc}"
                ) from exc
            text = value if isinstance(value, str) else json.dumps(value)
        usage = Usage()
        if self._usage_path is not None:
            try:
                usage = _usage(extract(data, self._usage_path))
            except JsonPathError:
                usage = Usage()  # usage is optional information, not the answer
        model = request.model or self._model
        return ChatResponse(
            text=text,
            usage=usage,
            model=model,
            latency_ms=latency_ms,
            cost_usd=self._pricing.cost(model, usage) if self._usage_path else None,
            raw=data if isinstance(data, dict) else None,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
