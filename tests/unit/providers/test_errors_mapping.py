from __future__ import annotations

import email.utils

import pytest

from releasegate.providers._errors import is_retryable_status, parse_retry_after, status_error


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "250"}, 0.25),
        # retry-after-ms is more precise and wins over retry-after.
        ({"retry-after-ms": "1200", "Retry-After": "2"}, 1.2),
        ({"Retry-After": "-3"}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str] | None, expected: float | None) -> None:
    assert parse_retry_after(headers) == expected


def test_parse_retry_after_http_date() -> None:
    now = 1_700_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"Retry-After": header}, now=now) == pytest.approx(30.0)
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after({"Retry-After": past}, now=now) == 0.0


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retryable_statuses(status: int) -> None:
    assert is_retryable_status(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_not_retryable_statuses(status: int) -> None:
    assert not is_retryable_status(status)


def test_status_error_carries_retry_after_and_a_clear_message() -> None:
    err = status_error(429, "slow down", provider="target", headers={"Retry-After": "3"})
    assert err.retryable and err.retry_after == 3.0 and err.status == 429
    assert "target" in str(err) and "429" in str(err) and "slow down" in str(err)
    auth = status_error(401, "bad key", provider="target", headers={"Retry-After": "3"})
    assert not auth.retryable and auth.retry_after is None
    assert "API key" in str(auth)
