"""The buffered Python client: ``releasegate.record(...)`` and ``releasegate.feedback(...)``.

Calls never wait for the network: each validates its fields (a bad field raises at once,
naming it, instead of spoiling a whole batch later), appends to an in-memory buffer and
returns. A background thread sends the buffer in batches to ``POST /v1/interactions``
and ``POST /v1/feedback``, retrying with exponential backoff on 5xx answers and
connection errors (never on 4xx). The buffer is bounded: when it is full the oldest
unsent items are dropped and counted (:func:`stats`, and the Prometheus counter
``releasegate_client_dropped_total`` when ``prometheus-client`` is installed). The
buffer is flushed at interpreter exit and by :func:`flush`.

Configuration is read in one place, :func:`settings_from_env`: ``RELEASEGATE_API_URL``
and ``RELEASEGATE_API_TOKEN`` (a token of the ``ingest`` scope).
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from releasegate import settings as _settings
from releasegate.errors import UsageError
from releasegate.online.records import parse_feedback, parse_records

__all__ = [
    "API_URL_ENV",
    "TOKEN_ENV",
    "ClientSettings",
    "ClientStats",
    "Recorder",
    "configure",
    "feedback",
    "flush",
    "record",
    "settings_from_env",
    "shutdown",
    "stats",
]

API_URL_ENV = "RELEASEGATE_API_URL"
TOKEN_ENV = "RELEASEGATE_API_TOKEN"

log = logging.getLogger("releasegate.online.client")


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Where the client sends: the API's base URL and an ``ingest`` (or admin) token."""

    api_url: str | None
    token: str | None


def settings_from_env(environ: Mapping[str, str] | None = None) -> ClientSettings:
    """The client's settings from the environment (the only place it reads it)."""
    settings = _settings.current() if environ is None else _settings.Settings.from_env(environ)
    return ClientSettings(settings.api_url, settings.api_token)


@dataclass(frozen=True, slots=True)
class ClientStats:
    """Counters of a recorder since it started.

    Attributes:
        queued: Items waiting in the buffer now.
        sent: Items the server accepted (created, duplicate or conflicting).
        dropped: Oldest unsent items dropped because the buffer was full.
        rejected: Items in batches the server refused with a 4xx (not retried).
        conflicts: Records whose request id the server holds with other content.
        failed_attempts: Send attempts that failed with a 5xx or a connection error.
    """

    queued: int
    sent: int
    dropped: int
    rejected: int
    conflicts: int
    failed_attempts: int


class _Retryable(Exception):
    """A 5xx answer or a connection error: worth another attempt."""


def _dropped_counter() -> Any:
    if importlib.util.find_spec("prometheus_client") is None:
        return None
    prometheus_client = importlib.import_module("prometheus_client")
    return prometheus_client.Counter(
        "releasegate_client_dropped",
        "Recorded items dropped unsent because the client's buffer was full",
    )


_PROMETHEUS_DROPPED: Any = None
_PROMETHEUS_LOCK = threading.Lock()


def _export_dropped(n: int) -> None:
    global _PROMETHEUS_DROPPED
    with _PROMETHEUS_LOCK:
        if _PROMETHEUS_DROPPED is None:
            _PROMETHEUS_DROPPED = _dropped_counter() or False
    if _PROMETHEUS_DROPPED:
        _PROMETHEUS_DROPPED.inc(n)


class Recorder:
    """A buffer of records and feedback sent in batches by a background thread.

    Args:
        api_url: Base URL of the releasegate API (``http://host:8700``).
        token: An ``ingest`` (or admin) token.
        max_buffer: Items kept unsent at most; beyond it the oldest are dropped.
        batch_size: Items per request (the server accepts at most 500).
        flush_interval_s: Longest time an item waits before a batch is sent.
        timeout_s: HTTP timeout of one request.
        attempts: Attempts per batch before it goes back to the buffer.
        backoff_s: First retry delay; doubles up to ``max_backoff_s``.
        max_backoff_s: Longest retry delay.
        transport: An httpx transport (tests).
    """

    def __init__(
        self,
        api_url: str,
        token: str | None,
        *,
        max_buffer: int = 10_000,
        batch_size: int = 200,
        flush_interval_s: float = 1.0,
        timeout_s: float = 10.0,
        attempts: int = 4,
        backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_buffer < 1 or not 1 <= batch_size <= 500:
            raise UsageError("max_buffer must be >= 1 and batch_size from 1 to 500")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=api_url.rstrip("/"), headers=headers, timeout=timeout_s, transport=transport
        )
        self.max_buffer, self.batch_size = max_buffer, batch_size
        self.flush_interval_s = flush_interval_s
        self._retry = dict(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=backoff_s, max=max_backoff_s),
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            reraise=False,
        )
        self._buffer: deque[tuple[str, dict[str, Any]]] = deque()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._closing = False
        self._flush_requested = False
        self._counts = dict(sent=0, dropped=0, rejected=0, conflicts=0, failed_attempts=0)
        self._warned: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="releasegate-recorder", daemon=True)
        self._thread.start()

    # -- the caller's side: never blocks on the network ---------------------------------

    def record(self, **fields: Any) -> str:
        """Queue one interaction (fields as in ``docs/online.md``); returns its request id.

        ``request_id`` defaults to a new UUID and ``at`` to now (UTC).

        Raises:
            RecordError: a field is invalid (named in the message); nothing is queued.
        """
        payload = {k: v for k, v in fields.items() if v is not None}
        payload.setdefault("request_id", uuid.uuid4().hex)
        payload.setdefault("at", datetime.now(UTC))
        parse_records({"records": [payload]})
        self._put("records", payload)
        return str(payload["request_id"])

    def feedback(self, **fields: Any) -> None:
        """Queue one feedback item (``request_id`` or ``session_id``, ``rating``, ...).

        ``key`` (the idempotency key) defaults to a new UUID, ``at`` to now (UTC).

        Raises:
            RecordError: a field is invalid; nothing is queued.
        """
        payload = {k: v for k, v in fields.items() if v is not None}
        payload.setdefault("key", uuid.uuid4().hex)
        payload.setdefault("at", datetime.now(UTC))
        parse_feedback({"feedback": [payload]})
        self._put("feedback", payload)

    def _put(self, kind: str, payload: dict[str, Any]) -> None:
        for name, value in payload.items():
            if isinstance(value, datetime):
                payload[name] = value.isoformat()
        with self._cond:
            if self._closing:
                raise UsageError("this recorder is closed")
            self._buffer.append((kind, payload))
            self._trim()
            if len(self._buffer) >= self.batch_size:
                self._cond.notify_all()

    def _trim(self) -> None:
        dropped = 0
        while len(self._buffer) > self.max_buffer:
            self._buffer.popleft()
            dropped += 1
        if dropped:
            self._counts["dropped"] += dropped
            _export_dropped(dropped)

    def stats(self) -> ClientStats:
        """The counters now."""
        with self._cond:
            return ClientStats(queued=len(self._buffer), **self._counts)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Send everything queued; wait at most ``timeout`` seconds (None: no limit).

        Returns:
            True when the buffer is empty and nothing is in flight.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            self._flush_requested = True
            self._cond.notify_all()
            while self._buffer or self._in_flight:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left if left is None else min(left, 0.5))
            return True

    def close(self, timeout: float | None = 5.0) -> bool:
        """Flush (at most ``timeout`` seconds), then stop the thread.

        Returns:
            Whether everything was sent.
        """
        done = self.flush(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=max(timeout or 0, 1.0))
        self._http.close()
        return done

    # -- the background thread ---------------------------------------------------------

    def _take(self) -> tuple[str, list[dict[str, Any]]] | None:
        with self._cond:
            started = time.monotonic()
            while not self._closing:
                due = time.monotonic() - started >= self.flush_interval_s
                if self._buffer and (
                    due or self._flush_requested or len(self._buffer) >= self.batch_size
                ):
                    break
                self._cond.wait(self.flush_interval_s / 4)
            if not self._buffer:
                self._flush_requested = False
                return None
            kind = self._buffer[0][0]
            batch: list[dict[str, Any]] = []
            while self._buffer and self._buffer[0][0] == kind and len(batch) < self.batch_size:
                batch.append(self._buffer.popleft()[1])
            self._in_flight = len(batch)
            return kind, batch

    def _run(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                with self._cond:
                    if self._closing:
                        return
                continue
            kind, batch = taken
            try:
                sent = self._send(kind, batch)
            except Exception:  # a bug must not kill the thread silently; keep the items
                log.exception("releasegate recorder: unexpected error sending a batch")
                self._give_back(kind, batch)
                sent = False
            if not sent and self._closing:
                return  # closing with the server unreachable: the rest stays unsent

    def _give_back(self, kind: str, batch: list[dict[str, Any]]) -> None:
        with self._cond:
            self._buffer.extendleft((kind, item) for item in reversed(batch))
            self._in_flight = 0
            self._trim()
            self._cond.notify_all()
        # Let the server recover before the next attempt (interrupted by close()).
        with self._cond:
            if not self._closing:
                self._cond.wait(1.0)

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            response = self._http.post(path, json=body)
        except httpx.TransportError as exc:
            self._bump("failed_attempts")
            raise _Retryable(str(exc)) from exc
        if response.status_code >= 500:
            self._bump("failed_attempts")
            raise _Retryable(f"HTTP {response.status_code}")
        return response

    def _bump(self, name: str, n: int = 1) -> None:
        with self._cond:
            self._counts[name] += n

    def _send(self, kind: str, batch: list[dict[str, Any]]) -> bool:
        path = "/v1/interactions" if kind == "records" else "/v1/feedback"
        try:
            response = Retrying(**self._retry)(self._post, path, {kind: batch})  # type: ignore[arg-type]
        except RetryError:
            if self._closing:  # at exit with the server down: nothing more to do
                log.warning("releasegate recorder: %d item(s) unsent at close", len(batch))
            self._give_back(kind, batch)
            return False
        with self._cond:
            self._in_flight = 0
            if response.is_success:
                self._counts["sent"] += len(batch)
                if kind == "records":
                    answer = response.json()
                    self._counts["conflicts"] += len(answer.get("conflicts", []))
                    for warning in answer.get("warnings", []):
                        if warning not in self._warned:  # each once per process
                            self._warned.add(warning)
                            log.warning("releasegate recorder: %s", warning)
            else:
                self._counts["rejected"] += len(batch)
                log.warning(
                    "releasegate recorder: %d item(s) refused with HTTP %d: %s",
                    len(batch),
                    response.status_code,
                    response.text[:500],
                )
            self._cond.notify_all()
        return True


_default: Recorder | None = None
_default_lock = threading.Lock()


def configure(api_url: str | None = None, token: str | None = None, **options: Any) -> Recorder:
    """Replace the process-wide recorder (closing the old one); unset arguments come
    from :func:`settings_from_env`. ``options`` are :class:`Recorder`'s keywords.

    Raises:
        UsageError: no API URL is given or set in ``RELEASEGATE_API_URL``.
    """
    global _default
    settings = settings_from_env()
    url = api_url or settings.api_url
    if not url:
        raise UsageError(
            f"releasegate.record needs the API's URL: set {API_URL_ENV} (and {TOKEN_ENV} to "
            "an ingest token) or call releasegate.online.client.configure(api_url=...)"
        )
    with _default_lock:
        old, _default = _default, Recorder(url, token or settings.token, **options)
    if old is not None:
        old.close()
    return _default


def _recorder() -> Recorder:
    with _default_lock:
        current = _default
    return current if current is not None else configure()


def record(feature: str, **fields: Any) -> str:
    """Record one production interaction without waiting for the network.

    Args:
        feature: The feature that served the request.
        **fields: ``request_id`` (default: a new UUID), ``version``, ``served_version``,
            ``model``, ``arm``, ``unit_key``, ``session_id``, ``prompt`` (messages),
            ``response``, ``tool_calls`` (the answer's, OpenAI shape), ``tools`` (the
            function tools offered), ``context`` (chunks), ``latency_ms``, ``ttft_ms``,
            ``prompt_tokens``, ``completion_tokens``, ``cost_usd``, ``error``,
            ``fallback_depth``, ``shadow``, ``metadata``, ``at`` (default: now).

    Returns:
        The request id (pass it to :func:`feedback`).

    Raises:
        RecordError: a field is invalid (named); UsageError: the client is not configured.
    """
    return _recorder().record(feature=feature, **fields)


def feedback(
    *,
    rating: str | int,
    request_id: str | None = None,
    session_id: str | None = None,
    comment: str | None = None,
    key: str | None = None,
    at: str | datetime | None = None,
) -> None:
    """Record a user's rating of a request or a session without waiting for the network.

    Args:
        rating: ``"up"``, ``"down"`` or a whole number from 1 to 5.
        request_id: The rated request (as returned by :func:`record`).
        session_id: Or the rated session.
        comment: Optional free text (redacted before it is stored).
        key: Idempotency key (default: a new UUID).
        at: When it was given (default: now).

    Raises:
        RecordError: a field is invalid; UsageError: the client is not configured.
    """
    _recorder().feedback(
        rating=rating,
        request_id=request_id,
        session_id=session_id,
        comment=comment,
        key=key,
        at=at,
    )


def flush(timeout: float | None = 10.0) -> bool:
    """Send everything buffered, waiting at most ``timeout`` seconds; True when done."""
    with _default_lock:
        current = _default
    return True if current is None else current.flush(timeout)


def stats() -> ClientStats | None:
    """Counters of the process-wide recorder (None before the first record)."""
    with _default_lock:
        current = _default
    return None if current is None else current.stats()


def shutdown(timeout: float | None = 5.0) -> bool:
    """Flush and close the process-wide recorder (the next record starts a new one).

    Returns:
        Whether everything was sent (True when there was no recorder).
    """
    global _default
    with _default_lock:
        current, _default = _default, None
    return True if current is None else current.close(timeout=timeout)


@atexit.register
def _close_at_exit() -> None:
    shutdown(timeout=5.0)
