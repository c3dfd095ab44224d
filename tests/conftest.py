"""Shared fixtures. Servers the tests need (PostgreSQL, Redis) must be reachable when
CI=true: there a missing server fails the test instead of skipping it.

Every test is marked ``unit``, ``integration`` or ``e2e`` by the folder it lives in
(``tests/unit/...`` and so on), so ``-m unit`` selects by folder without a marker
written in each module."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from releasegate.bootstrap import ControlPlaneParts
from tests.support.control import CountingSalts, StepClock
from tests.support.openai_server import openai_server  # noqa: F401 - fixture re-export

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_URL = os.environ.get(
    "RELEASEGATE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("RELEASEGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


TEST_LEVELS = ("unit", "integration", "e2e")
_TESTS_ROOT = Path(__file__).resolve().parent


def folder_level(path: Path) -> str | None:
    """The level a test file's folder gives it: ``tests/unit/x/test_y.py`` -> ``"unit"``.

    Returns None for a file outside ``tests/unit``, ``tests/integration`` and ``tests/e2e``.
    """
    try:
        parts = path.resolve().relative_to(_TESTS_ROOT).parts
    except ValueError:
        return None
    if len(parts) > 1 and parts[0] in TEST_LEVELS:
        return parts[0]
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the level of its folder (see the module docstring)."""
    for item in items:
        level = folder_level(item.path)
        if level is not None:
            item.add_marker(getattr(pytest.mark, level))


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Skip (developer machine) or fail (CI) when a needed server is down."""
    if _reachable(host, port):
        return
    msg = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(msg + " (CI=true: tests that need it must run)")
    pytest.skip(msg)


@pytest.fixture
def pg_url() -> str:
    require_server("PostgreSQL", "127.0.0.1", 5432)
    return PG_URL


@pytest.fixture
def redis_url() -> str:
    require_server("Redis", "127.0.0.1", 6379)
    return REDIS_URL


@pytest.fixture
def clock() -> StepClock:
    """A clock standing at a fixed instant until the test moves it."""
    return StepClock()


@pytest.fixture
def salts() -> CountingSalts:
    """Rollout salts 0000000000000001, 0000000000000002, ... in order."""
    return CountingSalts()


@pytest.fixture
def control(clock: StepClock, salts: CountingSalts) -> ControlPlaneParts:
    """The control-plane services as the composition root builds them, on the
    in-memory store, with the ``clock`` and ``salts`` fixtures."""
    return ControlPlaneParts.in_memory(clock=clock, salts=salts)
