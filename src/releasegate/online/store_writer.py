"""Record interactions from inside a serving process, without ever blocking a request.

:class:`StoreWriter` takes records (mappings in the form of ``POST /v1/interactions``)
into a bounded in-memory buffer and writes them in batches, through the recording
service, from one background thread. When the buffer is full the *oldest* unwritten
record is dropped and counted (memory stays bounded under any load); a batch the store
refuses for a transient reason (the database is down) is retried with backoff, and one
it refuses for its content is split so that one bad record never loses the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.errors import ReleasegateError
from releasegate.online.recording import RecordingService

__all__ = ["StoreWriter", "WriterStats"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counters since the writer started: records ``written``, ``dropped`` (buffer full),
    ``rejected`` (invalid), ``queued`` now, and failed write ``attempts``."""

    written: int
    dropped: int
    rejected: int
    queued: int
    failed_attempts: int


class StoreWriter:
    """A bounded, batching, background writer of interaction records.

    Args:
        service: Builds the recording service for one batch (one unit of work each).
        capacity: Records buffered at most; the oldest is dropped beyond it.
        batch: Records per write.
        interval_s: Longest wait before a partial batch is written.
        max_backoff_s: Cap of the wait between retries of a failing store.
    """

    def __init__(
        self,
        service: Callable[[], RecordingService],
        *,
        capacity: int = 10_000,
        batch: int = 200,
        interval_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ) -> None:
        self._service = service
        self._buffer: deque[dict[str, Any]] = deque()
        self._capacity = capacity
        self._batch = batch
        self._interval = interval_s
        self._max_backoff = max_backoff_s
        self._lock = threading.Condition()
        self._stop = False
        self._busy = 0
        self._counts = {"written": 0, "dropped": 0, "rejected": 0, "failed_attempts": 0}
        self._thread = threading.Thread(target=self._run, name="releasegate-recorder", daemon=True)
        self._thread.start()

    def submit(self, record: Mapping[str, Any]) -> None:
        """Buffer one record; returns at once (drops the oldest when full)."""
        with self._lock:
            if len(self._buffer) >= self._capacity:
                self._buffer.popleft()
                self._counts["dropped"] += 1
            self._buffer.append(dict(record))
            if len(self._buffer) >= self._batch:
                self._lock.notify()

    def stats(self) -> WriterStats:
        """The counters now."""
        with self._lock:
            return WriterStats(queued=len(self._buffer), **self._counts)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every buffered record is written (or given up); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._lock.notify()
            while self._buffer or self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._lock.wait(0.05 if left is None else min(0.05, left))
                self._lock.notify()
        return True

    def close(self, timeout: float | None = 10.0) -> bool:
        """Write what is buffered, then stop the thread; False when time ran out."""
        done = self.flush(timeout)
        with self._lock:
            self._stop = True
            self._lock.notify()
        self._thread.join(timeout)
        return done

    # -- the background thread ---------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._buffer and not self._stop:
                    self._lock.wait(self._interval)
                if self._stop and not self._buffer:
                    return
                batch = [self._buffer.popleft() for _ in range(min(self._batch, len(self._buffer)))]
                self._busy = len(batch)
            try:
                if batch:
                    self._write(batch)
            finally:
                with self._lock:
                    self._busy = 0
                    self._lock.notify_all()

    def _write(self, batch: list[dict[str, Any]]) -> None:
        wait = 0.1
        while True:
            try:
                self._service().record_json({"records": batch})
            except ReleasegateError as exc:  # the content: split to save the good ones
                if len(batch) == 1:
                    self._bump("rejected")
                    log.warning("interaction record refused: %s", exc)
                    return
                half = len(batch) // 2
                self._write(batch[:half])
                self._write(batch[half:])
                return
            except Exception as exc:
                self._bump("failed_attempts")
                log.warning("recording failed, retrying in %.1f s: %s", wait, exc)
                with self._lock:
                    if self._stop:
                        self._counts["dropped"] += len(batch)
                        return
                    self._lock.wait(wait)
                wait = min(self._max_backoff, wait * 2)
                continue
            self._bump("written", len(batch))
            return

    def _bump(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n
