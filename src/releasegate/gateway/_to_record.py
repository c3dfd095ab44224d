"""A gateway record in the form the recording service stores (``POST /v1/interactions``).

The gateway's own fields that the interaction record has no column for (whether the
unit key was drawn at random, streaming, the status code, where a failure happened, the
gateway's overhead, and for a shadow call the request id of the user's request it
shadowed, ``shadow_of``) go to the record's ``metadata``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = ["to_interaction"]

_META = ("unit_key_random", "stream", "status", "error_stage", "overhead_ms", "shadow_of")


def _answer(response: Any, meta: dict[str, Any]) -> str | None:
    # The gateway keeps the assistant message; the record stores its text, or the tool
    # calls it made as JSON when it has no text.
    if response is None or isinstance(response, str):
        return response
    if not isinstance(response, Mapping):
        return json.dumps(response, ensure_ascii=False, default=str)
    if response.get("finish_reason") is not None:
        meta["finish_reason"] = str(response["finish_reason"])
    content = response.get("content")
    if isinstance(content, str) and content:
        return content
    if response.get("tool_calls"):
        return json.dumps({"tool_calls": response["tool_calls"]}, ensure_ascii=False, default=str)
    return content if isinstance(content, str) else None


def to_interaction(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The interaction record of one gateway record; None for a request that named no
    feature (nothing to record it under: the gateway's metrics count it)."""
    if not record.get("feature"):
        return None
    meta = {k: record[k] for k in _META if record.get(k) is not None}
    messages = record.get("messages")
    if messages is not None and not (
        isinstance(messages, list) and all(isinstance(m, dict) for m in messages)
    ):
        messages = None  # a malformed request: recorded, without what it sent
        meta["malformed_messages"] = True
    if isinstance(meta.get("overhead_ms"), float):
        meta["overhead_ms"] = round(meta["overhead_ms"], 3)
    out: dict[str, Any] = {
        "feature": record["feature"],
        "request_id": record["request_id"],
        "arm": record.get("arm"),
        "version": record.get("assigned_version"),
        "served_version": record.get("served_version"),
        "model": record.get("served_model"),
        "unit_key": record.get("unit_key"),
        "session_id": record.get("session_id"),
        "prompt": messages,
        "response": _answer(record.get("response"), meta),
        "latency_ms": record.get("latency_ms"),
        "ttft_ms": record.get("ttft_ms"),
        "prompt_tokens": record.get("prompt_tokens") or 0,
        "completion_tokens": record.get("completion_tokens") or 0,
        "cost_usd": record.get("cost_usd") or 0.0,
        "error": record.get("error"),
        "fallback_depth": record.get("fallback_depth") or 0,
        "shadow": bool(record.get("shadow")),
        "metadata": meta,
    }
    if record.get("time") is not None:
        out["at"] = datetime.fromtimestamp(float(record["time"]), UTC).isoformat()
    return {k: v for k, v in out.items() if v is not None}
