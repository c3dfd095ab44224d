"""Publishing each upstream's breaker state to the store, for the dashboard.

A gateway process runs :meth:`BreakerPublisher.run` as a background task: every
``interval_s`` seconds it takes a snapshot of every breaker (on the event loop, where
the breakers live) and writes one row per upstream, keyed by upstream and this
process's instance id, from a worker thread (the store is synchronous). Rows of
processes that stopped publishing are purged after ``keep_s``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from releasegate.gateway.breaker import Breakers
from releasegate.ports import UpstreamHealth

__all__ = ["BreakerPublisher", "instance_id"]

logger = logging.getLogger("releasegate.gateway")

#: ``write(rows, purge_before)``: store ``rows``; delete rows older than ``purge_before``
#: when it is not None.
Writer = Callable[[Sequence[UpstreamHealth], datetime | None], None]


def instance_id() -> str:
    """This process's id in published rows: ``host:pid:random`` (at most 200 chars)."""
    return f"{socket.gethostname()[:150]}:{os.getpid()}:{secrets.token_hex(3)}"


class BreakerPublisher:
    """Writes every breaker's state every ``interval_s`` seconds.

    Args:
        breakers: The gateway's breakers (those made so far are published).
        write: Stores rows (called in a worker thread); see :data:`Writer`.
        instance: This process's id (:func:`instance_id` by default).
        interval_s: Seconds between two publications.
        keep_s: Rows not refreshed for this long are purged (about once an hour).
        wall_clock: Unix seconds, for ``updated_at``.
    """

    def __init__(
        self,
        breakers: Breakers,
        write: Writer,
        *,
        instance: str | None = None,
        interval_s: float = 5.0,
        keep_s: float = 86_400.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.breakers = breakers
        self.write = write
        self.instance = instance or instance_id()
        self.interval_s = interval_s
        self.keep_s = keep_s
        self._wall = wall_clock
        self._purged_at = 0.0
        self.published = 0
        """Publications that reached the store."""

    def rows(self) -> list[UpstreamHealth]:
        """One row per breaker, as it is now."""
        at = datetime.fromtimestamp(self._wall(), UTC)
        out = []
        for name, breaker in self.breakers.items():
            snap = breaker.snapshot()
            out.append(
                UpstreamHealth(
                    upstream=name,
                    instance=self.instance,
                    state=snap.state.value,
                    failure_rate=snap.failure_rate,
                    calls=snap.calls,
                    retry_after_s=round(snap.retry_after_s, 3),
                    shared=snap.shared,
                    updated_at=at,
                )
            )
        return out

    async def publish(self) -> None:
        """Write the rows once (and purge old ones about once an hour)."""
        rows = self.rows()
        purge: datetime | None = None
        now = self._wall()
        if now - self._purged_at >= 3600:
            purge = datetime.fromtimestamp(now - self.keep_s, UTC)
        await asyncio.to_thread(self.write, rows, purge)
        if purge is not None:
            self._purged_at = now
        self.published += 1

    async def run(self) -> None:
        """Publish until cancelled; a failed write is logged and retried next time."""
        failing = False
        while True:
            try:
                await self.publish()
                failing = False
            except Exception as exc:  # the store may be down: the gateway keeps serving
                if not failing:
                    logger.warning("could not publish breaker states: %s", exc)
                failing = True
            await asyncio.sleep(self.interval_s)
