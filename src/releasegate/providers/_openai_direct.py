"""The chat-completions call on a bare aiohttp session (``openai`` provider, ``client: direct``).

The default client: it skips the SDK's import and per-call request building (measured at
about 0.5 ms of CPU per call on top of aiohttp in ``benchmarks/provider_clients``) and
speaks only the non-streaming chat-completions protocol. Answers are decoded and errors
mapped by the same functions as on the SDK path; the environment's proxy is honoured.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from releasegate.errors import ProviderError
from releasegate.providers._errors import shorten, status_error

__all__ = ["DirectChatClient", "decode_answer", "error_detail"]


class DirectChatClient:
    """POSTs chat-completion bodies and returns the decoded JSON answer.

    Args:
        name: provider name for messages.
        base_url: API base URL, e.g. ``http://127.0.0.1:8000/v1``.
        api_key: sent as a bearer token.
        timeout_s: total time allowed per call.
        headers: extra headers (organization/project ids, custom ones).
        concurrency: connection pool size.
    """

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        api_key: str,
        timeout_s: float,
        headers: dict[str, str],
        concurrency: int,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._url = self.base_url + "/chat/completions"
        self._timeout_s = timeout_s
        self._headers = {"Authorization": f"Bearer {api_key}", **headers}
        self._concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None
        # The proxy the environment asks for (HTTP(S)_PROXY, NO_PROXY), as the SDK's
        # transport honours it; looked up once here, not on every call as trust_env would.
        self._proxy: Any = None
        self._proxy_auth: aiohttp.BasicAuth | None = None
        with contextlib.suppress(LookupError, ValueError):  # no proxy for this URL
            self._proxy, self._proxy_auth = get_env_proxy_for_url(URL(self._url))

    def _get_session(self) -> aiohttp.ClientSession:
        # Created on first use: an aiohttp session belongs to the running event loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._concurrency),
                timeout=aiohttp.ClientTimeout(total=self._timeout_s),
                headers=self._headers,
            )
        return self._session

    async def post(self, body: dict[str, Any]) -> Any:
        """Send one request; raise :class:`ProviderError` on any failure."""
        session = self._get_session()
        try:
            async with session.post(
                self._url, json=body, proxy=self._proxy, proxy_auth=self._proxy_auth
            ) as resp:
                raw = await resp.read()
                status = resp.status
                # Headers matter only for errors (Retry-After): copy them only then.
                headers = dict(resp.headers) if status >= 400 else None
        except TimeoutError as exc:
            raise ProviderError(
                f"{self.name}: request timed out after {self._timeout_s:g} s", retryable=True
            ) from exc
        except aiohttp.ClientError as exc:
            raise ProviderError(
                f"{self.name}: connection error to {self.base_url}: {exc}", retryable=True
            ) from exc
        if headers is not None:
            raise status_error(status, error_detail(raw), provider=self.name, headers=headers)
        return decode_answer(self.name, raw)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def decode_answer(name: str, raw: bytes) -> Any:
    """The JSON answer in ``raw``; :class:`ProviderError` naming ``name`` if it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ProviderError(
            f"{name}: unreadable response: {shorten(raw.decode('utf-8', 'replace'))}"
        ) from exc


def error_detail(raw: bytes) -> str:
    """What an error answer says: its ``error.message`` if JSON has one, else the body."""
    try:
        data = json.loads(raw)
    except ValueError:
        return shorten(raw.decode("utf-8", "replace"))
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict) and err.get("message"):
            return shorten(str(err["message"]))
    return shorten(str(data))
