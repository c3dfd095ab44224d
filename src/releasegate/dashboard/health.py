"""Where the overview reads the gateway's circuit-breaker states from.

Gateway processes publish the state of each upstream's breaker; the overview shows the
newest state per upstream. The dashboard reads it through :class:`UpstreamHealthSource`
(one method, :meth:`~UpstreamHealthSource.upstream_health`), so it does not depend on
how the states are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from releasegate.ports import Clock, UnitOfWork

__all__ = [
    "BREAKER_ALARMS",
    "StaticUpstreamHealth",
    "StoreUpstreamHealth",
    "UpstreamHealthSource",
    "UpstreamRow",
]

#: Breaker states that stand out on the overview.
BREAKER_ALARMS = frozenset({"open", "half_open"})


@dataclass(frozen=True, slots=True)
class UpstreamRow:
    """One upstream's breaker, as last published.

    Attributes:
        upstream: The upstream (provider) name.
        state: ``closed``, ``half_open`` or ``open``.
        failure_rate: Failures / calls in the breaker's window, None without calls.
        retry_after_s: Seconds until the upstream takes calls again (0: it does now).
        updated_at: When it was published (aware UTC).
        instance: The gateway process that published it.
    """

    upstream: str
    state: str
    failure_rate: float | None
    retry_after_s: float
    updated_at: datetime
    instance: str

    @property
    def alarm(self) -> bool:
        """Open or half-open: the upstream is failing or being probed."""
        return self.state in BREAKER_ALARMS


class UpstreamHealthSource(Protocol):
    """Reads the newest breaker state of every upstream."""

    def upstream_health(self) -> list[UpstreamRow] | None:
        """One row per upstream, newest state, by upstream name; empty when no gateway
        published recently; None when this source keeps no breaker states at all."""
        ...


class StaticUpstreamHealth:
    """Fixed rows (tests, or a process that has its own view of its breakers)."""

    def __init__(self, rows: Sequence[UpstreamRow] = ()) -> None:
        self.rows = list(rows)

    def upstream_health(self) -> list[UpstreamRow]:
        return sorted(self.rows, key=lambda r: r.upstream)


class StoreUpstreamHealth:
    """The breaker states gateway processes publish to the store (the
    ``upstream_health`` repository of the unit of work), newest per upstream, of the
    last ``max_age_s`` seconds.
    """

    def __init__(
        self, uow_factory: Callable[[], UnitOfWork], clock: Clock, *, max_age_s: float = 60.0
    ) -> None:
        self.uow_factory, self.clock, self.max_age_s = uow_factory, clock, max_age_s

    def upstream_health(self) -> list[UpstreamRow] | None:
        since = self.clock.now() - timedelta(seconds=self.max_age_s)
        with self.uow_factory() as uow:
            rows = uow.upstream_health.current(since=since)
        return [
            UpstreamRow(
                upstream=r.upstream,
                state=r.state,
                failure_rate=r.failure_rate,
                retry_after_s=float(r.retry_after_s),
                updated_at=r.updated_at,
                instance=r.instance,
            )
            for r in rows
        ]
