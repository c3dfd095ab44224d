"""Database fixtures shared by the store, deploy and API integration tests.

``database_url`` is parametrized over SQLite (a file in tmp_path) and PostgreSQL (a
database created for this test session and dropped at its end). PostgreSQL tests are
skipped only when the server is unreachable and CI is not set; under CI=true they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from releasegate.store import create_engine, upgrade

PG_SERVER_ENV = "RELEASEGATE_TEST_PG_URL"
PG_SERVER_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_TABLES = (
    "decisions, arm_latency, arm_stats, feedback, scores, interactions, eval_case_results, "
    "eval_runs, audit_log, api_tokens, deployments, upstream_health"
)


def _ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@contextmanager
def _new_pg_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database (URL), dropped on exit; skipped when the server is
    unreachable outside CI, an error under CI=true."""
    server = os.environ.get(PG_SERVER_ENV, PG_SERVER_DEFAULT)
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if _ci():
            raise
        pytest.skip(f"PostgreSQL unreachable at {server}: {exc.orig}")
    try:
        yield sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this session."""
    with _new_pg_database("releasegate_test") as url:
        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated database (SQLite file or the session's PostgreSQL one)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'releasegate.db'}"
        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        return url
    url = str(request.getfixturevalue("pg_database_url"))
    engine = create_engine(url)
    with engine.begin() as conn:
        # TRUNCATE does not fire the append-only row triggers on audit_log.
        conn.exec_driver_sql(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE")
    engine.dispose()
    return url


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a new, empty database (no schema): a SQLite file or a new PostgreSQL one."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with _new_pg_database("releasegate_empty") as url:
        yield url
