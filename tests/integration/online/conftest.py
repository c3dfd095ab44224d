from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.deploy._cli import serve_api
from tests.integration.store._db import database_url, pg_database_url

__all__ = ["api_server", "database_url", "pg_database_url"]


@pytest.fixture
def api_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """URL of ``releasegate api serve`` (a real uvicorn) on ``database_url``."""
    with serve_api(database_url, tmp_path) as url:
        yield url
