from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.scale._stack import Scale, scale_stack


@pytest.fixture
def scale(tmp_path: Path) -> Iterator[Scale]:
    """A private PostgreSQL and Redis, two mock upstreams and a deployed project."""
    with scale_stack(tmp_path) as stack:
        yield stack
