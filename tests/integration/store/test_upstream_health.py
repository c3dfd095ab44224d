"""Published breaker states on SQLite, PostgreSQL and the in-memory store alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from releasegate.ports import UnitOfWork, UpstreamHealth
from releasegate.store.database import open_database
from releasegate.store.memory import InMemoryUnitOfWork

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def row(upstream: str, instance: str, at: datetime, state: str = "closed") -> UpstreamHealth:
    return UpstreamHealth(
        upstream=upstream,
        instance=instance,
        state=state,
        failure_rate=0.25 if state != "closed" else None,
        calls=4 if state != "closed" else 0,
        retry_after_s=12.5 if state == "open" else 0.0,
        shared=True,
        updated_at=at,
    )


@pytest.fixture(params=["sql", "memory"])
def uow_factory(
    request: pytest.FixtureRequest, database_url: str
) -> Iterator[Callable[[], UnitOfWork]]:
    """The SQL store (SQLite, PostgreSQL) and the in-memory fake (once per database
    parameter: cheap)."""
    if request.param == "memory":
        uow = InMemoryUnitOfWork()
        yield lambda: uow
        return
    db = open_database(database_url)
    try:
        yield db.uow
    finally:
        db.close()


def test_rows_are_replaced_per_instance_and_the_newest_is_current(
    uow_factory: Callable[[], UnitOfWork],
) -> None:
    with uow_factory() as uow:
        uow.upstream_health.put([row("main", "gw-a", T0), row("backup", "gw-a", T0)])
        uow.commit()
    later = T0 + timedelta(seconds=5)
    with uow_factory() as uow:
        uow.upstream_health.put([row("main", "gw-b", later, "open")])
        uow.upstream_health.put([row("main", "gw-a", later, "half_open")])  # replaces
        uow.commit()
    with uow_factory() as uow:
        recent = uow.upstream_health.recent(since=T0)
        current = uow.upstream_health.current(since=T0)
        fresh = uow.upstream_health.current(since=later)
    assert [(r.upstream, r.instance) for r in recent] == [
        ("backup", "gw-a"),
        ("main", "gw-a"),
        ("main", "gw-b"),
    ]
    assert [r.upstream for r in current] == ["backup", "main"]
    main = current[1]
    assert main.updated_at == later and main.state in ("half_open", "open")
    assert [r.upstream for r in fresh] == ["main"]  # backup's row aged out
    opened = next(r for r in recent if r.instance == "gw-b")
    assert (opened.failure_rate, opened.calls, opened.retry_after_s, opened.shared) == (
        0.25,
        4,
        12.5,
        True,
    )


def test_purge_drops_rows_of_stopped_instances(uow_factory: Callable[[], UnitOfWork]) -> None:
    with uow_factory() as uow:
        uow.upstream_health.put([row("main", "old", T0), row("main", "new", T0 + timedelta(1))])
        uow.commit()
    with uow_factory() as uow:
        assert uow.upstream_health.purge(before=T0 + timedelta(hours=1)) == 1
        uow.commit()
    with uow_factory() as uow:
        assert [r.instance for r in uow.upstream_health.recent(since=T0)] == ["new"]
