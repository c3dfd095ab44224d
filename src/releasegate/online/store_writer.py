"""Record interactions from inside a serving process, without ever blocking a request.

:class:`StoreWriter` takes records (mappings in the form of ``POST /v1/interactions``)
into a bounded in-memory buffer and writes them in batches, through the recording
service, from one background thread. The buffer is bounded by a number of records and,
when the caller says how large each record is, by their total size; beyond either bound
the *oldest* unwritten record is dropped, counted and logged (memory stays bounded under
any load). A batch the store refuses for a transient reason (the database is down) is
retried with backoff until the store is back, and one it refuses for its content is split
so that one bad record never loses the others.

Records can also be buffered encoded, several to one ``bytes``
(:meth:`StoreWriter.submit_encoded`, with a ``decode`` function), and decoded only when
they are written. The gateway's writer process keeps its backlog that way: its records
arrive pickled in groups, and a pickled record takes about a fifth of the memory of the
same record as dicts, so riding out a store outage at the buffer's bounds costs a fifth
of the memory, and ``max_bytes`` bounds the bytes actually held.

The gateway runs it in a writer process of its own (see
:mod:`releasegate.gateway._record_writer`); the API runs it in-process.
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

_LOG_EVERY_S = 10.0  # drops are logged at most this often (with the count since the last)


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counters since the writer started: records ``written``, ``dropped`` (buffer full),
    ``rejected`` (invalid, and nothing of them could be kept), ``salvaged`` (invalid,
    written in their reduced form; counted in ``written`` too), ``queued`` now, and
    failed write ``attempts``."""

    written: int
    dropped: int
    rejected: int
    queued: int
    failed_attempts: int
    salvaged: int = 0


class StoreWriter:
    """A bounded, batching, background writer of interaction records.

    Args:
        service: Builds the recording service for one batch (one unit of work each).
        capacity: Records buffered at most; the oldest is dropped beyond it.
        max_bytes: Total size (as given to :meth:`submit`) buffered at most; None: no
            size bound.
        batch: Records per write.
        interval_s: Longest wait before a partial batch is written.
        max_backoff_s: Cap of the wait between retries of a failing store.
        reserved: Reserved pseudo-features this writer may record under (see
            :meth:`RecordingService.record_json`).
        salvage: Given a record the store refused for its content and why, the reduced
            record to write instead (None: the record is rejected).
        decode: The records encoded in one :meth:`submit_encoded` group, as a list, when
            they are written; records it leaves out, or all of the group when it raises,
            are counted ``rejected`` (it logs why).
    """

    def __init__(
        self,
        service: Callable[[], RecordingService],
        *,
        capacity: int = 10_000,
        max_bytes: int | None = None,
        batch: int = 200,
        interval_s: float = 0.5,
        max_backoff_s: float = 5.0,
        reserved: frozenset[str] = frozenset(),
        salvage: Callable[[dict[str, Any], str], dict[str, Any] | None] | None = None,
        decode: Callable[[bytes], list[dict[str, Any]]] | None = None,
    ) -> None:
        self._salvage = salvage
        self._decode = decode
        self._service = service
        # (a record, or a group of encoded records; its size; how many records)
        self._buffer: deque[tuple[dict[str, Any] | bytes, int, int]] = deque()
        self._records = 0
        self._bytes = 0
        self._capacity = capacity
        self._max_bytes = max_bytes
        self._reserved = reserved
        self._unlogged_drops = 0
        self._logged_at = 0.0
        self._batch = batch
        self._interval = interval_s
        self._max_backoff = max_backoff_s
        self._lock = threading.Condition()
        self._stop = False
        self._busy = 0
        self._counts = {
            "written": 0,
            "dropped": 0,
            "rejected": 0,
            "failed_attempts": 0,
            "salvaged": 0,
        }
        self._thread = threading.Thread(target=self._run, name="releasegate-recorder", daemon=True)
        self._thread.start()

    def submit(self, record: Mapping[str, Any], size: int = 0) -> None:
        """Buffer one record of ``size`` bytes (an estimate: its encoded length); returns
        at once, dropping the oldest records while a bound is exceeded."""
        self._add(dict(record), size, 1)

    def submit_encoded(self, data: bytes, count: int) -> None:
        """Buffer ``count`` records encoded together in ``data`` (their size is
        ``len(data)``), decoded by ``decode`` when they are written; returns at once.
        Beyond a bound the oldest are dropped, a group whole.

        Raises:
            TypeError: the writer was made without ``decode``.
            ValueError: ``count`` below 1.
        """
        if self._decode is None:
            raise TypeError("this StoreWriter was made without a decode function")
        if count < 1:
            raise ValueError("count must be >= 1")
        self._add(bytes(data), len(data), count)

    def _add(self, item: dict[str, Any] | bytes, size: int, count: int) -> None:
        with self._lock:
            self._buffer.append((item, size, count))
            self._records += count
            self._bytes += size
            while len(self._buffer) > 1 and (
                self._records > self._capacity
                or (self._max_bytes is not None and self._bytes > self._max_bytes)
            ):
                _, dropped_size, dropped = self._buffer.popleft()
                self._records -= dropped
                self._bytes -= dropped_size
                self._counts["dropped"] += dropped
                self._unlogged_drops += dropped
            if self._unlogged_drops:
                self._log_drops()
            if self._records >= self._batch:
                self._lock.notify()

    def _log_drops(self) -> None:
        now = time.monotonic()
        if now - self._logged_at >= _LOG_EVERY_S:
            log.warning(
                "recording buffer full: dropped the %d oldest unwritten record(s) "
                "(%d dropped in all)",
                self._unlogged_drops,
                self._counts["dropped"],
            )
            self._logged_at, self._unlogged_drops = now, 0

    def stats(self) -> WriterStats:
        """The counters now."""
        with self._lock:
            return WriterStats(queued=self._records, **self._counts)

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
                items: list[tuple[dict[str, Any] | bytes, int]] = []
                taken = 0
                while self._buffer and (not items or taken + self._buffer[0][2] <= self._batch):
                    item, size, count = self._buffer.popleft()
                    self._records -= count
                    self._bytes -= size
                    items.append((item, count))
                    taken += count
                self._busy = taken
            try:
                batch = self._decoded(items)
                for start in range(0, len(batch), self._batch):
                    self._write(batch[start : start + self._batch])
            finally:
                with self._lock:
                    self._busy = 0
                    self._lock.notify_all()

    def _decoded(self, items: list[tuple[dict[str, Any] | bytes, int]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for item, count in items:
            if isinstance(item, dict):
                out.append(item)
                continue
            try:
                records = (self._decode or _no_decode)(item)
            except Exception:  # one unreadable group never stops the others
                log.exception("%d buffered record(s) could not be decoded", count)
                records = []
            out.extend(records)
            if len(records) < count:
                self._bump("rejected", count - len(records))
        return out

    def _write(self, batch: list[dict[str, Any]], *, salvaged: bool = False) -> None:
        wait = 0.1
        while True:
            try:
                self._service().record_json({"records": batch}, reserved=self._reserved)
            except ReleasegateError as exc:  # the content: split to save the good ones
                if len(batch) == 1:
                    reduced = None
                    why = _why(exc)
                    if self._salvage is not None and not salvaged:
                        reduced = self._salvage(batch[0], why)
                    if reduced is None:
                        self._bump("rejected")
                        log.warning("interaction record refused: %s", why)
                        return
                    log.warning("interaction record refused, its reduced form kept: %s", why)
                    self._write([reduced], salvaged=True)
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
                        log.warning("recording stopped: %d unwritten record(s) lost", len(batch))
                        return
                    self._lock.wait(wait)
                wait = min(self._max_backoff, wait * 2)
                continue
            self._bump("written", len(batch))
            if salvaged:
                self._bump("salvaged")
            return

    def _bump(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n


def _no_decode(data: bytes) -> list[dict[str, Any]]:
    raise TypeError("no decode function")  # unreachable: submit_encoded checks


def _why(exc: ReleasegateError) -> str:
    """Why the store refused one record: its invalid fields when known (a record error's
    own message speaks of a whole batch: "nothing was recorded: ...")."""
    problems = getattr(exc, "problems", None)
    if isinstance(problems, list) and problems:
        shown = "; ".join(str(p) for p in problems[:10])
        return shown + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
    return str(exc)
