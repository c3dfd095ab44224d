"""Publishing breaker states: one row per upstream and instance, written off the loop."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from releasegate.gateway import BreakerPolicy, Breakers, LocalBreaker
from releasegate.gateway.breaker_health import BreakerPublisher, instance_id
from releasegate.ports import UpstreamHealth
from releasegate.store.memory import InMemoryUnitOfWork


async def test_publishes_each_breaker_and_purges_old_rows() -> None:
    uow = InMemoryUnitOfWork()
    purges: list[datetime | None] = []

    def write(rows: Sequence[UpstreamHealth], purge_before: datetime | None) -> None:
        purges.append(purge_before)
        with uow:
            uow.upstream_health.put(rows)
            uow.commit()

    policy = BreakerPolicy(min_volume=2, failure_rate=0.6)
    breakers = Breakers(lambda _n: LocalBreaker(policy))
    breakers["main"].success()
    breakers["main"].failure()
    breakers["flaky"].failure()
    breakers["flaky"].failure()
    publisher = BreakerPublisher(breakers, write, instance="gw-1", wall_clock=lambda: 7200.0)
    await publisher.publish()
    await publisher.publish()
    with uow:
        rows = {
            r.upstream: r
            for r in uow.upstream_health.recent(since=datetime(1970, 1, 1, tzinfo=UTC))
        }
    assert set(rows) == {"main", "flaky"}
    assert rows["main"].state == "closed" and rows["main"].failure_rate == 0.5
    assert rows["flaky"].state == "open" and rows["flaky"].retry_after_s > 0
    assert rows["flaky"].instance == "gw-1" and not rows["flaky"].shared
    assert rows["main"].updated_at == datetime.fromtimestamp(7200.0, UTC)
    assert purges[0] == datetime.fromtimestamp(7200.0 - 86_400, UTC) and purges[1] is None
    assert publisher.published == 2


def test_instance_ids_differ_per_publisher() -> None:
    assert instance_id() != instance_id()
