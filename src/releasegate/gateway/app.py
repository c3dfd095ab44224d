"""The gateway's ASGI application and its factory.

Endpoints: ``POST /v1/chat/completions`` (JSON or SSE), ``GET /v1/models``,
``POST /v1/embeddings`` (pass-through), ``GET /healthz``, ``GET /readyz`` and
``GET /metrics``. A bare ASGI callable rather than a framework: on the benchmark the
gateway's own cost per request is what is measured, and the streaming rule (no status
line before the upstream's first chunk) needs direct control of ``send``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from releasegate.control.router import Route
from releasegate.deploy.names import GATEWAY_FEATURE
from releasegate.errors import NotFound, PromptError
from releasegate.gateway import _json as fast_json
from releasegate.gateway._budget_gate import TokenBudgets
from releasegate.gateway._call import Call, error_payload, new_request_id, valid_request_id
from releasegate.gateway._chat import ChatHandler, Receive
from releasegate.gateway._deps import Deps, RouterLike, Send
from releasegate.gateway._shape import SESSION_HEADER, apply_version, feature_of, unit_key_of
from releasegate.gateway._timing import ARRIVAL_KEY
from releasegate.gateway._tracecontext import TraceContext, incoming
from releasegate.gateway.breaker import Breakers
from releasegate.gateway.fallback import NO_FALLBACK, FallbackChain
from releasegate.gateway.metrics import CONTENT_TYPE, GatewayMetrics, Series, error_type
from releasegate.gateway.recorder import Recorder
from releasegate.gateway.shadow import ShadowPolicy, Shadows
from releasegate.gateway.tracing import Tracing
from releasegate.gateway.upstream import Upstream, UpstreamError, UpstreamPool
from releasegate.llm import Usage
from releasegate.prompts import Prompt

__all__ = ["Gateway", "create_gateway"]

logger = logging.getLogger("releasegate.gateway")


class _BodyTooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Refusal:
    """A chat request answered with an error before any upstream call (see
    :class:`~releasegate.gateway._chat.Refused`), and the stage its record names."""

    status: int
    message: str
    type: str
    stage: str
    code: str | None = None
    param: str | None = None
    retry_after_s: float | None = None


#: How a request body that is JSON but not an object is named in its error.
_JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    bool: "a boolean",
    type(None): "null",
}

#: A chat request to send: its route, the body rewritten for it, its fallback chain.
_Accepted = tuple[Route, dict[str, Any], FallbackChain]


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


class Gateway:
    """The ASGI app. Build it with :func:`create_gateway`.

    Attributes:
        deps: The dependencies it was built with.
        ready: False until start-up completed and again once shutting down.
        shadows: The shadow calls of candidates in a shadow stage (cancelled at
            shutdown).
        tracing: The span exporter, or None when spans are not exported.
    """

    def __init__(
        self,
        deps: Deps,
        *,
        catalog: Callable[[], Sequence[str]],
        embeddings: Upstream | None,
        shadow: ShadowPolicy | None = None,
        tracing: Tracing | None = None,
        background: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self.deps = deps
        self._background = tuple(background)
        self._tasks: list[asyncio.Task[None]] = []
        self._chat = ChatHandler(deps)
        self.shadows = Shadows(deps, shadow or ShadowPolicy(), self._finish_shadow)
        self.tracing = tracing
        self._catalog = catalog
        self._embeddings = embeddings
        self.ready = False
        self._submitted = 0
        self._series: dict[tuple[str, str, str, str, int, str], Series] = {}
        deps.metrics.on_collect(self._refresh_gauges)

    def _refresh_gauges(self) -> None:
        for name, breaker in self.deps.breakers.items():
            self.deps.metrics.breaker_state.labels(name).set(breaker.state().code)
        self.deps.metrics.records_submitted.set(self._submitted)
        stats = getattr(self.deps.recorder, "stats", None)
        if callable(stats):  # a recorder writing to the store: its counters
            self.deps.metrics.recorder(stats())
            return
        dropped = getattr(self.deps.recorder, "dropped", None)
        if isinstance(dropped, int):
            self.deps.metrics.records_dropped.set(dropped)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            # The hot path goes straight to its handler: every frame between the server's
            # task and the upstream call is crossed again at each await of the request.
            if scope["path"] == "/v1/chat/completions" and scope["method"] == "POST":
                await self._chat_completions(scope, receive, send)
            else:
                await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._tasks = [asyncio.ensure_future(job()) for job in self._background]
                self.ready = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.ready = False
                await self.shadows.close()
                if self.tracing is not None:
                    try:
                        await asyncio.to_thread(self.tracing.shutdown)
                    except Exception:  # spans lost at exit must not fail the shutdown
                        logger.exception("could not flush the gateway's spans")
                for task in self._tasks:
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                await self.deps.pool.close()
                close = getattr(self.deps.recorder, "close", None)
                if callable(close):  # write what is buffered before the process ends
                    await asyncio.to_thread(close)
                if self.deps.budgets is not None:
                    await self.deps.budgets.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/v1/embeddings" and method == "POST":
            await self._embed(scope, receive, send)
        elif path == "/v1/models" and method == "GET":
            data = [
                {"id": m, "object": "model", "owned_by": "releasegate"} for m in self._catalog()
            ]
            await _plain(send, 200, json.dumps({"object": "list", "data": data}).encode())
        elif path == "/healthz":
            await _plain(send, 200, b'{"status":"ok"}')
        elif path == "/readyz":
            ok = self.ready or scope.get("state", {}).get("releasegate.no_lifespan", False)
            await _plain(
                send, 200 if ok else 503, b'{"status":"ready"}' if ok else b'{"status":"not ready"}'
            )
        elif path == "/metrics" and method == "GET":
            await _plain(send, 200, self.deps.metrics.render(), CONTENT_TYPE.encode())
        else:
            await _plain(
                send,
                404,
                error_payload(
                    f"no route {method} {path}", "invalid_request_error", code="not_found"
                ),
            )

    async def _embed(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        try:
            body = await _read_body(receive, self.deps.max_body_bytes)
        except _BodyTooLarge:
            await _plain(
                send, 413, error_payload("request body too large", "invalid_request_error")
            )
            return
        model = None
        try:
            parsed = json.loads(body)
            model = parsed.get("model") if isinstance(parsed, dict) else None
        except ValueError:
            pass
        upstream = (self.deps.upstreams(model) if isinstance(model, str) else None) or (
            self._embeddings
        )
        if upstream is None:
            await _plain(
                send,
                404,
                error_payload(
                    f"no upstream serves embedding model {model!r}",
                    "invalid_request_error",
                    code="model_not_found",
                ),
            )
            return
        try:
            reply = await self.deps.pool.request(upstream, "POST", "/embeddings", body)
        except UpstreamError as exc:
            status = (
                exc.status
                if exc.kind == "status" and exc.status
                else (504 if exc.kind == "timeout" else 502)
            )
            await _plain(send, status, exc.body or error_payload(exc.message, "upstream_error"))
            return
        await _plain(send, reply.status, reply.body, reply.content_type.encode())

    async def _chat_completions(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        d = self.deps
        now = d.clock()
        t0 = scope.get("state", {}).get(ARRIVAL_KEY, now)
        headers = dict(scope["headers"])
        call = Call(
            t0=t0,
            wall=d.wall_clock() - (now - t0),
            request_id=valid_request_id(headers.get(b"x-request-id")) or new_request_id(),
            clock=d.clock,
        )
        session = headers.get(SESSION_HEADER)
        call.session_id = session.decode("utf-8", "replace") if session else None
        if self.tracing is not None:
            call.trace = self.tracing.begin(incoming(headers, scope["headers"]))
        elif b"traceparent" in headers:  # no tracing: a valid caller's context passes on
            caller = incoming(headers, scope["headers"])
            if caller is not None:
                call.trace = TraceContext.passthrough(*caller)
        chat = self._chat
        try:
            try:
                raw = await _read_body(receive, d.max_body_bytes)
            except _BodyTooLarge:
                decided: _Refusal | _Accepted = _Refusal(
                    413,
                    f"request body above {d.max_body_bytes} bytes",
                    "invalid_request_error",
                    stage="request",
                )
            else:
                decided = self._decide(call, headers, raw)
            if isinstance(decided, _Refusal):
                await chat.refuse(call, send, decided, decided.stage)
            elif d.budgets is not None:
                route, body, chain = decided
                await chat.serve(call, send, receive, route, body, chain, headers)
            elif call.stream:
                await chat.stream(call, send, receive, *decided)
            else:
                await chat.plain(call, send, *decided)
        except Exception as exc:  # a bug: still one answer and one record
            logger.exception("gateway error on request %s", call.request_id)
            if call.status == 0:
                await self._chat.error(
                    call,
                    send,
                    500,
                    f"internal gateway error: {exc}",
                    "server_error",
                    stage="gateway",
                )
            else:
                call.fail("gateway", f"internal gateway error: {exc}")
        finally:
            self._finish(call)
            self._shadow(call)

    def _decide(
        self, call: Call, headers: Mapping[bytes, bytes], raw: bytes
    ) -> _Refusal | _Accepted:
        """What to do with a chat request's body: the route, the rewritten body and the
        fallback chain, or the refusal to answer with. Nothing here awaits."""
        d = self.deps
        try:
            body, call.json_exact = fast_json.loads_exact(raw)
        except ValueError as exc:
            where = (
                f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
                if isinstance(exc, json.JSONDecodeError)
                else ""
            )
            return _Refusal(
                400, f"request body is not valid JSON{where}", "invalid_request_error", "request"
            )
        if not isinstance(body, dict):
            kind = _JSON_KINDS.get(type(body), "a number")
            return _Refusal(
                400,
                f"request body must be a JSON object, not {kind}",
                "invalid_request_error",
                "request",
            )
        call.stream = bool(body.get("stream"))
        if not isinstance(body.get("messages"), list):
            return _Refusal(
                400,
                "'messages' must be a list of messages",
                "invalid_request_error",
                "request",
                param="messages",
            )
        feature, source = feature_of(headers, body)
        call.feature = feature
        call.unit_key, call.unit_key_random = unit_key_of(headers, body)
        if feature is None:
            return _Refusal(
                400,
                "name the feature: an X-Releasegate-Feature "
                "header or a 'model' equal to a feature name",
                "invalid_request_error",
                "request",
                param="model",
            )
        try:
            route = d.router.route(feature, call.unit_key)
        except NotFound as exc:
            where = (
                "the X-Releasegate-Feature header"
                if source == "header"
                else "the request's 'model'"
            )
            return _Refusal(
                404,
                f"{exc} (the feature name came from {where})",
                "invalid_request_error",
                "route",
                code="model_not_found",
                param=None if source == "header" else "model",
            )
        except Exception as exc:  # the store cannot be read and this feature has no routing yet
            logger.warning("cannot route feature %r: %s", feature, exc)
            return _Refusal(
                503,
                f"cannot route feature {feature!r} now: the deployment store cannot be read "
                "and this gateway has not routed it since it started; retry shortly",
                "api_error",
                "route",
                code="routing_unavailable",
                retry_after_s=1.0,
            )
        call.routed(route)
        prompt: Prompt | None = None
        if route.prompt_name and route.prompt_version:
            prompt = d.prompts(route.prompt_name, route.prompt_version)
            if prompt is None:
                return _Refusal(
                    500,
                    f"version {route.version!r} of feature "
                    f"{feature!r} names prompt {route.prompt_name}@"
                    f"{route.prompt_version}, which this gateway does not have",
                    "server_error",
                    "route",
                    code="prompt_not_found",
                )
        try:
            rewritten = apply_version(body, model=route.model, params=route.params, prompt=prompt)
        except PromptError as exc:
            return _Refusal(400, str(exc), "invalid_request_error", "request", param="messages")
        call.sending(rewritten)
        call.body = body
        return route, rewritten, d.fallbacks(route)

    def _shadow(self, call: Call) -> None:
        # The user's response is complete: only now may its shadow call start.
        if call.route is None or call.body is None or call.route.shadow is None:
            return
        try:
            candidate = self.shadows.wanted(call.route, call.unit_key or "")
            if candidate is not None:
                self.shadows.start(call, candidate, call.body)
        except Exception:  # a shadow call never affects the user's request
            logger.exception("could not start the shadow call of %s", call.request_id)

    def _finish_shadow(self, call: Call) -> None:
        record = call.record()
        if self.tracing is not None:
            self.tracing.emit(call, record)
        try:
            self.deps.recorder.submit(record)
        except Exception:  # a recorder must never break the gateway
            logger.exception("recorder failed on shadow call %s", call.request_id)

    def _finish(self, call: Call) -> None:
        record = call.record()
        # Label values come only from what the gateway knows (its routes, models and
        # statuses), never from what a caller sent: a request that did not route counts
        # under the reserved feature, however many names callers make up.
        routed = call.route is not None
        feature = (call.feature or "") if routed else GATEWAY_FEATURE
        version = call.assigned_version or ""
        requested = call.route.model if call.route is not None else ""
        model = call.served_model or ""
        key = (
            feature,
            version,
            requested,
            model,
            call.status,
            error_type(call.status, call.error_stage),
        )
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = self.deps.metrics.series(*key)
            if len(self._series) > 10_000:  # bounded, whatever the label values
                self._series.clear()
        series.observe(record, call.fallback_depth)
        self._submitted += 1
        if self.tracing is not None:
            self.tracing.emit(call, record)
        try:
            self.deps.recorder.submit(record)
        except Exception:  # a recorder must never break a response
            logger.exception("recorder failed on request %s", call.request_id)


async def _plain(
    send: Send, status: int, body: bytes, content_type: bytes = b"application/json"
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_gateway(
    *,
    router: RouterLike,
    upstreams: Mapping[str, Upstream] | Callable[[str], Upstream | None],
    prompts: Mapping[tuple[str, str], Prompt] | Callable[[str, str], Prompt | None],
    recorder: Recorder,
    fallbacks: Mapping[str, FallbackChain] | Callable[[Route], FallbackChain] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    wall_clock: Callable[[], float] = time.time,
    breakers: Breakers | None = None,
    pool: UpstreamPool | None = None,
    metrics: GatewayMetrics | None = None,
    cost: Callable[[str, Usage], float | None] | None = None,
    catalog: Callable[[], Sequence[str]] | None = None,
    embeddings: Upstream | None = None,
    stall_timeout_s: float = 30.0,
    max_body_bytes: int = 8 * 1024 * 1024,
    budgets: TokenBudgets | None = None,
    shadow: ShadowPolicy | None = None,
    tracing: Tracing | None = None,
    background: Sequence[Callable[[], Awaitable[None]]] = (),
) -> Gateway:
    """Build the gateway from its dependencies (nothing is read from the environment).

    Args:
        router: Resolves (feature, unit key) to the :class:`Route` that serves it.
        upstreams: Model name -> the upstream that serves it (a mapping or a function
            returning None for an unknown model).
        prompts: (prompt name, version) -> :class:`Prompt`.
        recorder: Receives one record per chat request; must not block.
        fallbacks: Fallback chain per route: a function, or a mapping keyed
            ``"feature@version"``, ``"feature"`` or ``"*"`` (most specific wins).
        clock: Monotonic seconds for durations (the uvicorn arrival stamp uses
            ``time.perf_counter``, the default).
        wall_clock: Unix seconds for the record's ``time``.
        breakers: Circuit breakers per upstream (in-process ones by default).
        pool: The pooled upstream client (a new one by default).
        metrics: Prometheus metrics (a registry of its own by default).
        cost: USD cost of (model, usage), or None when unknown.
        catalog: Names listed by ``/v1/models`` (the upstream models by default).
        embeddings: Upstream for ``/v1/embeddings`` when the request's model names none.
        stall_timeout_s: Longest wait between two chunks of a stream after its first.
        max_body_bytes: Largest request body accepted (413 above).
        budgets: Per-request token caps and per-tenant token budgets (none by default).
        shadow: Sample and bound of shadow calls (every unit, 32 at once by default);
            see :mod:`releasegate.gateway.shadow`.
        tracing: Span export (none by default); see :mod:`releasegate.gateway.tracing`.
        background: Coroutine functions run as tasks while the app is served (from
            lifespan start-up; cancelled at shutdown), e.g. publishing breaker states.
    """
    from releasegate.gateway.fallback import chains_from_mapping

    if isinstance(upstreams, Mapping):
        upstream_map = dict(upstreams)
        upstream_fn: Callable[[str], Upstream | None] = upstream_map.get
        default_catalog: Callable[[], Sequence[str]] = lambda: sorted(upstream_map)  # noqa: E731
    else:
        upstream_fn = upstreams
        default_catalog = list
    if isinstance(prompts, Mapping):
        prompt_map = dict(prompts)
        prompt_fn: Callable[[str, str], Prompt | None] = lambda n, v: prompt_map.get((n, v))  # noqa: E731
    else:
        prompt_fn = prompts
    if fallbacks is None:
        fallback_fn: Callable[[Route], FallbackChain] = lambda _route: NO_FALLBACK  # noqa: E731
    elif isinstance(fallbacks, Mapping):
        fallback_fn = chains_from_mapping(fallbacks)
    else:
        fallback_fn = fallbacks
    deps = Deps(
        router=router,
        upstreams=upstream_fn,
        prompts=prompt_fn,
        recorder=recorder,
        fallbacks=fallback_fn,
        clock=clock,
        wall_clock=wall_clock,
        breakers=breakers or Breakers(),
        pool=pool or UpstreamPool(),
        metrics=metrics or GatewayMetrics(),
        cost=cost,
        stall_timeout_s=stall_timeout_s,
        max_body_bytes=max_body_bytes,
        budgets=budgets,
    )
    return Gateway(
        deps,
        catalog=catalog or default_catalog,
        embeddings=embeddings,
        shadow=shadow,
        tracing=tracing,
        background=background,
    )
