"""Start and stop the local model server as a subprocess on a free loopback port.

The server runs in its own process so that llama.cpp and torch threads never compete
with the engine's event loop, and so that a crash in native code cannot take the eval run
down with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx

from releasegate import settings as _settings
from releasegate.errors import ProviderError
from releasegate.local.assets import chat_model_path, require_module

__all__ = ["LocalServerProcess", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LocalServerProcess:
    """The local server as a child process.

    Args:
        threads: llama.cpp/torch threads.
        n_ctx: context window of the chat model.
        max_tokens: default completion limit.
        gguf: another GGUF chat model file.
        startup_timeout_s: how long to wait for the readiness probe.
    """

    def __init__(
        self,
        *,
        threads: int = 2,
        n_ctx: int = 2048,
        max_tokens: int = 512,
        gguf: Path | None = None,
        startup_timeout_s: float = 180.0,
    ) -> None:
        self.threads = threads
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.gguf = gguf
        self.startup_timeout_s = startup_timeout_s
        self.base_url: str | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._log: Path | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> str:
        """Start the server (once) and wait until it answers; its ``/v1`` base URL.

        Raises:
            MissingExtra: a package of the ``local`` extra is not installed.
            ProviderError: the server died or never became ready.
        """
        async with self._lock:
            if self.base_url is not None:
                return self.base_url
            require_module("llama_cpp")
            gguf = self.gguf or chat_model_path()
            port = free_port()
            fd, log_name = tempfile.mkstemp(prefix="releasegate-local-", suffix=".log")
            self._log = Path(log_name)
            env = {
                **_settings.current().environ,
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
            }
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "releasegate.local.server",
                    "--host", "127.0.0.1", "--port", str(port),
                    "--threads", str(self.threads), "--n-ctx", str(self.n_ctx),
                    "--max-tokens", str(self.max_tokens), "--gguf", str(gguf),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=fd,
                    stderr=fd,
                    env=env,
                )  # fmt: skip
            finally:
                os.close(fd)
            root = f"http://127.0.0.1:{port}"
            await self._wait_ready(root)
            self.base_url = root + "/v1"
            return self.base_url

    async def _wait_ready(self, root: str) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout_s
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if self._proc.returncode is not None:
                    raise ProviderError(
                        f"local model server exited with code {self._proc.returncode}: "
                        f"{self._log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(root + "/health")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    await self.stop()
                    raise ProviderError(
                        f"local model server not ready after {self.startup_timeout_s:g} s: "
                        f"{self._log_tail()}",
                        retryable=True,
                    )
                await asyncio.sleep(0.2)

    def _log_tail(self, n: int = 800) -> str:
        if self._log is None or not self._log.exists():
            return "(no log)"
        text = self._log.read_text(encoding="utf-8", errors="replace").strip()
        return text[-n:] or "(empty log)"

    async def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s) and remove its log."""
        proc, self._proc, self.base_url = self._proc, None, None
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10.0)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None
