"""Where the gateway sends one interaction record per request.

The gateway builds exactly one record for every request it answers (successes,
failures, fallbacks, broken streams) and hands it to a :class:`Recorder`. ``submit``
must return at once: recording never delays a response. The store recorder of
``releasegate serve --gateway`` (:mod:`releasegate.gateway._spool`: records written by a
writer process of its own) implements the same protocol, plus ``stats()`` and
``close()``, which the gateway calls for its metrics and at shutdown;
:class:`MemoryRecorder` is the bounded in-process one used by tests.

A record is a plain mapping with these keys (:data:`RECORD_FIELDS`):

    feature, assigned_version, served_version, served_model, arm, deployment_id,
    unit_key, unit_key_random, session_id, request_id, stream, messages, response,
    tools, latency_ms, ttft_ms, overhead_ms, prompt_tokens, completion_tokens, cost_usd,
    status, error, error_stage, fallback_depth, shadow, shadow_of, time, usage_estimated

``response`` is the assistant message the caller received (for a stream, assembled from
its deltas): ``content``, ``tool_calls`` in the OpenAI shape ``{id, type, function:
{name, arguments}}`` and ``finish_reason``. ``tools`` holds the function tools the
request sent upstream offered (None without any).
``time`` is the request's arrival as Unix seconds (UTC); durations are milliseconds.
``error`` is None on success; ``error_stage`` says where a failure happened:
``"route"``, ``"request"`` (bad input), ``"upstream"`` (every upstream failed before
an answer), ``"stream"`` (after the first byte was sent; ``response`` then holds what
was delivered) or ``"client"`` (the caller went away). ``shadow`` is True on the record
of a shadow call (a candidate's answer that was never served), and ``shadow_of`` then
holds the request id of the user's request it shadowed (None otherwise).
``usage_estimated`` is True when a model answered but its upstream reported no token
usage (a stream from an upstream that ignores ``stream_options.include_usage``): the
token counts are then None and the budgets settled on an estimate; None otherwise.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = ["RECORD_FIELDS", "MemoryRecorder", "Recorder"]

RECORD_FIELDS: tuple[str, ...] = (
    "feature",
    "assigned_version",
    "served_version",
    "served_model",
    "arm",
    "deployment_id",
    "unit_key",
    "unit_key_random",
    "session_id",
    "request_id",
    "stream",
    "messages",
    "response",
    "tools",
    "latency_ms",
    "ttft_ms",
    "overhead_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "status",
    "error",
    "error_stage",
    "fallback_depth",
    "shadow",
    "shadow_of",
    "time",
    "usage_estimated",
)
"""Every key of a gateway record, in a stable order."""


@runtime_checkable
class Recorder(Protocol):
    """Receives interaction records; never blocks the caller."""

    def submit(self, record: Mapping[str, Any]) -> None:
        """Accept one record. Must return at once and never raise for a full buffer
        (a bounded recorder drops and counts instead)."""
        ...


class MemoryRecorder:
    """A bounded in-memory recorder: keeps the newest ``capacity`` records.

    When full, the oldest record is dropped and counted in :attr:`dropped`, so memory
    stays bounded under any load. Thread-safe.

    Args:
        capacity: Records kept at most (>= 1).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._records: deque[Mapping[str, Any]] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self.submitted = 0
        """Records received so far (kept or dropped)."""
        self.dropped = 0
        """Records dropped because the buffer was full."""

    def submit(self, record: Mapping[str, Any]) -> None:
        with self._lock:
            if len(self._records) == self._records.maxlen:
                self.dropped += 1
            self._records.append(record)
            self.submitted += 1

    @property
    def records(self) -> list[Mapping[str, Any]]:
        """A snapshot of the records kept, oldest first."""
        with self._lock:
            return list(self._records)

    def drain(self) -> list[Mapping[str, Any]]:
        """Take every kept record (oldest first) and empty the buffer."""
        with self._lock:
            out = list(self._records)
            self._records.clear()
            return out

    def __len__(self) -> int:
        return len(self._records)
