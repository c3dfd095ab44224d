"""The jobs of the online half, declared on a huey instance.

- ``releasegate.score(interaction_id)``: score one interaction. Idempotent (scores are
  unique per interaction and check), retried with exponential backoff when it raises
  (a database that is briefly unreachable, a judge that times out).
- ``releasegate.analyze``: the canary analysis of every running canary: periodically,
  and again soon after new scores arrive (at most once per ``after_scores`` seconds).
- ``releasegate.purge``: the retention purge.
- ``releasegate.sweep``: queue again the interactions due a score that stayed unscored
  too long (a job lost with a worker killed mid-job, or never enqueued because the
  recording process stopped between its commit and the enqueue).

The periodic jobs run every N seconds: each worker process has a ticker thread that, at
each period's start, claims the period in the queue's key-value store (``put_if_empty``:
the first worker of any process wins, no lock is left behind by a killed one) and
enqueues the job once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from huey import Huey

__all__ = ["Handlers", "Intervals", "JobQueue"]

_log = logging.getLogger(__name__)

SCORE = "releasegate.score"
PERIODIC = ("analyze", "purge", "sweep")


@dataclass(frozen=True)
class Handlers:
    """What the jobs do (built by the worker; the enqueuing side needs none).

    Attributes:
        score: Score one interaction id; returns an outcome for the log.
        analyze: Run the canary analysis once.
        purge: Delete interactions past their retention; returns how many.
        sweep: Ids of interactions due a score and unscored for too long.
    """

    score: Callable[[int], object]
    analyze: Callable[[], object]
    purge: Callable[[], object]
    sweep: Callable[[], Sequence[int]]


@dataclass(frozen=True)
class Intervals:
    """Seconds between runs of each periodic job."""

    analyze: float = 60.0
    purge: float = 3600.0
    sweep: float = 60.0
    #: after new scores arrive the analysis runs again, at most once per this many
    #: seconds across every worker (so a burst of scores is one analysis, not many)
    after_scores: float = 5.0

    def of(self, job: str) -> float:
        value: float = getattr(self, job)
        return value


class JobQueue:
    """The jobs on ``huey``.

    Args:
        huey: From :func:`releasegate.queue.open_huey`.
        handlers: What the jobs do; None in a process that only enqueues.
        retries: Attempts after the first for a job that raises.
        retry_delay_s: Wait before the first retry; doubled for each further one.
        intervals: Periods of the periodic jobs.
    """

    def __init__(
        self,
        huey: Huey,
        handlers: Handlers | None = None,
        *,
        retries: int = 5,
        retry_delay_s: float = 1.0,
        intervals: Intervals | None = None,
    ) -> None:
        self.huey = huey
        self.handlers = handlers
        self.intervals = intervals or Intervals()
        opts: dict[str, Any] = {"retries": retries, "retry_delay": retry_delay_s}
        opts["retry_backoff"] = 2.0
        self._score = huey.task(name=SCORE, **opts)(self._run_score)
        self._periodic = {
            job: huey.task(name=f"releasegate.{job}", **opts)(self._runner(job)) for job in PERIODIC
        }
        self._last: dict[str, int] = {}

    # -- enqueuing -------------------------------------------------------------------

    def enqueue_scoring(self, interaction_ids: Sequence[int]) -> None:
        """Queue one scoring job per interaction id."""
        for iid in interaction_ids:
            self._score(int(iid))

    def enqueue(self, job: str) -> None:
        """Queue a periodic job now (``analyze``, ``purge`` or ``sweep``)."""
        self._periodic[job]()

    def pending(self) -> int:
        """Jobs waiting in the queue."""
        return int(self.huey.pending_count())

    # -- running ---------------------------------------------------------------------

    def _handlers(self) -> Handlers:
        if self.handlers is None:
            raise RuntimeError("this queue only enqueues: it was built without handlers")
        return self.handlers

    def _run_score(self, interaction_id: int) -> None:
        outcome = self._handlers().score(interaction_id)
        _log.info("interaction %s: %s", interaction_id, outcome)
        self.after_scores()

    def after_scores(self, now: float | None = None) -> bool:
        """Enqueue the canary analysis because new scores arrived, unless a worker did
        so already in this ``after_scores`` period. Returns whether it was enqueued."""
        now = time.time() if now is None else now
        every = self.intervals.after_scores
        slot = int(now // every)
        key = f"releasegate.soon.analyze.{every:g}.{slot}"
        if self._last.get("soon") == slot or not self.huey.put_if_empty(key, b"1"):
            return False
        self._last["soon"] = slot
        self.huey.delete(f"releasegate.soon.analyze.{every:g}.{slot - 2}")
        self.enqueue("analyze")
        return True

    def _runner(self, job: str) -> Callable[[], None]:
        def run() -> None:
            handlers = self._handlers()
            if job == "sweep":
                ids = list(handlers.sweep())
                self.enqueue_scoring(ids)
                _log.info("sweep: %d interaction(s) queued again", len(ids))
            else:
                result = getattr(handlers, job)()
                _log.info("%s: %s", job, result)

        run.__name__ = job
        return run

    def tick(self, now: float | None = None) -> list[str]:
        """Enqueue each periodic job whose period started since the last tick, unless
        another worker claimed that period first. Returns the jobs enqueued."""
        now = time.time() if now is None else now
        started = []
        for job in PERIODIC:
            every = self.intervals.of(job)
            slot = int(now // every)
            if self._last.get(job) == slot:
                continue
            self._last[job] = slot
            key = f"releasegate.tick.{job}.{every:g}.{slot}"
            if self.huey.put_if_empty(key, b"1"):
                self.huey.delete(f"releasegate.tick.{job}.{every:g}.{slot - 2}")
                self.enqueue(job)
                started.append(job)
        return started

    def run(self, *, workers: int = 2, stop: threading.Event | None = None) -> None:
        """Run the consumer with ``workers`` threads and the ticker, until SIGINT or
        SIGTERM (huey's graceful and immediate stops) or ``stop`` is set."""
        self._handlers()
        stop = stop or threading.Event()
        ticker = threading.Thread(target=self._tick_loop, args=(stop,), daemon=True)
        consumer = self.huey.create_consumer(
            workers=workers,
            worker_type="thread",
            periodic=False,
            initial_delay=0.05,
            max_delay=0.5,
            backoff=1.5,
            check_worker_health=True,
        )
        ticker.start()
        try:
            consumer.run()
        finally:
            stop.set()

    def _tick_loop(self, stop: threading.Event) -> None:
        while not stop.wait(0.25):
            try:
                self.tick()
            except Exception:  # the queue is briefly unreachable: try at the next tick
                _log.exception("could not enqueue the periodic jobs")
