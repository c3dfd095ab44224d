"""Calling OpenAI-compatible upstreams over pooled keep-alive connections (aiohttp).

One :class:`UpstreamPool` (one ``aiohttp.ClientSession``) serves every upstream of a
gateway process; connections are kept alive and reused. Every failure is an
:class:`UpstreamError` whose ``kind`` says what went wrong and whether another model of
the fallback chain should be tried.

aiohttp rather than httpx: measured as the upstream client of a bare pass-through proxy
on this project's benchmark machine, httpx's async pool reached a small fraction of
aiohttp's throughput at 50 connections (see ``benchmarks/gateway_overhead``).
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from yarl import URL

from releasegate._version import __version__

_USER_AGENT = f"releasegate-gateway/{__version__}"

__all__ = ["Upstream", "UpstreamError", "UpstreamPool", "UpstreamReply", "parse_retry_after"]

ErrorKind = Literal["connect", "timeout", "status", "protocol", "unavailable"]


@dataclass(frozen=True, slots=True)
class Upstream:
    """One OpenAI-compatible endpoint.

    Attributes:
        name: Name used in metrics, breakers and records (the provider's name).
        base_url: Base URL including ``/v1`` (``http://host:port/v1``).
        api_key: Bearer token sent upstream, or None (the caller's is never forwarded).
        headers: Extra headers sent on every call.
        connect_timeout_s: Time allowed to open a connection.
        read_timeout_s: Time allowed between bytes of the answer (for a stream, until
            its first chunk; later chunks use the gateway's stall timeout).
        stream_usage: Ask for the token usage of every stream
            (``stream_options.include_usage``) even when the caller did not; False for
            an upstream that rejects the field.
    """

    name: str
    base_url: str
    api_key: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    stream_usage: bool = True


class UpstreamError(Exception):
    """A call to an upstream that did not produce an answer.

    Attributes:
        kind: ``connect`` (no connection), ``timeout`` (no answer in time), ``status``
            (an HTTP error status), ``protocol`` (an answer that is not what the
            protocol says) or ``unavailable`` (the breaker or a Retry-After kept the
            call from going out).
        status: The upstream's HTTP status for ``status`` errors.
        body: The upstream's error body (bytes) for ``status`` errors.
        retry_after: Seconds the upstream asked to wait, if it said.
        upstream: The upstream's name.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        upstream: str,
        status: int | None = None,
        body: bytes | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.upstream = upstream
        self.status = status
        self.body = body
        self.retry_after = retry_after

    @property
    def fail_over(self) -> bool:
        """Whether the next model of a fallback chain should be tried: every failure of
        the upstream (connection, timeout, 408/409/429/5xx, a malformed answer), never
        a rejection of the request itself (other 4xx)."""
        if self.kind != "status":
            return True
        return self.status is not None and (self.status >= 500 or self.status in (408, 409, 429))

    @property
    def counts_against_upstream(self) -> bool:
        """Whether the breaker should count this as the upstream's failure."""
        return self.kind != "unavailable" and self.fail_over


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(slots=True)
class UpstreamReply:
    """A complete (non-streaming) answer: status 2xx, its body and content type."""

    status: int
    body: bytes
    content_type: str


class _Prepared:
    """What every call to one upstream shares, built once: its headers, timeouts and
    the parsed URLs of the paths called so far."""

    __slots__ = ("headers", "stream_timeout", "timeout", "upstream", "urls")

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream  # kept alive: the cache is keyed by its id
        # our own User-Agent: aiohttp then adds none (and skips its per-request check)
        headers = {"Content-Type": "application/json", "User-Agent": _USER_AGENT}
        for name, value in upstream.headers.items():
            _set(headers, name, value)
        if upstream.api_key:
            _set(headers, "Authorization", f"Bearer {upstream.api_key}")
        self.headers = headers
        self.timeout = aiohttp.ClientTimeout(
            sock_connect=upstream.connect_timeout_s, sock_read=upstream.read_timeout_s
        )
        self.stream_timeout = aiohttp.ClientTimeout(
            sock_connect=upstream.connect_timeout_s, sock_read=None
        )
        self.urls: dict[str, URL] = {}

    def url(self, path: str) -> URL:
        url = self.urls.get(path)
        if url is None:
            url = self.urls[path] = URL(self.upstream.base_url + path)
        return url


def _set(headers: dict[str, str], name: str, value: str) -> None:
    """Set a header, replacing one of the same name in any case (never sent twice)."""
    for key in [k for k in headers if k.lower() == name.lower()]:
        del headers[key]
    headers[name] = value


_PREPARED_MAX = 4096  # upstream objects remembered at most (a process has a few)


class UpstreamPool:
    """One pooled HTTP client for every upstream of the process.

    Args:
        limit_per_host: Connections kept per upstream host at most (0: no limit).
    """

    def __init__(self, *, limit_per_host: int = 0) -> None:
        self._limit_per_host = limit_per_host
        self._session: aiohttp.ClientSession | None = None
        self._prepared: dict[int, _Prepared] = {}

    def _prepare(self, upstream: Upstream) -> _Prepared:
        prepared = self._prepared.get(id(upstream))
        if prepared is None or prepared.upstream is not upstream:
            if len(self._prepared) >= _PREPARED_MAX:
                self._prepared.clear()
            prepared = self._prepared[id(upstream)] = _Prepared(upstream)
        return prepared

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=0, limit_per_host=self._limit_per_host, keepalive_timeout=60
            )
            # No cookie jar: one session serves every caller, so a cookie an upstream
            # set (a sticky load-balancer's, a session) would go out with other callers'
            # requests. It also spares each request the jar's lookups.
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def close(self) -> None:
        """Close every pooled connection."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        upstream: Upstream,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> UpstreamReply:
        """One complete call; the answer's body is read in full. ``headers`` are sent
        besides the upstream's own (trace context).

        Raises:
            UpstreamError: no connection, a timeout, or a non-2xx status.
        """
        prepared = self._prepare(upstream)
        try:
            async with self._client().request(
                method,
                prepared.url(path),
                data=body,
                headers={**prepared.headers, **headers} if headers else prepared.headers,
                timeout=prepared.timeout,
            ) as resp:
                payload = await resp.read()
                if resp.status >= 300:
                    raise _status_error(upstream, resp, payload)
                return UpstreamReply(
                    resp.status, payload, resp.headers.get("Content-Type", "application/json")
                )
        except UpstreamError:
            raise
        except Exception as exc:
            raise _transport_error(upstream, exc) from exc

    async def open_stream(
        self, upstream: Upstream, body: bytes, headers: Mapping[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        """Send a streaming chat request and return once the status is in (``headers``:
        sent besides the upstream's own).

        The caller reads the body (``resp.content``) and must release the response.

        Raises:
            UpstreamError: no connection, a timeout, or a non-2xx status.
        """
        prepared = self._prepare(upstream)
        try:
            resp = await asyncio.wait_for(
                self._client().post(
                    prepared.url("/chat/completions"),
                    data=body,
                    headers={**prepared.headers, **headers} if headers else prepared.headers,
                    timeout=prepared.stream_timeout,
                ),
                timeout=upstream.connect_timeout_s + upstream.read_timeout_s,
            )
        except Exception as exc:
            raise _transport_error(upstream, exc) from exc
        if resp.status >= 300:
            try:
                payload = await asyncio.wait_for(resp.read(), upstream.read_timeout_s)
            except Exception:
                payload = b""
            resp.release()
            raise _status_error(upstream, resp, payload)
        return resp


def _status_error(upstream: Upstream, resp: aiohttp.ClientResponse, body: bytes) -> UpstreamError:
    headers = {k.lower(): v for k, v in resp.headers.items()}
    return UpstreamError(
        "status",
        f"upstream {upstream.name!r} answered HTTP {resp.status}",
        upstream=upstream.name,
        status=resp.status,
        body=body,
        retry_after=parse_retry_after(headers),
    )


def _transport_error(upstream: Upstream, exc: BaseException) -> UpstreamError:
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerDisconnectedError):
        return UpstreamError(
            "connect", f"cannot reach upstream {upstream.name!r}: {exc}", upstream=upstream.name
        )
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return UpstreamError(
            "timeout", f"upstream {upstream.name!r} did not answer in time", upstream=upstream.name
        )
    return UpstreamError(
        "connect",
        f"upstream {upstream.name!r} failed: {type(exc).__name__}: {exc}",
        upstream=upstream.name,
    )


def error_body(exc: UpstreamError) -> dict[str, Any] | None:
    """The upstream's OpenAI-shaped error object, when its body held one."""
    import json

    if not exc.body:
        return None
    try:
        data = json.loads(exc.body)
    except ValueError:
        return None
    error = data.get("error") if isinstance(data, dict) else None
    return dict(error) if isinstance(error, dict) else None
