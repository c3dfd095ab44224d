"""Persistent response cache (SQLite), shared by targets and judges.

A key covers everything that can change an answer, built in one place (:class:`CacheKeyer`):

* the provider's static identity (:meth:`ChatProvider.cache_identity`: type, endpoint,
  model, default parameters, headers, templates, credentials as digests ...), digested
  once per provider;
* the request: model, the full rendered messages, every generation parameter, the
  response format, the tools offered and the tool choice, and the repeat index (so
  ``--repeat 3`` makes three distinct calls and a re-run reuses all three), plus the
  case id and template variables for providers whose answer depends on them
  (:attr:`ChatProvider.cache_request_fields`).

Keys are SHA-256 digests of canonical JSON, the same in every process. Only the digest
and the answer are stored, never the identity (so no credential, even digested). Writes
are batched so that a 2,000-case run does not pay one fsync per call.

A cache file that is not a SQLite database is a :class:`~releasegate.errors.UsageError`
naming the file; an entry that cannot be read is a miss (the answer is fetched again and
the entry rewritten).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath
from typing import Any

from releasegate.errors import UsageError
from releasegate.llm import ChatProvider, ChatRequest, ChatResponse, Usage

__all__ = ["CacheKeyer", "ResponseCache", "cache_key", "canonical_json"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    body TEXT NOT NULL
)
"""

# Bumped when the key material changes shape, so old entries are never misread.
_KEY_VERSION = "releasegate-cache-key/2"

_ALL_FIELDS = frozenset({"case_id", "vars"})


def _default(obj: Any) -> Any:
    """JSON form of the non-JSON values a config or a dataset can hold."""
    if isinstance(obj, datetime.date | datetime.time):
        return obj.isoformat()
    if isinstance(obj, set | frozenset):
        return sorted(obj, key=canonical_json)
    if isinstance(obj, bytes):
        return obj.hex()
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, PurePath):
        return obj.as_posix()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    dump = getattr(obj, "model_dump", None)  # pydantic models
    if callable(dump):
        return dump(mode="json")
    return str(obj)


def canonical_json(data: Any) -> str:
    """Compact JSON with sorted keys: equal data, equal text, in every process."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


class CacheKeyer:
    """Response-cache keys for one provider.

    The provider's identity is digested once, here; :meth:`key` then hashes only the
    request, so a call pays for its own messages and nothing else.

    Args:
        identity: the provider's :meth:`~ChatProvider.cache_identity`.
        request_fields: which of ``case_id`` and ``vars`` its answer depends on (default:
            both).
    """

    __slots__ = ("_case", "_vars", "identity_digest")

    def __init__(
        self, identity: Mapping[str, Any], request_fields: Iterable[str] = _ALL_FIELDS
    ) -> None:
        fields = frozenset(request_fields)
        self._case = "case_id" in fields
        self._vars = "vars" in fields
        #: SHA-256 (hex) of the version tag and the canonical identity
        self.identity_digest = hashlib.sha256(
            canonical_json([_KEY_VERSION, dict(identity), sorted(fields)]).encode("utf-8")
        ).hexdigest()

    @classmethod
    def for_provider(cls, provider: ChatProvider) -> CacheKeyer:
        """The keyer of ``provider`` (its identity and the request fields it reads)."""
        return cls(provider.cache_identity(), provider.cache_request_fields)

    def key(self, request: ChatRequest) -> str:
        """The hex SHA-256 key of ``request`` sent to this provider."""
        material = [
            self.identity_digest,
            request.model,
            request.messages,
            request.params,
            request.response_format,
            request.repeat,
            request.case_id if self._case else None,
            request.vars if self._vars else None,
        ]
        if request.tools is not None or request.tool_choice is not None:
            # Only requests that offer tools carry them, so keys of tool-less requests
            # (every cache written before tools existed) stay the same.
            material.append({"tools": request.tools, "tool_choice": request.tool_choice})
        return hashlib.sha256(canonical_json(material).encode("utf-8")).hexdigest()


def cache_key(
    identity: Mapping[str, Any],
    request: ChatRequest,
    request_fields: Iterable[str] = _ALL_FIELDS,
) -> str:
    """The key of one request (builds a :class:`CacheKeyer`; hold one for many calls)."""
    return CacheKeyer(identity, request_fields).key(request)


def _response(body: Any) -> ChatResponse | None:
    """The response stored as ``body``, or None when it is not a readable entry."""
    try:
        data = json.loads(body)
        return ChatResponse(
            text=_str(data["text"]),
            usage=Usage(_int(data.get("prompt_tokens", 0)), _int(data.get("completion_tokens", 0))),
            model=None if data.get("model") is None else _str(data["model"]),
            latency_ms=float(data.get("latency_ms", 0.0)),
            cost_usd=None if data.get("cost_usd") is None else float(data["cost_usd"]),
            cached=True,
            tool_calls=_list(data.get("tool_calls", [])),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _list(value: Any) -> tuple[Any, ...]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return tuple(value)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not an integer")
    return value


class ResponseCache:
    """A SQLite-backed map from a :class:`CacheKeyer` key to a recorded :class:`ChatResponse`.

    Args:
        path: the database file (created with its folder), or ``":memory:"``.
        flush_every: pending writes are committed in batches of this size, and at
            :meth:`close`.

    Raises:
        UsageError: ``path`` cannot be opened as a SQLite database (a corrupt or foreign
            file, a folder); the message names the file and how to start afresh.
    """

    def __init__(self, path: str | Path, *, flush_every: int = 200) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        import sqlite3  # only when caching: a run with the cache off skips the import

        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(_SCHEMA)
            except sqlite3.Error:
                self._db.close()
                raise
        except sqlite3.Error as exc:
            raise UsageError(
                f"response cache {self.path}: cannot be opened as a SQLite database ({exc}); "
                "delete the file to start an empty cache, or run without the cache"
            ) from None
        self._pending: dict[str, tuple[float, str]] = {}  # written at the next flush
        self._flush_every = flush_every

    def get(self, key: str) -> ChatResponse | None:
        """The cached response for ``key``, marked ``cached=True``; None on a miss or
        for an entry that cannot be read."""
        pending = self._pending.get(key)
        if pending is not None:
            body = pending[1]
        else:
            row = self._db.execute("SELECT body FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            body = row[0]
        return _response(body)

    def put(self, key: str, response: ChatResponse) -> None:
        entry: dict[str, Any] = {
            "text": response.text,
            "prompt_tokens": response.usage.prompt_tokens,
            "completion_tokens": response.usage.completion_tokens,
            "model": response.model,
            "latency_ms": response.latency_ms,
            "cost_usd": response.cost_usd,
        }
        if response.tool_calls:
            entry["tool_calls"] = list(response.tool_calls)
        body = json.dumps(entry, default=_default)
        self._pending[key] = (time.time(), body)
        if len(self._pending) >= self._flush_every:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        self._db.execute("BEGIN")
        self._db.executemany(
            "INSERT OR REPLACE INTO responses (key, created_at, body) VALUES (?, ?, ?)",
            [(k, ts, body) for k, (ts, body) in self._pending.items()],
        )
        self._db.execute("COMMIT")
        self._pending.clear()

    def clear(self) -> int:
        """Delete every entry; returns how many there were."""
        self.flush()
        n: int = self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        self._db.execute("DELETE FROM responses")
        return n

    def __len__(self) -> int:
        self.flush()
        n: int = self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        return n

    def close(self) -> None:
        self.flush()
        self._db.close()
