"""What the token budgets decide for one chat request: admit it (perhaps with a lower
``max_tokens``) holding a reservation, or refuse it with an OpenAI-shaped error; and,
once it ended, settle the reservation from what it really used.

Refusals (all with ``error.code``):

* 400 ``prompt_over_limit`` — the estimated prompt is above ``max_prompt_tokens``;
* 400 ``max_tokens_over_limit`` — ``max_tokens`` above the cap, with ``on_exceed: reject``;
* 400 ``request_over_budget`` — the request alone needs more than its tenant's whole
  budget, so no wait would let it in;
* 429 ``token_budget_exceeded`` with ``Retry-After`` — the tenant's window is full;
* 503 ``budget_store_unavailable`` — the shared store did not answer (``fail_open``
  false).

Cancellation: a request cancelled (its client gone, the server stopping) never keeps
its reservation. With a store that waits on the network (Redis), the reservation and
the settlement run as tasks of their own that a cancelled request leaves running
(:func:`asyncio.shield`, a reference kept until they end): a reservation that completes
after its request was cancelled is released at once, and a settlement always
completes. The in-process store never waits, so nothing can interrupt it midway.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.errors import BudgetStoreUnavailable
from releasegate.gateway._call import Call
from releasegate.gateway.budget import (
    BudgetPolicy,
    BudgetStore,
    Denied,
    LocalBudgetStore,
    Reservation,
    estimate_tokens,
    prompt_estimate,
)
from releasegate.gateway.fallback import DETERMINISTIC_MODEL
from releasegate.gateway.metrics import GatewayMetrics

__all__ = ["Refusal", "Ticket", "TokenBudgets"]

logger = logging.getLogger("releasegate.gateway")

_LIMIT_FIELDS = ("max_completion_tokens", "max_tokens")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request the budgets turn away, as the HTTP error to answer with."""

    status: int
    message: str
    type: str
    code: str
    reason: str  # the metric label
    param: str | None = None
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """An admitted request: the body to send and the tokens held for it."""

    body: dict[str, Any]
    prompt_tokens: int
    reservation: Reservation | None


def _asked(body: Mapping[str, Any]) -> tuple[str, int] | None:
    for name in _LIMIT_FIELDS:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return name, value
    return None


def used_tokens(call: Call, prompt_tokens: int) -> int:
    """Tokens a finished request used: the upstream's usage; else, when a model
    answered (a stream whose upstream sent no usage, or one cut short), the estimated
    prompt plus the estimated answer; else (no model answered, the upstream refused
    the request, or the fixed fallback answer served it) none."""
    if call.prompt_tokens is not None and call.completion_tokens is not None:
        return call.prompt_tokens + call.completion_tokens
    if call.served_model in (None, DETERMINISTIC_MODEL) or call.status != 200:
        return 0
    response = call.response
    text = ""
    if isinstance(response, dict):
        content = response.get("content")
        text = content if isinstance(content, str) else ""
        if response.get("tool_calls"):
            text += json.dumps(response["tool_calls"], ensure_ascii=False, default=str)
    return prompt_tokens + estimate_tokens(text)


class TokenBudgets:
    """Per-request caps and per-tenant budgets over a :class:`BudgetStore`.

    Args:
        policy: The caps and budgets.
        store: Where tenants' counts live (in process by default; unused when no tenant
            has a budget).
    """

    def __init__(self, policy: BudgetPolicy, store: BudgetStore | None = None) -> None:
        self.policy = policy
        self.store: BudgetStore | None = store
        if store is None and policy.budgeted:
            self.store = LocalBudgetStore(policy.window_s)
        header = policy.tenant_header
        self._header = header.lower().encode("latin-1") if header else None
        self._logged_at = -math.inf
        # A store that suspends (network) is called from shielded tasks kept here.
        self._shield = self.store is not None and not isinstance(self.store, LocalBudgetStore)
        self._pending: set[asyncio.Task[Any]] = set()
        self._metrics: GatewayMetrics | None = None

    @property
    def pending(self) -> int:
        """Store calls still running for requests that were cancelled meanwhile."""
        return len(self._pending)

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _reserve(self, tenant: str, need: int, limit: int) -> Reservation | Denied:
        assert self.store is not None
        if not self._shield:
            return await self.store.reserve(tenant, need, limit)
        task = asyncio.ensure_future(self.store.reserve(tenant, need, limit))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # The store may still take the reservation: give it back once it answers.
            self._keep(task)
            task.add_done_callback(self._release_orphan)
            raise

    def _release_orphan(self, task: asyncio.Task[Reservation | Denied]) -> None:
        if task.cancelled() or task.exception() is not None:
            return  # nothing was reserved (or the store failed: nothing to undo)
        held = task.result()
        if isinstance(held, Reservation):
            self._keep(asyncio.ensure_future(self._settle(held, 0, self._metrics)))

    async def _settle(
        self, reservation: Reservation, tokens: int, metrics: GatewayMetrics | None
    ) -> None:
        assert self.store is not None
        try:
            await self.store.settle(reservation, tokens)
        except BudgetStoreUnavailable as exc:
            if metrics is not None:
                metrics.budget_store_errors.labels("settle").inc()
            self._log(exc)

    def tenant(self, headers: Mapping[bytes, bytes], feature: str) -> str:
        """The tenant a request is charged to: the tenant header, else its feature."""
        value = headers.get(self._header) if self._header else None
        return value.decode("utf-8", "replace") if value else feature

    async def admit(
        self,
        call: Call,
        headers: Mapping[bytes, bytes],
        body: dict[str, Any],
        metrics: GatewayMetrics,
    ) -> Ticket | Refusal:
        """Check the caps and reserve the request's tokens (see the module docstring)."""
        outcome = await self._admit(call, headers, body, metrics)
        if isinstance(outcome, Refusal):
            metrics.budget_rejections.labels(
                call.feature or "", call.assigned_version or "", outcome.reason
            ).inc()
            # A refusal is not the version's doing: recorded without an arm, the canary
            # statistics leave it out (its version still names what would have served).
            call.arm = None
        return outcome

    async def _admit(
        self,
        call: Call,
        headers: Mapping[bytes, bytes],
        body: dict[str, Any],
        metrics: GatewayMetrics,
    ) -> Ticket | Refusal:
        p = self.policy
        prompt = prompt_estimate(body)
        if p.max_prompt_tokens is not None and prompt > p.max_prompt_tokens:
            return Refusal(
                400,
                f"the prompt is about {prompt} tokens (estimated at 4 characters a token), "
                f"above this gateway's limit of {p.max_prompt_tokens} prompt tokens",
                "invalid_request_error",
                "prompt_over_limit",
                "prompt_tokens",
                param="messages",
            )
        asked = _asked(body)
        completion = asked[1] if asked else p.default_max_tokens
        if p.max_tokens is not None and completion > p.max_tokens:
            if asked is not None and p.on_exceed == "reject":
                return Refusal(
                    400,
                    f"{asked[0]} is {asked[1]}, above this gateway's limit of {p.max_tokens}",
                    "invalid_request_error",
                    "max_tokens_over_limit",
                    "max_tokens",
                    param=asked[0],
                )
            if asked is not None:
                body = {
                    **body,
                    **{
                        n: p.max_tokens
                        for n in _LIMIT_FIELDS
                        if isinstance(body.get(n), int) and body[n] > p.max_tokens
                    },
                }
                metrics.budget_clamped.labels(call.feature or "", call.assigned_version or "").inc()
            completion = p.max_tokens
        tenant = self.tenant(headers, call.feature or "")
        limit = p.limit(tenant)
        if limit is None or self.store is None:
            return Ticket(body, prompt, None)
        n = body.get("n")
        if isinstance(n, int) and not isinstance(n, bool) and n > 1:
            completion *= n  # every choice may use max_tokens
        need = prompt + completion
        if need > limit:
            return Refusal(
                400,
                f"this request needs about {need} tokens ({prompt} prompt + {completion} "
                f"completion), more than tenant {tenant!r}'s whole budget of {limit} tokens "
                f"per {p.window_s:g} s; lower max_tokens or the prompt",
                "invalid_request_error",
                "request_over_budget",
                "over_budget",
                param=asked[0] if asked else None,
            )
        self._metrics = metrics
        try:
            held = await self._reserve(tenant, need, limit)
        except BudgetStoreUnavailable as exc:
            metrics.budget_store_errors.labels("reserve").inc()
            self._log(exc)
            if p.fail_open:
                return Ticket(body, prompt, None)
            return Refusal(
                503,
                "the token budget store is unreachable, so requests are refused until it "
                "answers (gateway.budgets.fail_open is false)",
                "service_unavailable",
                "budget_store_unavailable",
                "store_unavailable",
            )
        if isinstance(held, Denied):
            wait = max(1, math.ceil(held.retry_after_s))
            return Refusal(
                429,
                f"tenant {tenant!r} is over its token budget: {held.used} of {limit} tokens "
                f"used in the last {p.window_s:g} s and this request needs about {need}; "
                f"retry in {wait} s",
                "rate_limit_error",
                "token_budget_exceeded",
                "tenant_budget",
                retry_after_s=wait,
            )
        return Ticket(body, prompt, held)

    async def settle(self, ticket: Ticket, call: Call, metrics: GatewayMetrics) -> None:
        """Replace the ticket's reservation by the tokens the request used. Never raises
        but :class:`asyncio.CancelledError`, and even then the settlement completes (see
        the module docstring); a store error is logged and counted, the reservation
        then simply expires."""
        if ticket.reservation is None or self.store is None:
            return
        work = self._settle(ticket.reservation, used_tokens(call, ticket.prompt_tokens), metrics)
        if not self._shield:
            await work
            return
        task = asyncio.ensure_future(work)
        self._keep(task)
        await asyncio.shield(task)

    async def close(self, timeout_s: float = 5.0) -> None:
        """Wait (up to ``timeout_s`` seconds) for the store calls of cancelled requests,
        then release the store's connections."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._pending and (left := deadline - loop.time()) > 0:
            # a reservation that ends may start its release: wait for that one too
            await asyncio.wait(set(self._pending), timeout=left)
        if self.store is not None:
            await self.store.close()

    def _log(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._logged_at >= 10:  # once per 10 s, not once per request
            self._logged_at = now
            logger.warning("token budget store: %s", exc)
