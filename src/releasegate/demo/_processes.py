"""The programs the demo runs: each a real ``releasegate`` command in its own process
(the model server, the gateway, the worker), and the dashboard on a thread of this one.

Every child writes its output to a log file in the demo's ``logs/`` folder, is started
with the same interpreter as this process, and is stopped (SIGTERM, then SIGKILL) when
the demo ends, however it ends.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from releasegate import settings as _settings
from releasegate.errors import RunFailed, UsageError

__all__ = ["Child", "DashboardThread", "bind_loopback"]


class Child:
    """``python -m releasegate ARGS...`` as a child process.

    Args:
        name: What it is, for messages (``"gateway"``).
        args: The command's arguments after ``releasegate``.
        log: File that receives its stdout and stderr.
        cwd: Its working directory.
    """

    def __init__(self, name: str, args: Sequence[str], *, log: Path, cwd: Path) -> None:
        self.name = name
        self.args = list(args)
        self.log = log
        self.cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def command(self) -> str:
        """The command line, as a user would type it."""
        return "releasegate " + " ".join(self.args)

    def start(self) -> None:
        """Start the process (output to :attr:`log`)."""
        env = {**_settings.current().environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "releasegate", *self.args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=env,
            )

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def check(self) -> None:
        """Raises :class:`RunFailed` (with the end of its log) when the process died."""
        if self._proc is not None and self._proc.poll() is not None:
            raise RunFailed(
                f"the {self.name} stopped (exit code {self._proc.returncode}); the end of "
                f"{self.log}:\n{self.tail()}"
            )

    def wait_http(self, url: str, *, timeout_s: float) -> None:
        """Wait until ``url`` answers 200.

        Raises:
            RunFailed: the process died, or ``url`` did not answer within ``timeout_s``.
        """
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2.0) as client:
            while True:
                self.check()
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(url).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RunFailed(
                        f"the {self.name} did not answer {url} within {timeout_s:g} s; the "
                        f"end of {self.log}:\n{self.tail()}"
                    )
                time.sleep(0.2)

    def tail(self, n: int = 1500) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return "(no log)"
        return text[-n:] or "(empty log)"

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout_s``; nothing when it is not running."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def bind_loopback(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port`` (0: a free port).

    Raises:
        UsageError: the port is taken.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on 127.0.0.1 is already in use; choose another"
            ) from None
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
    return sock


class DashboardThread:
    """An ASGI app served by uvicorn on an already bound socket, on a daemon thread."""

    def __init__(self, app: Any, sock: Any) -> None:
        import uvicorn

        self._sock = sock
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="demo-dashboard", daemon=True)

    def _run(self) -> None:
        # Off the main thread uvicorn installs no signal handler: Ctrl-C stays the demo's.
        self._server.run(sockets=[self._sock])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10.0)
        self._sock.close()
