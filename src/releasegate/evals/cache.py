"""Persistent response cache (SQLite), shared by targets and judges.

The key covers everything that can change an answer: the provider's identity (type,
base URL), the model, the full rendered messages, every generation parameter, the
response format and the repeat index (so ``--repeat 3`` makes three distinct calls and a
re-run reuses all three). Writes are batched so that a 2,000-case run does not pay one
fsync per call.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from releasegate.providers.base import ChatRequest, ChatResponse, Usage

__all__ = ["ResponseCache", "cache_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    body TEXT NOT NULL
)
"""


def cache_key(identity: dict[str, Any], request: ChatRequest) -> str:
    """A stable hex digest of everything that determines a response."""
    material = {
        "provider": identity,
        "model": request.model,
        "messages": request.messages,
        "params": request.params,
        "response_format": request.response_format,
        "repeat": request.repeat,
        "vars": request.vars,
    }
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """A SQLite-backed map from :func:`cache_key` to a recorded :class:`ChatResponse`.

    Args:
        path: the database file (created with its folder), or ``":memory:"``.
        flush_every: pending writes are committed in batches of this size, and at
            :meth:`close`.
    """

    def __init__(self, path: str | Path, *, flush_every: int = 200) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        import sqlite3  # only when caching: a run with the cache off skips the import

        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._pending: dict[str, tuple[float, str]] = {}  # written at the next flush
        self._flush_every = flush_every

    def get(self, key: str) -> ChatResponse | None:
        """The cached response for ``key``, marked ``cached=True``, or None."""
        pending = self._pending.get(key)
        if pending is not None:
            body = pending[1]
        else:
            row = self._db.execute("SELECT body FROM responses WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            body = row[0]
        data = json.loads(body)
        return ChatResponse(
            text=data["text"],
            usage=Usage(data.get("prompt_tokens", 0), data.get("completion_tokens", 0)),
            model=data.get("model"),
            latency_ms=data.get("latency_ms", 0.0),
            cost_usd=data.get("cost_usd"),
            cached=True,
        )

    def put(self, key: str, response: ChatResponse) -> None:
        body = json.dumps(
            {
                "text": response.text,
                "prompt_tokens": response.usage.prompt_tokens,
                "completion_tokens": response.usage.completion_tokens,
                "model": response.model,
                "latency_ms": response.latency_ms,
                "cost_usd": response.cost_usd,
            }
        )
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
