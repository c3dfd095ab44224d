from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.store._db import database_url, pg_database_url

__all__ = ["api_server", "database_url", "pg_database_url"]

CLI = [sys.executable, "-c", "from releasegate.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def api_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """URL of ``releasegate api serve`` (a real uvicorn) on ``database_url``."""
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*CLI, "api", "serve", "--port", str(port), "--db", database_url],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
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
