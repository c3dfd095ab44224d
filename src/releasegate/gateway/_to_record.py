"""A gateway record in the form the recording service stores (``POST /v1/interactions``).

The gateway's own fields that the interaction record has no column for (whether the
unit key was drawn at random, streaming, the status code, where a failure happened, the
gateway's overhead, for a shadow call the request id of the user's request it
shadowed, ``shadow_of``, and ``usage_estimated`` when the upstream reported no token
usage) go to the record's ``metadata``.

Every request becomes one stored interaction. A request the gateway refused before it
knew its feature (a body that is not JSON, too large, or without a list of messages), or
whose feature is not a valid feature name, is recorded under the reserved pseudo-feature
``_gateway`` (:data:`~releasegate.deploy.names.GATEWAY_FEATURE`), the name it asked for
kept in ``metadata.requested_feature``. A record the store refuses for its content (a
field over a documented limit) is stored in its :func:`minimal` form instead.

The answer's text is the record's ``response`` and its tool calls (for a streamed
answer, assembled from the deltas) its ``tool_calls``, in the OpenAI shape, so online
tool-call checks read them as an eval reads a provider's answer; the function tools the
request offered are its ``tools``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from releasegate.deploy.names import GATEWAY_FEATURE, MAX_FEATURE, NAME_PATTERN
from releasegate.online import limits as L

__all__ = ["GATEWAY_FEATURE", "minimal", "to_interaction"]

_NAME = re.compile(NAME_PATTERN)

_META = (
    "unit_key_random",
    "stream",
    "status",
    "error_stage",
    "overhead_ms",
    "shadow_of",
    "usage_estimated",
)


def _answer(response: Any, meta: dict[str, Any]) -> tuple[str | None, list[Any] | None]:
    # The gateway keeps the assistant message; the record stores its text and, apart,
    # the tool calls it made (as received).
    if response is None or isinstance(response, str):
        return response, None
    if not isinstance(response, Mapping):
        return json.dumps(response, ensure_ascii=False, default=str), None
    if response.get("finish_reason") is not None:
        meta["finish_reason"] = str(response["finish_reason"])
    content = response.get("content")
    calls = response.get("tool_calls")
    tool_calls = list(calls) if isinstance(calls, list | tuple) and calls else None
    return (content if isinstance(content, str) else None), tool_calls


def _feature(record: Mapping[str, Any], meta: dict[str, Any]) -> str:
    feature = record.get("feature")
    if isinstance(feature, str) and len(feature) <= MAX_FEATURE and _NAME.match(feature):
        return feature
    if feature:
        meta["requested_feature"] = str(feature)[: L.MAX_METADATA_VALUE]
    return GATEWAY_FEATURE


def to_interaction(record: Mapping[str, Any]) -> dict[str, Any]:
    """The interaction record (``POST /v1/interactions`` form) of one gateway record."""
    meta = {k: record[k] for k in _META if record.get(k) is not None}
    feature = _feature(record, meta)
    messages = record.get("messages")
    if messages is not None and not (
        isinstance(messages, list) and all(isinstance(m, dict) for m in messages)
    ):
        messages = None  # a malformed request: recorded, without what it sent
        meta["malformed_messages"] = True
    response, tool_calls = _answer(record.get("response"), meta)
    tools = record.get("tools")
    if isinstance(meta.get("overhead_ms"), float):
        meta["overhead_ms"] = round(meta["overhead_ms"], 3)
    out: dict[str, Any] = {
        "feature": feature,
        "request_id": record["request_id"],
        "arm": record.get("arm"),
        "version": record.get("assigned_version"),
        "served_version": record.get("served_version"),
        "model": record.get("served_model"),
        "unit_key": record.get("unit_key"),
        "session_id": record.get("session_id"),
        "prompt": messages,
        "response": response,
        "tool_calls": tool_calls,
        "tools": tools if isinstance(tools, list) and tools else None,
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


def minimal(interaction: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """What is kept of an interaction record the store refused for its content: who
    served it and how it went, without the prompt, response or any free text; ``reason``
    (what was refused, never the value) goes to ``metadata.record_refused``."""
    meta = interaction.get("metadata") or {}
    keep_meta = {k: meta[k] for k in ("stream", "status", "error_stage") if k in meta}
    request_id = str(interaction.get("request_id", ""))
    out: dict[str, Any] = {
        k: interaction[k]
        for k in (
            "feature",
            "arm",
            "version",
            "served_version",
            "latency_ms",
            "ttft_ms",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "fallback_depth",
            "shadow",
            "at",
        )
        if k in interaction
    }
    out["request_id"] = request_id[: L.MAX_REQUEST_ID]
    if interaction.get("error") is not None:
        out["error"] = "(the error text was refused by the store)"
    out["metadata"] = {**keep_meta, "record_refused": reason[: L.MAX_METADATA_VALUE]}
    return out
