"""An OpenAI-compatible HTTP server for the bundled local models.

Speaks ``/v1/chat/completions`` (whole and streamed), ``/v1/models`` and
``/v1/embeddings``, so targets, judges and embedders reach a local model through exactly
the protocol they use for a hosted one. Run it with ``releasegate local serve`` or
``python -m releasegate.local.server``; the ``local`` provider starts it on demand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from releasegate.local.assets import CHAT_MODEL_ID, EMBEDDING_MODEL_ID
from releasegate.local.llama import ChatEngine, RequestError
from releasegate.local.minilm import MiniLM

__all__ = ["ServerSettings", "create_app", "main", "serve"]

_CHAT_ALIASES = frozenset({"", CHAT_MODEL_ID, CHAT_MODEL_ID.lower(), "smollm2-135m-instruct"})
_EMBED_ALIASES = frozenset({"", EMBEDDING_MODEL_ID, EMBEDDING_MODEL_ID.lower()})


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How to run the local server.

    Attributes:
        gguf: chat model file (default: bundled SmolLM2-135M-Instruct).
        embeddings: model directory for ``/v1/embeddings`` (default: bundled MiniLM).
        threads: CPU threads for llama.cpp and torch.
        n_ctx: chat context window in tokens.
        max_tokens: completion limit when a request sets none.
    """

    gguf: Path | None = None
    embeddings: Path | None = None
    threads: int = 2
    n_ctx: int = 2048
    max_tokens: int = 512


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "request body is not JSON")
    if not isinstance(body, dict):
        return _error(400, "request body must be a JSON object")
    return body


async def _sse(engine: ChatEngine, body: dict[str, Any]) -> AsyncIterator[bytes]:
    """Relay chunks from a generation running in a worker thread as server-sent events."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any] | BaseException | None] = asyncio.Queue()
    cancelled = threading.Event()

    def put(item: dict[str, Any] | BaseException | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed under us: client gone
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        try:
            with contextlib.closing(engine.stream(body)) as chunks:
                for chunk in chunks:
                    if cancelled.is_set():
                        break
                    put(chunk)
        except Exception as exc:
            put(exc)
        finally:
            put(None)

    worker = loop.run_in_executor(None, work)
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                err = {"error": {"message": str(item), "type": "server_error"}}
                yield f"data: {json.dumps(err)}\n\n".encode()
                break
            yield f"data: {json.dumps(item)}\n\n".encode()
        else:
            yield b"data: [DONE]\n\n"
    finally:
        cancelled.set()
        await asyncio.shield(worker)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """The FastAPI app. The chat model loads at startup, the embedder on first use."""
    settings = settings or ServerSettings()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["chat"] = await asyncio.to_thread(
            ChatEngine,
            settings.gguf,
            threads=settings.threads,
            n_ctx=settings.n_ctx,
            max_tokens=settings.max_tokens,
        )
        state["embed"] = MiniLM(settings.embeddings, threads=settings.threads)
        state["started"] = int(time.time())
        yield

    app = FastAPI(title="releasegate local models", lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "model": CHAT_MODEL_ID}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        created = state.get("started", 0)
        return {
            "object": "list",
            "data": [
                {"id": m, "object": "model", "created": created, "owned_by": "releasegate-local"}
                for m in (CHAT_MODEL_ID, EMBEDDING_MODEL_ID)
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request) -> JSONResponse | StreamingResponse:
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        if str(body.get("model") or "") not in _CHAT_ALIASES:
            return _error(404, f"model {body.get('model')!r} not found; serving {CHAT_MODEL_ID}")
        engine: ChatEngine = state["chat"]
        try:
            engine.prepare(body)
            if body.get("stream"):
                return StreamingResponse(_sse(engine, body), media_type="text/event-stream")
            return JSONResponse(await asyncio.to_thread(engine.complete, body))
        except RequestError as exc:
            return _error(400, str(exc))

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> JSONResponse:
        body = await _json_body(request)
        if isinstance(body, JSONResponse):
            return body
        if str(body.get("model") or "") not in _EMBED_ALIASES:
            return _error(
                404, f"model {body.get('model')!r} not found; serving {EMBEDDING_MODEL_ID}"
            )
        raw = body.get("input")
        texts = [raw] if isinstance(raw, str) else raw
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return _error(400, "input must be a string or a list of strings")
        embedder: MiniLM = state["embed"]
        try:
            vectors, tokens = await asyncio.to_thread(embedder.encode, texts)
        except Exception as exc:
            return _error(400, f"embedding failed: {exc}")
        return JSONResponse(
            {
                "object": "list",
                "model": EMBEDDING_MODEL_ID,
                "data": [
                    {"object": "embedding", "index": i, "embedding": v}
                    for i, v in enumerate(vectors)
                ],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    return app


def serve(
    host: str = "127.0.0.1", port: int = 8765, settings: ServerSettings | None = None
) -> None:
    """Run the server in the foreground until interrupted."""
    import uvicorn

    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    """``python -m releasegate.local.server`` (used by the on-demand provider)."""
    parser = argparse.ArgumentParser(prog="releasegate.local.server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--gguf", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = ServerSettings(
        gguf=args.gguf, threads=args.threads, n_ctx=args.n_ctx, max_tokens=args.max_tokens
    )
    serve(args.host, args.port, settings)


if __name__ == "__main__":
    main()
