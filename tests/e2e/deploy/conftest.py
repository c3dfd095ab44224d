from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.deploy._cli import serve_api
from tests.integration.store._db import database_url, pg_database_url

__all__ = ["database_url", "pg_database_url", "server"]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The control-plane API served by uvicorn on ``database_url``."""
    with serve_api(database_url, tmp_path) as url:
        yield url
