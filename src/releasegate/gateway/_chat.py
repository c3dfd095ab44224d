"""``POST /v1/chat/completions``: route, rewrite, call through the fallback chain.

Non-streaming and streaming requests share one rule: a model of the chain either gives
an answer (a complete body, or a stream's first content chunk) or it failed and the
next model is tried. Only after that point does the caller see a status line, so a
failure before it fails over like a plain request. A stream that breaks after it ends
with an SSE ``error`` event and no ``[DONE]``.

Every upstream call carries the request's W3C trace context (``call.trace``: the
caller's headers passed on, or a span id of the gateway's own per attempt). Streams ask
the upstream for their usage (``stream_options.include_usage``) unless the upstream is
configured not to (``Upstream.stream_usage``); the usage chunk is then kept from a
caller that did not ask for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol

import aiohttp

from releasegate.control.router import Route
from releasegate.gateway import _json as fast_json
from releasegate.gateway._budget_gate import Refusal
from releasegate.gateway._call import Call, error_payload
from releasegate.gateway._deps import Deps, Send
from releasegate.gateway._sse import Event, StreamBroken, StreamTally, decode, read_event
from releasegate.gateway.fallback import (
    DETERMINISTIC_MODEL,
    FallbackChain,
    deterministic_completion,
    deterministic_events,
)
from releasegate.gateway.upstream import Upstream, UpstreamError, error_body
from releasegate.llm import Usage

__all__ = ["ChatHandler"]

_JSON = b"application/json"
_SSE = b"text/event-stream"
Receive = Callable[[], Awaitable[dict[str, Any]]]


class Refused(Protocol):
    """A request turned away, as the HTTP error to answer with (the budgets'
    :class:`~releasegate.gateway._budget_gate.Refusal`, the request checks' own)."""

    @property
    def status(self) -> int: ...
    @property
    def message(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def code(self) -> str | None: ...
    @property
    def param(self) -> str | None: ...
    @property
    def retry_after_s(self) -> float | None: ...


class ChatHandler:
    """Serves chat completions with the gateway's dependencies."""

    def __init__(self, deps: Deps) -> None:
        self.d = deps

    # -- shared ------------------------------------------------------------------------

    async def respond(
        self, call: Call, send: Send, status: int, body: bytes, extra: list[Any] | None = None
    ) -> None:
        call.status = status
        headers = call.headers(_JSON)
        headers.append((b"content-length", str(len(body)).encode()))
        if extra:
            headers.extend(extra)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def error(
        self,
        call: Call,
        send: Send,
        status: int,
        message: str,
        type_: str,
        *,
        stage: str,
        code: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        call.fail(stage, message)
        extra = [(b"retry-after", str(max(1, round(retry_after))).encode())] if retry_after else []
        await self.respond(
            call, send, status, error_payload(message, type_, code=code, param=param), extra
        )

    async def refuse(self, call: Call, send: Send, refusal: Refused, stage: str) -> None:
        """Answer a request turned away before any upstream call with its error."""
        await self.error(
            call,
            send,
            refusal.status,
            refusal.message,
            refusal.type,
            stage=stage,
            code=refusal.code,
            param=refusal.param,
            retry_after=refusal.retry_after_s,
        )

    def _upstream(self, model: str) -> Upstream | None:
        return self.d.upstreams(model)

    def _usage(self, call: Call, usage: Any) -> None:
        p = usage.get("prompt_tokens") if isinstance(usage, dict) else None
        c = usage.get("completion_tokens") if isinstance(usage, dict) else None
        if isinstance(p, int) and isinstance(c, int):
            call.prompt_tokens, call.completion_tokens = p, c
            if self.d.cost is not None and call.served_model is not None:
                call.cost_usd = self.d.cost(call.served_model, Usage(p, c))
        elif call.served_model not in (None, DETERMINISTIC_MODEL):
            call.usage_estimated = True  # a model answered without usage: it is estimated

    async def _gate(self, model: str, errors: list[UpstreamError]) -> Upstream | None:
        upstream = self._upstream(model)
        if upstream is None:
            errors.append(
                UpstreamError("unavailable", f"no upstream serves model {model!r}", upstream="-")
            )
            return None
        admission = await self.d.breakers[upstream.name].admit()
        if not admission.allowed:
            wait = admission.retry_after_s
            errors.append(
                UpstreamError(
                    "unavailable",
                    f"upstream {upstream.name!r} is not taking calls "
                    f"(circuit {admission.state.value}, retry in {wait:.1f} s)",
                    upstream=upstream.name,
                    retry_after=wait,
                )
            )
            return None
        return upstream

    def _failed(self, upstream: Upstream, exc: UpstreamError) -> None:
        breaker = self.d.breakers[upstream.name]
        if exc.counts_against_upstream:
            breaker.failure()
        if exc.retry_after:
            breaker.hold(exc.retry_after)

    def _served(self, call: Call, route: Route, model: str, depth: int) -> None:
        call.served_version = route.version
        call.served_model = model
        call.fallback_depth = depth

    async def exhausted(self, call: Call, send: Send, errors: list[UpstreamError]) -> None:
        """Every model failed and there is no fixed answer: the fitting error."""
        detail = "; ".join(e.message for e in errors) or "no model to call"
        message = f"no model of version {call.assigned_version!r} answered: {detail}"
        real = [e for e in errors if e.kind != "unavailable"]
        last = real[-1] if real else None
        waits = [e.retry_after for e in errors if e.retry_after]
        retry = min(waits) if waits else None
        if last is None:
            await self.error(
                call,
                send,
                503,
                message,
                "service_unavailable",
                stage="upstream",
                code="upstream_unavailable",
                retry_after=retry,
            )
        elif last.kind == "timeout":
            await self.error(
                call, send, 504, message, "timeout", stage="upstream", code="upstream_timeout"
            )
        elif last.kind == "status" and last.status == 429:
            await self.error(
                call,
                send,
                429,
                message,
                "rate_limit_error",
                stage="upstream",
                code="rate_limit_exceeded",
                retry_after=retry,
            )
        else:
            await self.error(
                call, send, 502, message, "upstream_error", stage="upstream", code="bad_gateway"
            )

    async def rejected(self, call: Call, send: Send, exc: UpstreamError) -> None:
        """The upstream rejected the request itself (4xx): pass its error on."""
        body = error_body(exc)
        message = (body or {}).get("message") or exc.message
        call.fail("upstream", f"upstream {exc.upstream!r} rejected the request: {message}")
        payload = (
            json.dumps({"error": body}).encode()
            if body
            else error_payload(message, "invalid_request_error")
        )
        await self.respond(call, send, exc.status or 400, payload)

    async def serve(
        self,
        call: Call,
        send: Send,
        receive: Receive,
        route: Route,
        body: dict[str, Any],
        chain: FallbackChain,
        headers: Mapping[bytes, bytes],
    ) -> None:
        """Admit by the token budgets (when set), answer, then settle the reservation."""
        budgets = self.d.budgets
        ticket = None
        if budgets is not None:
            admitted = await budgets.admit(call, headers, body, self.d.metrics)
            if isinstance(admitted, Refusal):
                await self.refuse(call, send, admitted, "budget")
                return
            ticket, body = admitted, admitted.body
        try:
            if call.stream:
                await self.stream(call, send, receive, route, body, chain)
            else:
                await self.plain(call, send, route, body, chain)
        finally:
            if budgets is not None and ticket is not None:
                await budgets.settle(ticket, call, self.d.metrics)

    # -- non-streaming -----------------------------------------------------------------

    async def plain(
        self, call: Call, send: Send, route: Route, body: dict[str, Any], chain: FallbackChain
    ) -> None:
        errors: list[UpstreamError] = []
        for depth, model in enumerate((route.model, *chain.models)):
            upstream = await self._gate(model, errors)
            if upstream is None:
                continue
            data = fast_json.dumps(
                body if depth == 0 else {**body, "model": model}, exact=call.json_exact
            )
            start = call.clock()
            trace = call.trace
            extra = trace.outgoing(model, upstream.name, depth, start) if trace else None
            try:
                reply = await self.d.pool.request(
                    upstream, "POST", "/chat/completions", data, extra
                )
                answer = fast_json.loads(reply.body)
                if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
                    raise UpstreamError(
                        "protocol",
                        f"upstream {upstream.name!r} answered no chat completion",
                        upstream=upstream.name,
                    )
            except ValueError:
                exc: UpstreamError = UpstreamError(
                    "protocol",
                    f"upstream {upstream.name!r} answered invalid JSON",
                    upstream=upstream.name,
                )
                call.upstream_wait += call.clock() - start
                _ended(call, 200, exc)
                self._failed(upstream, exc)
                errors.append(exc)
                continue
            except UpstreamError as exc2:
                call.upstream_wait += call.clock() - start
                _ended(call, exc2.status, exc2)
                self._failed(upstream, exc2)
                if not exc2.fail_over:
                    self._served(call, route, model, depth)
                    await self.rejected(call, send, exc2)
                    return
                errors.append(exc2)
                continue
            call.upstream_wait += call.clock() - start
            _ended(call, reply.status, None)
            self.d.breakers[upstream.name].success()
            self._served(call, route, model, depth)
            choice = answer["choices"][0] if answer["choices"] else {}
            call.response = choice.get("message") if isinstance(choice, dict) else None
            if isinstance(call.response, dict) and isinstance(choice, dict):
                call.response = {**call.response, "finish_reason": choice.get("finish_reason")}
            self._usage(call, answer.get("usage"))
            await self.respond(call, send, 200, reply.body)
            return
        if chain.answer is not None:
            self._served(call, route, DETERMINISTIC_MODEL, len(chain.models) + 1)
            call.fail("upstream", "; ".join(e.message for e in errors))
            call.error_stage = None  # answered: the failures are kept as context only
            n = body.get("n")
            answer = deterministic_completion(chain.answer, n if isinstance(n, int) else 1)
            call.response = answer["choices"][0]["message"]
            await self.respond(call, send, 200, json.dumps(answer).encode())
            return
        await self.exhausted(call, send, errors)

    # -- streaming ---------------------------------------------------------------------

    async def stream(
        self,
        call: Call,
        send: Send,
        receive: Receive,
        route: Route,
        body: dict[str, Any],
        chain: FallbackChain,
    ) -> None:
        errors: list[UpstreamError] = []
        options = body.get("stream_options")
        asked = isinstance(options, dict) and bool(options.get("include_usage"))
        for depth, model in enumerate((route.model, *chain.models)):
            upstream = await self._gate(model, errors)
            if upstream is None:
                continue
            payload = body if depth == 0 else {**body, "model": model}
            # The gateway asks for the usage itself (budgets, metrics and records use
            # the real one) and keeps the usage chunk from a caller that did not ask.
            strip = not asked and upstream.stream_usage
            if strip:
                extra_options = options if isinstance(options, dict) else {}
                payload = {**payload, "stream_options": {**extra_options, "include_usage": True}}
            data = fast_json.dumps(payload, exact=call.json_exact)
            start = call.clock()
            trace = call.trace
            extra = trace.outgoing(model, upstream.name, depth, start) if trace else None
            tally = StreamTally()
            head: list[bytes] = []
            done = False
            try:
                resp = await self.d.pool.open_stream(upstream, data, extra)
            except UpstreamError as exc:
                call.upstream_wait += call.clock() - start
                _ended(call, exc.status, exc)
                self._failed(upstream, exc)
                if not exc.fail_over:
                    self._served(call, route, model, depth)
                    await self.rejected(call, send, exc)
                    return
                errors.append(exc)
                continue
            try:
                while True:  # until the first content chunk: failures still fail over
                    event = await read_event(resp.content, upstream.read_timeout_s)
                    if event is None:
                        raise StreamBroken("cut", "stream closed before its first chunk")
                    if event.done:
                        done = True
                        break
                    chunk = decode(event)
                    substantive = tally.add(chunk)
                    frame = _frame(event, chunk, strip)
                    if frame is not None:
                        head.append(frame)
                    if substantive:
                        break
            except StreamBroken as broken:
                resp.close()
                call.upstream_wait += call.clock() - start
                _ended(call, resp.status, f"stream_{broken.reason}")
                kind: Literal["timeout", "protocol"] = (
                    "timeout" if broken.reason == "stall" else "protocol"
                )
                failure = UpstreamError(
                    kind, f"upstream {upstream.name!r}: {broken.message}", upstream=upstream.name
                )
                self._failed(upstream, failure)
                errors.append(failure)
                continue
            call.upstream_wait += call.clock() - start
            call.first_chunk_at = call.clock()
            self._served(call, route, model, depth)
            await self._relay(call, send, receive, upstream, resp, tally, head, done, strip)
            return
        if chain.answer is not None:
            self._served(call, route, DETERMINISTIC_MODEL, len(chain.models) + 1)
            call.error = "; ".join(e.message for e in errors)
            call.status = 200
            call.first_chunk_at = call.clock()
            call.response = {"content": chain.answer, "tool_calls": None, "finish_reason": "stop"}
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*call.headers(_SSE), (b"cache-control", b"no-cache")],
                }
            )
            for frame in deterministic_events(chain.answer, include_usage=asked):
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.exhausted(call, send, errors)

    async def _relay(
        self,
        call: Call,
        send: Send,
        receive: Receive,
        upstream: Upstream,
        resp: aiohttp.ClientResponse,
        tally: StreamTally,
        head: list[bytes],
        done: bool,
        strip: bool,
    ) -> None:
        call.status = 200
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*call.headers(_SSE), (b"cache-control", b"no-cache")],
            }
        )
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            # Stop now rather than at the upstream's next chunk: the read under way ends,
            # the upstream stops generating, and the request settles its budget at once.
            resp.close()

        watcher = asyncio.create_task(watch())
        breaker = self.d.breakers[upstream.name]
        failed: str | None = None
        try:
            if head:
                await send(
                    {"type": "http.response.body", "body": b"".join(head), "more_body": True}
                )
            while not done:
                start = call.clock()
                frame: bytes | None = None
                try:
                    event = await read_event(resp.content, self.d.stall_timeout_s)
                    if event is None:
                        raise StreamBroken("cut", "upstream closed the stream before [DONE]")
                    if not event.done:
                        chunk = decode(event)
                        tally.add(chunk)
                        frame = _frame(event, chunk, strip)
                finally:
                    call.upstream_wait += call.clock() - start
                if gone.is_set():
                    call.fail("client", "the client disconnected during the stream")
                    break
                if event.done:
                    done = True
                    break
                if frame is not None:
                    await send({"type": "http.response.body", "body": frame, "more_body": True})
            if done:
                breaker.success()
                await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
        except StreamBroken as broken:
            if gone.is_set():  # the caller left and the gateway closed the upstream
                call.fail("client", "the client disconnected during the stream")
                return
            failed = f"stream_{broken.reason}"
            breaker.failure()
            where = f"after {tally.chunks} chunk(s)"
            call.fail("stream", f"{broken.reason}: {broken.message} ({where})")
            self.d.metrics.stream_failures.labels(
                call.feature or "", call.assigned_version or "", broken.reason
            ).inc()
            payload = {
                "error": {
                    "message": f"stream from upstream {upstream.name!r} failed "
                    f"{where}: {broken.message}",
                    "type": "upstream_error",
                    "param": None,
                    "code": f"stream_{broken.reason}",
                }
            }
            await send(
                {
                    "type": "http.response.body",
                    "body": b"event: error\ndata: " + json.dumps(payload).encode() + b"\n\n",
                }
            )
        finally:
            resp.close()
            _ended(call, resp.status, failed)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await watcher
            call.response = tally.response()
            self._usage(call, tally.usage)


def _frame(event: Event, chunk: Any, strip: bool) -> bytes | None:
    """The SSE frame relaying ``event`` (its decoded ``chunk``). With ``strip`` (the
    gateway asked for the usage, the caller did not) the caller gets the stream it would
    have got: no usage chunk (``choices: []`` with ``usage``; None: nothing to send),
    and no ``usage`` key on the other chunks."""
    if strip and isinstance(chunk, dict) and "usage" in chunk:
        if chunk.get("choices") == [] and isinstance(chunk["usage"], dict):
            return None
        rest = {k: v for k, v in chunk.items() if k != "usage"}
        return (
            b"data: "
            + json.dumps(rest, ensure_ascii=False, separators=(",", ":")).encode()
            + b"\n\n"
        )
    return b"data: " + event.data.encode() + b"\n\n"


def _ended(call: Call, status: int | None, failure: UpstreamError | str | None) -> None:
    """Close the trace attempt of the upstream call that just ended (when traced)."""
    trace = call.trace
    if trace is None or not trace.traced:
        return
    if isinstance(failure, UpstreamError):
        failure = str(failure.status) if failure.kind == "status" else failure.kind
    trace.ended(call.clock(), status=status, error=failure)
