"""The caller's X-Request-Id is kept only when the recording service can store it."""

from __future__ import annotations

import pytest

from releasegate.gateway._call import valid_request_id
from releasegate.online.limits import MAX_REQUEST_ID
from releasegate.online.records import parse_records


@pytest.mark.parametrize(
    "value",
    [b"abc", b"req-1.2:3_x", b"a" * MAX_REQUEST_ID, b"0", b"A:B:C"],
)
def test_a_sane_id_is_kept_and_recordable(value: bytes) -> None:
    kept = valid_request_id(value)
    assert kept == value.decode()
    parse_records({"records": [{"feature": "chat", "request_id": kept}]})  # no RecordError


@pytest.mark.parametrize(
    "value",
    [None, b"", b"a" * (MAX_REQUEST_ID + 1), b"a" * 128, b"a b", b"a/b", b"\xff\xfe", b"id\n"],
)
def test_anything_else_is_replaced_by_the_gateways_own(value: bytes | None) -> None:
    assert valid_request_id(value) is None


def test_the_gateways_own_ids_are_unique_recordable_hex() -> None:
    from releasegate.gateway._call import new_request_id

    ids = [new_request_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for rid in ids[:50] + ids[-50:]:
        assert len(rid) == 32 and int(rid, 16) >= 0
        assert valid_request_id(rid.encode()) == rid


def test_a_forked_process_draws_its_own_prefix() -> None:
    import multiprocessing

    from releasegate.gateway._call import new_request_id

    ctx = multiprocessing.get_context("fork")
    queue = ctx.SimpleQueue()

    def child() -> None:
        queue.put([new_request_id() for _ in range(3)])

    mine = new_request_id()
    procs = [ctx.Process(target=child) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    prefixes = {rid[:16] for _ in procs for rid in queue.get()}
    assert len(prefixes) == 3 and mine[:16] not in prefixes
