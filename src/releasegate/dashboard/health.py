"""Where the overview reads the gateway's circuit-breaker states from.

Gateway processes publish the state of each upstream's breaker; the overview shows the
newest state per upstream. The dashboard reads it through :class:`UpstreamHealthSource`
(one method, :meth:`~UpstreamHealthSource.upstream_health`), so it does not depend on
how the states are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["BREAKER_ALARMS", "StaticUpstreamHealth", "UpstreamHealthSource", "UpstreamRow"]

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

    def upstream_health(self) -> list[UpstreamRow]:
        """One row per upstream, newest state, by upstream name; empty when no gateway
        publishes (or none did recently)."""
        ...


class StaticUpstreamHealth:
    """Fixed rows (tests, or a process that has its own view of its breakers)."""

    def __init__(self, rows: Sequence[UpstreamRow] = ()) -> None:
        self.rows = list(rows)

    def upstream_health(self) -> list[UpstreamRow]:
        return sorted(self.rows, key=lambda r: r.upstream)
