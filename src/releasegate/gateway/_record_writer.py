"""The gateway's record writer process: ``python -m releasegate.gateway._record_writer``.

Started by :class:`~releasegate.gateway._spool.ProcessRecorder` with two inherited file
descriptors: the read end of a pipe carrying framed batches of gateway records, and a
small shared file where it publishes its counters. It holds each frame's records as
they came, pickled, in a bounded :class:`~releasegate.online.store_writer.StoreWriter`
(about a fifth of the memory they take as dicts: what a store outage fills), and when
they are written turns each into an interaction
(:func:`~releasegate.gateway._to_record.to_interaction`) and writes them to the store
(validation, redaction, scoring marks, arm statistics), so none of that work takes the
gateway's interpreter. A record that is not a gateway record is counted rejected and
logged, never fatal.

Frames: an 8-byte little-endian length, then that many bytes. The first frame is the
JSON spec (database URL, the project's ``online`` section, buffer bounds); each later
one (:func:`records_payload`) a 4-byte little-endian count of records, then a pickled
list of that many record tuples in :data:`~releasegate.gateway.recorder.RECORD_FIELDS`
order; an empty frame, or the pipe's end, means: write what is buffered and exit.
Interrupt and termination signals are ignored: the process ends when the gateway closes
the pipe (which the kernel does when the gateway exits for any reason). It runs at a
lower CPU priority than the gateway (:data:`NICE`).
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import pickle
import signal
import struct
import sys
import threading
from typing import IO, Any

__all__ = [
    "NICE",
    "STATS",
    "STATS_SIZE",
    "frame",
    "main",
    "read_frame",
    "read_stats",
    "records_payload",
]

STATS = ("received", "written", "dropped", "rejected", "failed_attempts", "queued", "salvaged")
"""The counters in the shared stats file, in order (signed 64-bit each)."""
_STATS = struct.Struct(f"<{len(STATS)}q")
STATS_SIZE = _STATS.size
_HEADER = struct.Struct("<Q")
_COUNT = struct.Struct("<I")
NICE = 10
"""The writer's CPU priority below the gateway's: when they compete for a core, the
serving process wins and the writer catches up once the CPU frees (its buffer bounded)."""

log = logging.getLogger("releasegate.recorder")


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next frame's payload; None at the end of the stream."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def frame(payload: bytes) -> bytes:
    """``payload`` with its length header."""
    return _HEADER.pack(len(payload)) + payload


def records_payload(rows: list[tuple[Any, ...]]) -> bytes:
    """One frame's payload of gateway records (tuples in ``RECORD_FIELDS`` order): their
    count, then their pickle."""
    return _COUNT.pack(len(rows)) + pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)


def read_stats(view: mmap.mmap) -> dict[str, int]:
    """The counters a writer process published."""
    return dict(zip(STATS, _STATS.unpack_from(view, 0), strict=True))


def _run(stream: IO[bytes], view: mmap.mmap) -> None:
    from releasegate.bootstrap.online import recording_hooks
    from releasegate.bootstrap.serving import tune_for_serving
    from releasegate.config import OnlineConfig
    from releasegate.errors import ReleasegateError
    from releasegate.gateway._to_record import GATEWAY_FEATURE, minimal, to_interaction
    from releasegate.gateway.recorder import RECORD_FIELDS
    from releasegate.online.limits import MAX_BATCH_RECORDS
    from releasegate.online.store_writer import StoreWriter
    from releasegate.store.database import open_database

    spec_frame = read_frame(stream)
    if spec_frame is None:
        return
    spec = json.loads(spec_frame)
    online = OnlineConfig.model_validate(spec["online"])
    tune_for_serving()  # the imports and the configuration stay out of the collector's way
    opened: list[Any] = []  # [database, hooks] once the store could be opened

    def service() -> Any:
        # Opened on the first write, not at start: a writer started while the store is
        # down (a gateway starting, or a writer restarted during an outage) holds its
        # records and retries like any failed write, instead of exiting.
        if not opened:
            try:
                # At the shipped schema's head: one query, and Alembic is never loaded.
                db = open_database(spec["database_url"], create=False)
            except ReleasegateError as exc:  # not the records' fault: retried
                raise ConnectionError(str(exc)) from exc
            opened.extend((db, recording_hooks(online, db.url)))
        db, hooks = opened
        return hooks.service(db.uow())

    def decode(payload: bytes) -> list[dict[str, Any]]:
        # The records of one frame, when they are written; one that is not a gateway
        # record is left out (the writer counts it rejected).
        rows: list[tuple[Any, ...]] = pickle.loads(memoryview(payload)[_COUNT.size :])
        out = []
        for row in rows:
            try:
                out.append(to_interaction(dict(zip(RECORD_FIELDS, row, strict=True))))
            except Exception:
                log.exception("a gateway record could not be read")
        return out

    writer = StoreWriter(
        service,
        capacity=int(spec["records"]),
        max_bytes=int(spec["bytes"]),
        batch=MAX_BATCH_RECORDS,  # the most one write takes: fewer commits and queries
        reserved=frozenset({GATEWAY_FEATURE}),
        salvage=minimal,
        decode=decode,
    )
    received = [0]
    done = threading.Event()

    def publish() -> None:
        s = writer.stats()
        values = (
            received[0],
            s.written,
            s.dropped,
            s.rejected,
            s.failed_attempts,
            s.queued,
            s.salvaged,
        )
        _STATS.pack_into(view, 0, *values)

    def publisher() -> None:
        while not done.wait(0.1):
            publish()

    thread = threading.Thread(target=publisher, name="releasegate-recorder-stats", daemon=True)
    thread.start()
    try:
        while True:
            payload = read_frame(stream)
            if not payload:
                break
            (count,) = _COUNT.unpack_from(payload)  # our own parent's frames
            if count:
                received[0] += count
                writer.submit_encoded(payload, count)  # decoded when written
    finally:
        writer.close(float(spec.get("close_timeout_s", 10.0)))
        done.set()
        publish()
        if opened:
            opened[1].close()
            opened[0].close()


def main(argv: list[str] | None = None) -> int:
    """Run the writer on the inherited descriptors ``RECORDS_FD STATS_FD``."""
    args = sys.argv[1:] if argv is None else argv
    records_fd, stats_fd = int(args[0]), int(args[1])
    os.nice(NICE)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="releasegate recorder: %(message)s")
    view = mmap.mmap(stats_fd, STATS_SIZE)
    with os.fdopen(records_fd, "rb", buffering=1 << 16) as stream:
        try:
            _run(stream, view)
        except Exception:
            log.exception("the record writer stopped")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
