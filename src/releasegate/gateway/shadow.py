"""Shadow mode: a candidate in a shadow stage answers too, in the background.

When the route of a request carries a shadow candidate (:attr:`Route.shadow`), and the
request's unit is in the sampled share, the gateway calls the candidate with the same
request rewritten for the candidate's own pinned model, parameters and prompt (the
function the served path uses), once the user's response is complete. Its answer is
never returned: it becomes an interaction record of its own, marked ``shadow`` and
linked to the user's request id, which the online scorer scores like any other.

Rules:

- **Never on the user's path.** A shadow call starts only after the handler has sent the
  last byte of the user's response (a stream included); the handler never awaits it.
- **Sampled per unit.** A unit is in or out for a candidate, always:
  ``SHA-256("shadow:" + feature + ":" + version + ":" + unit key)``'s first 8 bytes,
  read as a big-endian integer, below ``sample * 2**64`` (as routing compares).
- **Bounded.** At most ``max_concurrent`` shadow calls run at once per process; one
  more is dropped and counted (``releasegate_gateway_shadow_dropped_total{reason=
  "capacity"}``). At shutdown the calls still running are cancelled and counted
  (``reason="shutdown"``); neither kind is recorded.
- **Not streamed, no fallback.** The candidate is asked for a whole answer (``stream``
  off) and only its pinned model is tried: a failure is the candidate's, recorded
  with its error, and never served anything.
- **Breakers of their own.** A shadow call neither reads nor feeds the breakers of the
  served path. Its outcomes feed a second breaker per upstream, named
  ``<upstream>:shadow`` with the same policy: a candidate upstream that keeps failing
  stops receiving shadow calls (each then recorded as failed, circuit open) while the
  served path's breaker sees only served traffic.
- **Same trace.** A shadow call carries its user request's trace context upstream: with
  tracing, a span of its own under the user request's span (same trace id); without,
  the caller's valid ``traceparent`` unchanged (see
  :mod:`releasegate.gateway._tracecontext`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from releasegate.control.router import Route
from releasegate.deploy.bucketing import key_bytes
from releasegate.errors import PromptError
from releasegate.gateway._call import Call
from releasegate.gateway._chat import ChatHandler
from releasegate.gateway._deps import Deps
from releasegate.gateway._shape import apply_version
from releasegate.gateway.breaker import Breaker, Breakers
from releasegate.gateway.fallback import NO_FALLBACK
from releasegate.online.limits import MAX_REQUEST_ID

__all__ = ["SHADOW_SUFFIX", "ShadowPolicy", "Shadows", "in_shadow_sample", "shadow_request_id"]

logger = logging.getLogger("releasegate.gateway")

SHADOW_SUFFIX = ":shadow"
"""Appended to an upstream's name for the breaker that shadow calls feed."""


@dataclass(frozen=True, slots=True)
class ShadowPolicy:
    """How much shadow traffic a gateway process sends.

    Attributes:
        sample: Share of units, in [0, 1], whose requests the candidate also answers.
        max_concurrent: Shadow calls in flight at most (>= 1); more are dropped.
    """

    sample: float = 1.0
    max_concurrent: int = 32

    def __post_init__(self) -> None:
        if not 0.0 <= self.sample <= 1.0:
            raise ValueError("sample must be within [0, 1]")
        if self.max_concurrent < 1:
            raise ValueError("max_concurrent must be >= 1")


def in_shadow_sample(feature: str, version: str, unit_key: str, sample: float) -> bool:
    """Whether ``unit_key``'s requests to ``feature`` are shadowed by candidate
    ``version`` (the same answer every time; see the module docstring)."""
    if sample >= 1.0:
        return True
    if sample <= 0.0:
        return False
    digest = hashlib.sha256(key_bytes(f"shadow:{feature}:{version}:{unit_key}")).digest()
    return int.from_bytes(digest[:8], "big") < math.ceil(sample * 2.0**64)


def shadow_request_id(request_id: str) -> str:
    """The request id of the shadow call of ``request_id``: ``<id>:shadow``, or, when
    that would be longer than a request id may be, ``shadow:`` and a digest of it."""
    candidate = request_id + SHADOW_SUFFIX
    if len(candidate) <= MAX_REQUEST_ID:
        return candidate
    return "shadow:" + hashlib.sha256(request_id.encode()).hexdigest()[:48]


class _ShadowBreakers(Breakers):
    """The breakers shadow calls use: ``<upstream>:shadow`` of the gateway's own."""

    def __init__(self, base: Breakers) -> None:
        super().__init__()
        self._base = base

    def __getitem__(self, upstream: str) -> Breaker:
        return self._base[upstream + SHADOW_SUFFIX]

    def items(self) -> list[tuple[str, Breaker]]:
        return [(n, b) for n, b in self._base.items() if n.endswith(SHADOW_SUFFIX)]


async def _discard(_message: dict[str, Any]) -> None:
    return None


class Shadows:
    """Starts, bounds and cancels the shadow calls of one gateway.

    Args:
        deps: The gateway's dependencies (upstreams, prompts, pool, metrics...).
        policy: Sample and concurrency bound.
        finish: Called with each finished shadow call (records, metrics, spans); it
            must not raise.
    """

    def __init__(self, deps: Deps, policy: ShadowPolicy, finish: Callable[[Call], None]) -> None:
        self.policy = policy
        self._deps = deps
        self._handler = ChatHandler(replace(deps, breakers=_ShadowBreakers(deps.breakers)))
        self._finish = finish
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Shadow calls running now."""
        return len(self._tasks)

    def wanted(self, route: Route, unit_key: str) -> Route | None:
        """The shadow candidate that should answer a request of ``unit_key`` on
        ``route``, or None."""
        shadow = route.shadow
        if shadow is None or shadow.version is None:
            return None
        if not in_shadow_sample(shadow.feature, shadow.version, unit_key, self.policy.sample):
            return None
        return shadow

    def start(self, user: Call, candidate: Route, body: Mapping[str, Any]) -> None:
        """Start the shadow call of ``user``'s finished request (never blocks, never
        raises; a call over the bound is dropped and counted)."""
        metrics = self._deps.metrics
        if self._closed:
            return
        if len(self._tasks) >= self.policy.max_concurrent:
            metrics.shadow_dropped.labels(candidate.feature, "capacity").inc()
            return
        task = asyncio.get_running_loop().create_task(self._run(user, candidate, dict(body)))
        self._tasks.add(task)
        metrics.shadow_in_flight.set(len(self._tasks))
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._deps.metrics.shadow_in_flight.set(len(self._tasks))

    async def _run(self, user: Call, candidate: Route, body: dict[str, Any]) -> None:
        d = self._deps
        call = Call(
            t0=d.clock(),
            wall=d.wall_clock(),
            request_id=shadow_request_id(user.request_id),
            clock=d.clock,
        )
        call.shadow_of = user.request_id
        call.feature = candidate.feature
        call.unit_key, call.unit_key_random = user.unit_key, user.unit_key_random
        call.session_id = user.session_id
        call.trace = user.trace.child() if user.trace is not None else None
        call.routed(candidate)
        try:
            await self._call(call, candidate, body)
        except asyncio.CancelledError:
            d.metrics.shadow_dropped.labels(candidate.feature, "shutdown").inc()
            raise
        except Exception as exc:  # a bug: still one record
            logger.exception("shadow call %s failed", call.request_id)
            call.fail("gateway", f"internal gateway error: {exc}")
        outcome = "error" if call.error_stage is not None else "ok"
        d.metrics.shadow_calls.labels(candidate.feature, candidate.version or "", outcome).inc()
        self._finish(call)

    async def _call(self, call: Call, candidate: Route, body: dict[str, Any]) -> None:
        prompt = None
        if candidate.prompt_name and candidate.prompt_version:
            prompt = self._deps.prompts(candidate.prompt_name, candidate.prompt_version)
            if prompt is None:
                call.status = 500
                call.fail(
                    "route",
                    f"version {candidate.version!r} of feature {candidate.feature!r} names "
                    f"prompt {candidate.prompt_name}@{candidate.prompt_version}, which this "
                    "gateway does not have",
                )
                return
        try:
            rewritten = apply_version(
                body, model=candidate.model, params=candidate.params, prompt=prompt
            )
        except PromptError as exc:
            call.status = 400
            call.fail("request", str(exc))
            return
        rewritten["stream"] = False
        rewritten.pop("stream_options", None)
        call.sending(rewritten)
        await self._handler.plain(call, _discard, candidate, rewritten, NO_FALLBACK)

    async def close(self) -> None:
        """Cancel the shadow calls still running and wait for them to end."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
