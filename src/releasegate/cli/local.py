"""``releasegate local serve``: the bundled local models behind an OpenAI-compatible API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import err_console, handle_errors, styled
from releasegate.cli._serve import AccessLog, http_url, run_server

__all__ = ["local_app", "serve_command"]

local_app = typer.Typer(help="Local models with no network (needs the `local` extra).")
app.add_typer(local_app, name="local", no_args_is_help=True)


@local_app.command("serve")
@handle_errors
def serve_command(
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8765,
    host: Annotated[
        str, typer.Option(help="Interface to bind; keep the loopback unless you mean it")
    ] = "127.0.0.1",
    threads: Annotated[int, typer.Option(min=1, max=256, help="CPU threads")] = 2,
    n_ctx: Annotated[int, typer.Option(min=256, help="Context window in tokens")] = 2048,
    max_tokens: Annotated[int, typer.Option(min=1, help="Default completion limit")] = 512,
    gguf: Annotated[
        Path | None,
        typer.Option(help="Another GGUF chat model (default: the bundled SmolLM2-135M)"),
    ] = None,
    access_log: AccessLog = False,
) -> None:
    """Serve SmolLM2-135M-Instruct and all-MiniLM-L6-v2 at http://HOST:PORT/v1.

    Point a provider at it with `type: openai` and `base_url: http://127.0.0.1:PORT/v1`,
    or `type: local` with the same `base_url` to share one server between runs.
    """
    from releasegate.errors import UsageError
    from releasegate.local.assets import (
        CHAT_MODEL_ID,
        EMBEDDING_MODEL_ID,
        chat_model_path,
        require_module,
    )
    from releasegate.local.server import ServerSettings, create_app

    require_module("llama_cpp")
    path = gguf or chat_model_path()
    if not path.is_file():
        raise UsageError(f"--gguf {path}: file not found")
    if host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(
            styled(("warning:", "yellow"), f" serving on {host}: reachable from the network")
        )
    url = http_url(host, port)
    run_server(
        create_app(ServerSettings(gguf=path, threads=threads, n_ctx=n_ctx, max_tokens=max_tokens)),
        host=host,
        port=port,
        access_log=access_log,
        banner=[
            f"local models at {url}/v1 (base_url for providers)",
            f"model ids: {CHAT_MODEL_ID} (chat, file {path}), {EMBEDDING_MODEL_ID} (embeddings)",
        ],
    )
