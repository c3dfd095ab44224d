"""The gateway's store recorder: records leave the serving process for a writer process.

:meth:`ProcessRecorder.submit` costs the event loop one tuple and one append: the
record's values are queued as they are, with no JSON, validation or redaction. A sender
thread takes the queue every ``interval_s``, pickles it in frames of at most 500
records and writes them to a pipe; a writer process of its own
(:mod:`releasegate.gateway._record_writer`, started on the first record and restarted if
it dies) builds the interactions and writes them to the store in batches. Measured on
the gateway benchmark, writing from a thread of the serving process cost close to half
of its throughput (the writer's work holds the one interpreter lock the event loop
needs); from a process of its own, a few percent.

Memory is bounded on both sides: here, at most ``pending_records`` records wait for the
pipe (only when the writer process stalls); in the writer, at most ``buffer_records``
records and ``buffer_bytes`` of encoded records wait for the store, kept as they came
(pickled: about a fifth of the memory of the records as dicts) until written. A store
outage is ridden out up to that bound, then written once the store is back. Beyond a
bound the oldest records are dropped; drops are counted (:meth:`stats`, the gateway's
``releasegate_gateway_records_dropped``) and logged.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import mmap
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from releasegate import settings
from releasegate.gateway._record_writer import STATS_SIZE, frame, read_stats, records_payload
from releasegate.gateway.recorder import RECORD_FIELDS

__all__ = ["ProcessRecorder", "RecorderStats"]

log = logging.getLogger("releasegate.gateway")

_ROW = itemgetter(*RECORD_FIELDS)
_LOG_EVERY_S = 10.0
_FRAME_ROWS = 500
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True, slots=True)
class RecorderStats:
    """Records ``submitted`` by the gateway, ``written`` to the store (``salvaged``
    ones, written in a reduced form, included), ``dropped`` (a buffer was full, or a
    writer process died with them), ``rejected`` by the store, ``queued`` (not yet
    written), and the store's ``failed_attempts``. Once everything is written,
    ``submitted == written + dropped + rejected``."""

    submitted: int
    written: int
    dropped: int
    rejected: int
    queued: int
    failed_attempts: int
    salvaged: int


class _Child:
    """One writer process, its pipe and its published counters."""

    def __init__(self, spec: bytes) -> None:
        read_fd, self.write_fd = os.pipe()
        stats = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        stats.truncate(STATS_SIZE)
        self._stats_file = stats
        self.view = mmap.mmap(stats.fileno(), STATS_SIZE)
        env = dict(settings.current().environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p
        )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "releasegate.gateway._record_writer",
                str(read_fd),
                str(stats.fileno()),
            ],
            pass_fds=(read_fd, stats.fileno()),
            stdin=subprocess.DEVNULL,
            env=env,
        )
        os.close(read_fd)
        self.started = time.monotonic()
        self.sent = 0
        self.write(frame(spec))

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.write_fd, view)
            view = view[n:]

    def counters(self) -> dict[str, int]:
        return read_stats(self.view)

    def close(self, timeout: float) -> None:
        """End of input; wait for the process to write what it holds and exit."""
        with contextlib.suppress(OSError):
            self.write(frame(b""))
        self.end(timeout)

    def release(self) -> None:
        """Free the counters' shared file (after the last read)."""
        self.view.close()
        self._stats_file.close()

    def end(self, timeout: float) -> None:
        with contextlib.suppress(OSError):
            os.close(self.write_fd)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the record writer did not finish in %.0f s; stopping it", timeout)
            self.proc.kill()
            self.proc.wait()


class ProcessRecorder:
    """A :class:`~releasegate.gateway.recorder.Recorder` writing to the store from a
    writer process of its own (see the module docstring).

    Args:
        database_url: The store.
        online: The project's ``online`` section as JSON (redaction, scoring, queue).
        buffer_records: Records the writer process holds at most while the store is slow
            or down.
        buffer_bytes: Encoded bytes the writer process holds at most.
        pending_records: Records held here at most while the writer process stalls.
        interval_s: How often queued records are sent to the writer process.
        close_timeout_s: How long :meth:`close` waits for the store.
    """

    def __init__(
        self,
        database_url: str,
        online: Mapping[str, Any] | None = None,
        *,
        buffer_records: int = 50_000,
        buffer_bytes: int = 32 * 1024 * 1024,
        pending_records: int = 20_000,
        interval_s: float = 0.02,
        close_timeout_s: float = 10.0,
    ) -> None:
        self._spec = json.dumps(
            {
                "database_url": database_url,
                "online": dict(online or {}),
                "records": buffer_records,
                "bytes": buffer_bytes,
                "close_timeout_s": close_timeout_s,
            }
        ).encode()
        self._pending: deque[tuple[Any, ...]] = deque()
        self._pending_max = pending_records
        self._interval = interval_s
        self._close_timeout = close_timeout_s
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._child: _Child | None = None
        self._submitted = 0
        self._dropped_here = 0  # pending full, closed, or lost with a dead writer
        self._done = {k: 0 for k in ("written", "dropped", "rejected", "failed_attempts")}
        self._done["salvaged"] = 0
        self._unlogged = 0
        self._logged_at = 0.0
        self._restarts = 0  # writers in a row that died soon after they started

    # -- the event loop's side -------------------------------------------------------

    def submit(self, record: Mapping[str, Any]) -> None:
        """Queue one record; returns at once (drops the oldest queued when full)."""
        try:
            row = _ROW(record)
        except KeyError:
            row = tuple(record.get(k) for k in RECORD_FIELDS)
        with self._lock:
            self._submitted += 1
            if self._closing:
                self._drop_locked(1)
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="releasegate-record-sender", daemon=True
                )
                self._thread.start()
                atexit.register(self.close)  # when no lifespan shutdown closes it first
            if len(self._pending) >= self._pending_max:
                self._pending.popleft()
                self._drop_locked(1)
            self._pending.append(row)

    def _drop_locked(self, n: int) -> None:
        self._dropped_here += n
        self._unlogged += n
        now = time.monotonic()
        if now - self._logged_at >= _LOG_EVERY_S:
            log.warning(
                "recording: dropped %d record(s) (the record writer is not keeping up "
                "or was restarted)",
                self._unlogged,
            )
            self._logged_at, self._unlogged = now, 0

    # -- counters --------------------------------------------------------------------

    def stats(self) -> RecorderStats:
        """The counters now (cheap: read at every metrics scrape)."""
        with self._lock:
            child, pending = self._child, len(self._pending)
            submitted, dropped_here = self._submitted, self._dropped_here
            done = dict(self._done)
            live = child.counters() if child is not None else {}
            in_pipe = (child.sent - live.get("received", 0)) if child is not None else 0
        return RecorderStats(
            submitted=submitted,
            written=done["written"] + live.get("written", 0),
            dropped=dropped_here + done["dropped"] + live.get("dropped", 0),
            rejected=done["rejected"] + live.get("rejected", 0),
            queued=pending + in_pipe + live.get("queued", 0),
            failed_attempts=done["failed_attempts"] + live.get("failed_attempts", 0),
            salvaged=done["salvaged"] + live.get("salvaged", 0),
        )

    @property
    def dropped(self) -> int:
        """Records dropped so far (see :class:`RecorderStats`)."""
        return self.stats().dropped

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every submitted record is written, dropped or rejected; False on
        timeout."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while time.monotonic() < deadline:
            s = self.stats()
            if s.submitted == s.written + s.dropped + s.rejected:
                return True
            self._wake.set()
            time.sleep(0.02)
        return False

    def close(self, timeout: float | None = None) -> None:
        """Send what is queued, let the writer process write what it holds (waiting up to
        ``timeout``, default ``close_timeout_s``), and stop it. Records submitted later
        are dropped and counted."""
        atexit.unregister(self.close)
        with self._lock:
            self._closing = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join((timeout or self._close_timeout) + 5)

    # -- the sender thread -----------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            with self._lock:
                rows, self._pending = self._pending, deque()
                closing = self._closing
            # At most _FRAME_ROWS records a frame (a writer that fell behind, or a burst,
            # could otherwise get one frame of thousands, decoded all at once).
            queued = list(rows)
            for start in range(0, len(queued), _FRAME_ROWS):
                chunk = queued[start : start + _FRAME_ROWS]
                self._send(records_payload(chunk), len(chunk))
            if closing:
                break
        with self._lock:
            child = self._child
        if child is not None:
            child.close(self._close_timeout)
            self._retire(child)

    def _send(self, payload: bytes, n: int) -> None:
        data = frame(payload)
        for _ in range(2):  # a writer that died gets one successor per frame
            child = self._ensure_child()
            if child is None:
                break
            try:
                child.write(data)
            except OSError:
                child.end(1.0)  # it closed the pipe: it exited, or will be made to
                continue
            with self._lock:
                child.sent += n
            return
        with self._lock:
            self._drop_locked(n)

    def _ensure_child(self) -> _Child | None:
        child = self._child
        if child is not None:
            if child.proc.poll() is None:
                return child
            child.end(1.0)
            self._retire(child)
            quick = time.monotonic() - child.started < 5.0
            self._restarts = self._restarts + 1 if quick else 0
            log.warning("the record writer exited (code %s); restarting it", child.proc.returncode)
        if self._restarts:  # a writer that keeps failing at start is retried ever slower
            time.sleep(min(30.0, 0.5 * 2 ** min(self._restarts, 6)))
        try:
            new = _Child(self._spec)
        except OSError as exc:
            log.warning("could not start the record writer: %s", exc)
            self._restarts += 1
            return None
        with self._lock:
            self._child = new
        return new

    def _retire(self, child: _Child) -> None:
        """Fold a finished writer's counters into the totals; what it was sent and did
        not account for was lost with it."""
        with self._lock:
            final = child.counters()
            for k in self._done:
                self._done[k] += final[k]
            lost = child.sent - (final["written"] + final["dropped"] + final["rejected"])
            if lost > 0:
                self._drop_locked(lost)
            if self._child is child:
                self._child = None
            child.release()
