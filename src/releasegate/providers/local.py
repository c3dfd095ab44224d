"""The ``local`` provider: SmolLM2-135M-Instruct on this machine, no network.

On first use it starts the bundled OpenAI-compatible server
(:mod:`releasegate.local.server`) as a subprocess on a free 127.0.0.1 port, waits for its
readiness probe, and then talks to it through the ``openai`` provider, so a local target
or judge goes through exactly the code path of a hosted one. Set ``base_url`` to use a
server that is already running (``releasegate local serve``) instead. The server stops at
:meth:`LocalProvider.aclose`.

Config options (besides the common provider keys): ``threads`` (default 2), ``n_ctx``
(default 2048), ``max_tokens`` (default completion limit, 512), ``gguf`` (another GGUF
chat model file) and ``startup_timeout_s`` (default 180). Needs the ``local`` extra.
The cache identity holds what shapes an answer: the model, the default parameters, and
either ``base_url`` or the started server's GGUF file name, ``n_ctx`` and ``max_tokens``
(``threads`` and the timeouts do not change answers).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from releasegate._optional import MissingExtra
from releasegate.errors import ProviderError
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse
from releasegate.local.assets import CHAT_MODEL_ID, require_module
from releasegate.local.process import LocalServerProcess
from releasegate.providers.identity import url_identity
from releasegate.providers.openai import OpenAIProvider
from releasegate.providers.registry import ProviderSpec

__all__ = ["LocalOptions", "LocalProvider"]


class LocalOptions(BaseModel):
    """Options of the ``local`` provider beyond the common provider keys."""

    model_config = ConfigDict(extra="forbid")

    threads: int = Field(default=2, ge=1, le=256)
    n_ctx: int = Field(default=2048, ge=256, le=131072)
    max_tokens: int = Field(default=512, ge=1, le=131072)
    gguf: str | None = None
    startup_timeout_s: float = Field(default=180.0, gt=0)


def _size(path: Path | None) -> int | None:
    if path is None:
        return None
    try:
        return Path(path).stat().st_size
    except OSError:
        return None


class LocalProvider(ChatProvider):
    """A local GGUF chat model behind the bundled OpenAI-compatible server.

    Args:
        name: provider name, for error messages.
        model: the model name to request (default: the bundled SmolLM2 build).
        base_url: an already running server's ``/v1`` URL; none starts one on demand.
        timeout_s: per-call timeout.
        params: default generation parameters.
        server: the server process to start on demand (built from options by config).
    """

    type = "local"
    cache_request_fields: frozenset[str] = frozenset()

    def __init__(
        self,
        *,
        name: str = "local",
        model: str | None = None,
        base_url: str | None = None,
        timeout_s: float = 120.0,
        params: dict[str, Any] | None = None,
        server: LocalServerProcess | None = None,
    ) -> None:
        self.name = name
        self._model = model or CHAT_MODEL_ID
        self._base_url = base_url
        self._timeout_s = timeout_s
        self._params = dict(params or {})
        self._server = server if base_url is None else None
        if self._base_url is None and self._server is None:
            self._server = LocalServerProcess()
        self._client: OpenAIProvider | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_spec(cls, spec: ProviderSpec) -> LocalProvider:
        opts = spec.options(LocalOptions)
        cfg = spec.config
        gguf = spec.resolve(opts.gguf) if opts.gguf else None
        if gguf is not None and not gguf.is_file():
            raise spec.error(f"GGUF file not found: {gguf}", option="gguf")
        if cfg.base_url is None:  # this process starts the server: the extra must be here
            try:
                require_module("llama_cpp")
            except MissingExtra as exc:
                raise spec.error(str(exc)) from None
        server = LocalServerProcess(
            threads=opts.threads,
            n_ctx=opts.n_ctx,
            max_tokens=opts.max_tokens,
            gguf=gguf,
            startup_timeout_s=opts.startup_timeout_s,
        )
        model = cfg.model or (f"local:{gguf.name}" if gguf else None)
        return cls(
            name=spec.name,
            model=model,
            base_url=cfg.base_url,
            timeout_s=cfg.timeout_s,
            params=cfg.params,
            server=server,
        )

    @property
    def model(self) -> str | None:
        return self._model

    def cache_identity(self) -> dict[str, Any]:
        """Model, default parameters, and the server: its URL, or how it is started."""
        ident: dict[str, Any] = {"type": self.type, "model": self._model, "params": self._params}
        if self._base_url is not None:
            ident["base_url"] = url_identity(self._base_url)
        elif self._server is not None:
            gguf = self._server.gguf
            ident["gguf"] = Path(gguf).name if gguf is not None else None
            ident["gguf_bytes"] = _size(gguf)
            ident["n_ctx"] = self._server.n_ctx
            ident["max_tokens"] = self._server.max_tokens
        return ident

    async def _openai(self) -> OpenAIProvider:
        async with self._lock:
            if self._client is None:
                url = self._base_url
                if url is None:
                    assert self._server is not None
                    url = await self._server.start()
                self._client = OpenAIProvider(
                    name=self.name,
                    # The server answers to any alias; the GGUF it loaded is what runs.
                    model=self._model if self._base_url else CHAT_MODEL_ID,
                    base_url=url,
                    timeout_s=self._timeout_s,
                    params=self._params,
                    client="httpx",
                )
            return self._client

    async def complete(self, request: ChatRequest) -> ChatResponse:
        """Run one chat completion on the local server (starting it if needed).

        Raises:
            MissingExtra: a package of the ``local`` extra is not installed.
            ProviderError: the server failed to start, or the call failed (see the
                ``openai`` provider).
        """
        if self._base_url is None:
            # The server this provider starts serves one model: never answer a request for
            # another one (a prompt pinned to a hosted model) as if it had been served.
            served = {"", self._model.lower(), CHAT_MODEL_ID.lower(), "smollm2-135m-instruct"}
            if (request.model or "").lower() not in served:
                raise ProviderError(
                    f"model {request.model!r} is not served by the local provider "
                    f"{self.name!r} (it serves {self._model}; use that model id)",
                    status=404,
                )
        client = await self._openai()
        if self._base_url is None:
            request = dataclasses.replace(request, model=CHAT_MODEL_ID)
        try:
            response = await client.complete(request)
        except ProviderError as exc:
            if exc.status != 404:
                raise
            raise ProviderError(
                f"model {request.model or self._model!r} is not served by the local server "
                f"at {self._base_url} (it serves {CHAT_MODEL_ID}; use that model id)",
                status=404,
            ) from exc
        # Running on this machine costs no API dollars.
        return dataclasses.replace(response, cost_usd=0.0, model=self._model)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        if self._server is not None:
            await self._server.stop()
