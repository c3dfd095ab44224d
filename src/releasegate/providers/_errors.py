"""Shared mapping of HTTP failures to :class:`ProviderError`.

Every HTTP-speaking provider (openai, anthropic, http) classifies failures the same way so
that the engine's retry policy does not depend on which SDK raised what.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping

from releasegate.errors import ProviderError

__all__ = ["is_retryable_status", "parse_retry_after", "shorten", "status_error"]

# 408 (request timeout) and 409 (conflict, used by some gateways for lock contention) are
# transient too; the OpenAI and Anthropic SDKs retry them by default for the same reason.
_RETRYABLE_4XX = frozenset({408, 409, 429})

_HINTS: Mapping[int, str] = {
    400: "bad request (check the model name, messages and parameters)",
    401: "authentication failed (check the API key environment variable)",
    403: "permission denied (the key may lack access to this model)",
    404: "not found (check the base URL and the model name)",
    413: "request too large",
    422: "unprocessable request (check the parameters)",
    429: "rate limited",
}


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status is worth retrying: 429, 408, 409 and every 5xx."""
    return status in _RETRYABLE_4XX or status >= 500


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, val in headers.items():
        if key.lower() == lowered:
            return val
    return None


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait as asked by the server, or ``None``.

    Reads ``retry-after-ms`` (milliseconds, sent by OpenAI) first, then ``Retry-After`` as
    delta-seconds or as an HTTP date (RFC 9110 section 10.2.3). Negative, non-finite or
    unparseable values give ``None``; a date in the past gives ``0.0``.

    Args:
        headers: response headers; lookups are case-insensitive.
        now: the current Unix time, for tests.
    """
    if not headers:
        return None
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = _header(headers, name)
        if raw is None:
            continue
        try:
            value = float(raw.strip()) / divisor
        except ValueError:
            continue
        if math.isfinite(value) and value >= 0:
            return value
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def status_error(
    status: int,
    detail: str,
    *,
    provider: str,
    headers: Mapping[str, str] | None = None,
) -> ProviderError:
    """Build the :class:`ProviderError` for an HTTP error response.

    Args:
        status: the HTTP status code.
        detail: the server's own message (already shortened by the caller).
        provider: the provider's name, for the message.
        headers: response headers, searched for ``Retry-After``.
    """
    hint = _HINTS.get(status) or ("server error" if status >= 500 else "request failed")
    message = f"{provider}: HTTP {status} {hint}"
    if detail:
        message += f": {detail}"
    retryable = is_retryable_status(status)
    return ProviderError(
        message,
        retryable=retryable,
        retry_after=parse_retry_after(headers) if retryable else None,
        status=status,
    )


def shorten(text: str, limit: int = 300) -> str:
    """One-line excerpt of an error body for a message."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
