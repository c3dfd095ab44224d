"""The in-process recorder: batches, never blocks, bounded, isolates bad records, retries."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from releasegate.online import RecordingService
from releasegate.online.store_writer import StoreWriter
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def rec(i: int, **extra: Any) -> dict[str, Any]:
    return {"feature": "chat", "request_id": f"r-{i}", "response": "hi", **extra}


def stored(data: MemoryData) -> list[str]:
    return sorted(i.request_id for i in data.interactions.values())


def test_every_record_is_written_in_batches() -> None:
    data = MemoryData()
    calls: list[int] = []

    def service() -> RecordingService:
        calls.append(1)
        return RecordingService(InMemoryUnitOfWork(data), clock=lambda: T0)

    w = StoreWriter(service, batch=10, interval_s=0.05)
    for i in range(35):
        w.submit(rec(i))
    assert w.close(10)
    assert stored(data) == sorted(f"r-{i}" for i in range(35))
    assert 4 <= len(calls) <= 35 and w.stats().written == 35 and w.stats().queued == 0


def test_one_bad_record_never_loses_the_others() -> None:
    data = MemoryData()
    w = StoreWriter(lambda: RecordingService(InMemoryUnitOfWork(data)), batch=50)
    for i in range(20):
        w.submit(rec(i, latency_ms=-1) if i == 7 else rec(i))
    assert w.close(10)
    assert len(stored(data)) == 19 and "r-7" not in stored(data)
    s = w.stats()
    assert (s.written, s.rejected) == (19, 1)


def test_a_full_buffer_drops_the_oldest_and_counts_them() -> None:
    data = MemoryData()
    gate = threading.Event()

    def slow() -> RecordingService:
        gate.wait(10)  # the store is stuck until the test releases it
        return RecordingService(InMemoryUnitOfWork(data))

    w = StoreWriter(slow, capacity=5, batch=1, interval_s=0.01)
    for i in range(30):
        w.submit(rec(i))  # returns at once although nothing can be written
    gate.set()
    assert w.close(10)
    s = w.stats()
    assert s.dropped >= 24 and s.written + s.dropped == 30
    assert "r-29" in stored(data)  # the newest survive


def test_a_store_that_is_down_is_retried_until_it_is_back() -> None:
    data = MemoryData()
    failures = {"left": 3}

    def flaky() -> RecordingService:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("database unreachable")
        return RecordingService(InMemoryUnitOfWork(data))

    w = StoreWriter(flaky, batch=100, max_backoff_s=0.05)
    for i in range(10):
        w.submit(rec(i))
    assert w.close(10)
    assert len(stored(data)) == 10
    assert w.stats().failed_attempts == 3 and w.stats().dropped == 0
