"""The in-process recorder: batches, never blocks, bounded, isolates bad records, retries."""

from __future__ import annotations

import threading
from collections.abc import Callable
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


def held(data: MemoryData, gate: threading.Event) -> Callable[[], RecordingService]:
    """A store that is stuck until the test sets ``gate``."""

    def service() -> RecordingService:
        gate.wait(10)
        return RecordingService(InMemoryUnitOfWork(data))

    return service


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

    w = StoreWriter(held(data, gate), capacity=5, batch=1, interval_s=0.01)
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


def test_the_size_bound_drops_the_oldest_and_counts_them() -> None:
    data = MemoryData()
    gate = threading.Event()

    w = StoreWriter(held(data, gate), capacity=1_000, max_bytes=1_000, batch=1, interval_s=0.01)
    for i in range(50):
        w.submit(rec(i), size=100)  # at most 10 of them fit
    gate.set()
    assert w.close(10)
    s = w.stats()
    assert s.dropped >= 39 and s.written + s.dropped == 50
    assert "r-49" in stored(data)


def test_a_refused_record_can_be_kept_in_a_reduced_form() -> None:
    data = MemoryData()
    seen: list[str] = []

    def salvage(record: dict[str, Any], why: str) -> dict[str, Any]:
        seen.append(why)
        return {"feature": record["feature"], "request_id": record["request_id"]}

    w = StoreWriter(lambda: RecordingService(InMemoryUnitOfWork(data)), salvage=salvage)
    w.submit(rec(1, latency_ms=-1))
    w.submit(rec(2))
    assert w.close(10)
    s = w.stats()
    assert (s.written, s.rejected, s.salvaged) == (2, 0, 1)
    assert stored(data) == ["r-1", "r-2"] and "latency_ms" in seen[0]


def test_reserved_pseudo_features_only_when_the_writer_names_them() -> None:
    data = MemoryData()
    plain = StoreWriter(lambda: RecordingService(InMemoryUnitOfWork(data)))
    plain.submit({"feature": "_gateway", "request_id": "r-1"})
    assert plain.close(10) and plain.stats().rejected == 1
    own = StoreWriter(
        lambda: RecordingService(InMemoryUnitOfWork(data)), reserved=frozenset({"_gateway"})
    )
    own.submit({"feature": "_gateway", "request_id": "r-2"})
    own.submit({"feature": "_tokens", "request_id": "r-3"})
    assert own.close(10)
    assert stored(data) == ["r-2"] and own.stats().rejected == 1


def _encode(records: list[Any]) -> bytes:
    import json

    return json.dumps(records).encode()


def _decode(data: bytes) -> list[dict[str, Any]]:
    # A group's records; an entry that is not an object is left out (counted rejected).
    import json

    return [r for r in json.loads(data) if isinstance(r, dict)]


def test_encoded_groups_are_decoded_when_written_and_unreadable_ones_are_counted() -> None:
    data = MemoryData()
    w = StoreWriter(lambda: RecordingService(InMemoryUnitOfWork(data)), batch=7, decode=_decode)
    w.submit_encoded(_encode([rec(i, response=f"answer {i}") for i in range(5)]), 5)
    w.submit_encoded(b"not json", 3)  # the whole group unreadable
    w.submit(rec(99))  # plain and encoded records mix in one buffer
    w.submit_encoded(_encode([rec(5), "not a record", rec(6), [1]]), 4)  # two left out
    w.submit_encoded(_encode([rec(i) for i in range(7, 20)]), 13)  # more than a batch
    assert w.close(10)
    assert stored(data) == sorted([f"r-{i}" for i in range(20)] + ["r-99"])
    s = w.stats()
    assert (s.written, s.rejected, s.dropped, s.queued) == (21, 5, 0, 0)
    by_id = {i.request_id: i for i in data.interactions.values()}
    assert by_id["r-4"].response == "answer 4"


def test_encoded_groups_count_as_their_records_and_their_bytes_against_the_bounds() -> None:
    data = MemoryData()
    gate = threading.Event()

    stuck = held(data, gate)
    w = StoreWriter(stuck, capacity=25, batch=1, interval_s=0.01, decode=_decode)
    for g in range(10):  # ten groups of 4 records: at most 25 records held
        w.submit_encoded(_encode([rec(g * 4 + i) for i in range(4)]), 4)
    queued = w.stats().queued
    assert queued <= 25 + 4  # the group being written, at most, besides the bound
    gate.set()
    assert w.close(10)
    s = w.stats()
    assert s.dropped % 4 == 0 and s.dropped >= 40 - 25 - 4  # whole groups, oldest first
    assert s.written + s.dropped == 40
    assert "r-39" in stored(data) and "r-0" not in stored(data)

    sized = StoreWriter(stuck, max_bytes=1000, batch=1, decode=_decode)
    groups = [_encode([rec(i, response="x" * 100)]) for i in range(20)]
    for group in groups:
        sized.submit_encoded(group, 1)
    assert sized.close(10)
    assert sized.stats().dropped >= 20 - 1000 // len(groups[0]) - 1


def test_submit_encoded_needs_a_decode_function_and_a_count() -> None:
    import pytest

    w = StoreWriter(lambda: RecordingService(InMemoryUnitOfWork(MemoryData())))
    with pytest.raises(TypeError, match="decode"):
        w.submit_encoded(b"[]", 1)
    d = StoreWriter(lambda: RecordingService(InMemoryUnitOfWork(MemoryData())), decode=_decode)
    with pytest.raises(ValueError, match="count"):
        d.submit_encoded(b"[]", 0)
    assert w.close(1) and d.close(1)
