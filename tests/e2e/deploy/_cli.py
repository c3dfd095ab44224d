"""Run the ``releasegate`` command (in a subprocess, or in-process for speed), and serve
the API with uvicorn in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from releasegate.cli import _common, load_all

CLI = [sys.executable, "-c", "from releasegate.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``releasegate ARGS``; arguments may hold ``surrogateescape`` code points,
    which reach the command as the raw bytes they stand for."""
    base = {**os.environ, "COLUMNS": "200"}
    for name in ("RELEASEGATE_DEBUG", "RELEASEGATE_ACTOR", "RELEASEGATE_API_TOKEN"):
        base.pop(name, None)
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        errors="surrogateescape",
        timeout=120,
        env={**base, **(env or {})},
        cwd=cwd,
        check=False,
    )


_CLEARED = ("RELEASEGATE_DEBUG", "RELEASEGATE_ACTOR", "RELEASEGATE_API_TOKEN")


@dataclass(frozen=True)
class Result:
    """What a command did: like :class:`subprocess.CompletedProcess`."""

    returncode: int
    stdout: str
    stderr: str


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``releasegate ARGS`` in this process (the same code as the installed command,
    without an interpreter start per call). An exception that escaped the command shows
    up as ``Traceback`` in stderr, as it would in a terminal."""
    environ: dict[str, str | None] = {name: None for name in _CLEARED}
    environ.update(env or {})
    widths = (_common.out_console.width, _common.err_console.width)
    # Wide consoles: a table must not wrap differently for a longer actor name.
    _common.out_console.width = _common.err_console.width = 250
    try:
        result = CliRunner().invoke(load_all(), list(args), env=environ)
    finally:
        _common.out_console.width, _common.err_console.width = widths
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += f"Traceback: {result.exception!r}"
    return Result(result.exit_code, result.stdout, stderr)


@contextmanager
def serve_api(
    database_url: str, workdir: Path, *, port: int | None = None, extra: tuple[str, ...] = ()
) -> Iterator[str]:
    """``releasegate api serve`` on ``port`` (default: a free one); yields its base URL."""
    port = port or free_port()
    log = workdir / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*CLI, "api", "serve", "--port", str(port), "--db", database_url, *extra],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # a loaded machine can take a while to start uvicorn
            try:
                if httpx.get(url + "/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"api serve exited: {log.read_text()}")
            time.sleep(0.1)
        else:
            pytest.fail("api serve did not become healthy")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
