"""Token budgets: per-request caps and a per-tenant budget over a sliding window.

A tenant's budget counts tokens in a *sliding window* of ``window_s`` seconds, kept as
``buckets`` (60) equal sub-windows: a reservation is added to the current bucket, and a
bucket leaves the window once it is older than the window, so at any instant the window
holds between ``window_s - window_s / buckets`` and ``window_s`` seconds of history.
This avoids the burst of twice the budget that a fixed window allows around its edge.

A request's tokens are *reserved* before it is dispatched (its estimated prompt plus the
``max_tokens`` it asks for, or a configured default), then *settled* once it ended: the
reservation becomes the tokens really used (the upstream's ``usage``, else an estimate),
or nothing when no model answered. A reservation is admitted only if it fits in what
the window has left, checked and added in one step, so concurrent requests cannot
overshoot the budget; only a settlement above the reservation can (the next requests
then wait longer).

Token counts are estimated at four characters a token (the text of every message, tool
calls and tool definitions). A model's tokenizer is not used: the common one
(``tiktoken``) downloads its vocabulary at first use, which a gateway cannot assume.

:class:`LocalBudgetStore` keeps the counts in process (thread and task safe);
:class:`releasegate.gateway.budget_redis.RedisBudgetStore` keeps them in Redis for
several gateway processes. Both implement :class:`BudgetStore`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "BUCKETS",
    "BudgetPolicy",
    "BudgetStore",
    "Denied",
    "LocalBudgetStore",
    "Reservation",
    "estimate_tokens",
    "prompt_estimate",
    "retry_after_s",
]

BUCKETS = 60
"""Sub-windows of a budget window."""


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """Per-request caps and per-tenant budgets (``gateway.budgets`` in the config).

    Attributes:
        max_tokens: Largest ``max_tokens`` / ``max_completion_tokens`` a request may ask
            for (None: no cap).
        max_prompt_tokens: Largest estimated prompt, tokens (None: no cap).
        on_exceed: What a request above ``max_tokens`` gets: ``reject`` (400) or
            ``truncate`` (its value is lowered to the cap). A prompt above
            ``max_prompt_tokens`` is always rejected.
        tokens_per_window: Every tenant's budget per window, tokens (None: unlimited
            unless ``tenants`` names it).
        tenants: Budgets of named tenants, overriding ``tokens_per_window``.
        window_s: Length of the sliding window, seconds.
        default_max_tokens: Completion tokens reserved for a request that names no limit.
        tenant_header: Header naming the tenant; without it (or when None) the feature is
            the tenant.
        fail_open: Admit requests unbudgeted while the budget store is unreachable
            (default: refuse them with 503).
    """

    max_tokens: int | None = None
    max_prompt_tokens: int | None = None
    on_exceed: Literal["reject", "truncate"] = "reject"
    tokens_per_window: int | None = None
    tenants: Mapping[str, int] = field(default_factory=dict)
    window_s: float = 60.0
    default_max_tokens: int = 1024
    tenant_header: str | None = "X-Releasegate-Tenant"
    fail_open: bool = False

    def __post_init__(self) -> None:
        if self.window_s < 1:
            raise ValueError("window_s must be >= 1")
        for name, value in (
            ("max_tokens", self.max_tokens),
            ("max_prompt_tokens", self.max_prompt_tokens),
            ("tokens_per_window", self.tokens_per_window),
            ("default_max_tokens", self.default_max_tokens),
            *((f"tenants.{k}", v) for k, v in self.tenants.items()),
        ):
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1")

    def limit(self, tenant: str) -> int | None:
        """The tenant's budget per window, or None when it has none."""
        return self.tenants.get(tenant, self.tokens_per_window)

    @property
    def budgeted(self) -> bool:
        """Whether any tenant has a budget (a store is needed)."""
        return self.tokens_per_window is not None or bool(self.tenants)


@dataclass(frozen=True, slots=True)
class Reservation:
    """Tokens held for one request: ``tokens`` in bucket ``bucket`` of ``tenant``."""

    tenant: str
    tokens: int
    bucket: int


@dataclass(frozen=True, slots=True)
class Denied:
    """A reservation that did not fit: ``used`` of ``limit`` tokens are taken, and
    ``retry_after_s`` seconds from now enough of them leave the window."""

    used: int
    limit: int
    retry_after_s: float


class BudgetStore(Protocol):
    """Where tenants' token counts live. Methods raise
    :class:`releasegate.errors.BudgetStoreUnavailable` when the store does not answer."""

    async def reserve(self, tenant: str, tokens: int, limit: int) -> Reservation | Denied:
        """Add ``tokens`` to the tenant's window if the total stays within ``limit``
        (atomically), else say when it would fit. ``tokens`` must be <= ``limit``."""
        ...

    async def settle(self, reservation: Reservation, tokens: int) -> None:
        """Replace the reservation by the ``tokens`` really used (0 releases it). A
        reservation whose bucket already left the window changes nothing."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def retry_after_s(
    counts: Mapping[int, int], need: int, *, buckets: int, width: float, now: float
) -> float:
    """Seconds from ``now`` until the oldest buckets of ``counts`` (bucket -> tokens)
    that hold at least ``need`` tokens have left the window (bucket ``b`` leaves at the
    start of bucket ``b + buckets``); the whole window when they never hold enough."""
    freed = 0
    for b in sorted(counts):
        freed += counts[b]
        if freed >= need:
            return max(0.0, (b + buckets) * width - now)
    return buckets * width


class LocalBudgetStore:
    """Token counts in this process: one lock around each check-and-add.

    Args:
        window_s: Length of the sliding window, seconds.
        buckets: Sub-windows of the window.
        clock: Seconds (monotonic), injectable for tests.
    """

    def __init__(
        self,
        window_s: float,
        *,
        buckets: int = BUCKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.buckets = buckets
        self.width = window_s / buckets
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, dict[int, int]] = {}
        self._calls = 0

    def used(self, tenant: str) -> int:
        """Tokens of ``tenant`` in the window now."""
        with self._lock:
            counts = self._live(tenant, math.floor(self._clock() / self.width))
            return sum(counts.values())

    def _live(self, tenant: str, cur: int) -> dict[int, int]:
        counts = self._counts.setdefault(tenant, {})
        oldest = cur - self.buckets + 1
        for b in [b for b in counts if b < oldest]:
            del counts[b]
        return counts

    async def reserve(self, tenant: str, tokens: int, limit: int) -> Reservation | Denied:
        now = self._clock()
        cur = math.floor(now / self.width)
        with self._lock:
            counts = self._live(tenant, cur)
            used = sum(counts.values())
            self._calls += 1
            if self._calls % 4096 == 0:  # forget tenants whose window emptied
                for name in [n for n, c in self._counts.items() if not c and n != tenant]:
                    del self._counts[name]
            if used + tokens <= limit:
                counts[cur] = counts.get(cur, 0) + tokens
                return Reservation(tenant, tokens, cur)
            wait = retry_after_s(
                counts, used + tokens - limit, buckets=self.buckets, width=self.width, now=now
            )
            return Denied(used, limit, wait)

    async def settle(self, reservation: Reservation, tokens: int) -> None:
        with self._lock:
            counts = self._counts.get(reservation.tenant)
            if counts is not None and reservation.bucket in counts:
                counts[reservation.bucket] += tokens - reservation.tokens

    async def close(self) -> None:
        return None


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` at four characters a token (0 for no text)."""
    return math.ceil(len(text) / 4)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # content parts: only text counts
        return "".join(
            str(p.get("text", "")) for p in value if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def prompt_estimate(body: Mapping[str, Any]) -> int:
    """Estimated prompt tokens of a chat request: every message's text, name and tool
    calls, and the tool definitions, at four characters a token."""
    parts: list[str] = []
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            continue
        parts.append(_text(message.get("content")))
        if isinstance(message.get("name"), str):
            parts.append(message["name"])
        if message.get("tool_calls"):
            parts.append(json.dumps(message["tool_calls"], ensure_ascii=False, default=str))
    if body.get("tools"):
        parts.append(json.dumps(body["tools"], ensure_ascii=False, default=str))
    return estimate_tokens("".join(parts))
