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
