"""Per-version fallback chains and the deterministic last answer.

A chain is tried in order: the version's pinned model (depth 0), then each fallback
model (depth 1, 2, ...), then, when configured, a fixed answer (the last depth) that
needs no upstream. Every model of the chain gets the same rewritten request (the
version's prompt and parameters); only ``model`` changes. Which model and depth
answered is always told to the caller (headers) and to the record.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from releasegate.control.router import Route

__all__ = [
    "DETERMINISTIC_MODEL",
    "FallbackChain",
    "chains_from_mapping",
    "deterministic_completion",
    "deterministic_events",
]

DETERMINISTIC_MODEL = "releasegate-fallback"
"""The served model named when the fixed answer of a chain answered."""


@dataclass(frozen=True, slots=True)
class FallbackChain:
    """What to try after a version's pinned model fails.

    Attributes:
        models: Fallback models, in order.
        answer: Fixed answer text served when every model failed, or None (then the
            caller gets the error).
    """

    models: tuple[str, ...] = ()
    answer: str | None = None


NO_FALLBACK = FallbackChain()


def chains_from_mapping(
    chains: Mapping[str, FallbackChain],
) -> Callable[[Route], FallbackChain]:
    """A chain lookup from ``{"feature@version": chain, "feature": chain, "*": chain}``,
    most specific key first."""

    def lookup(route: Route) -> FallbackChain:
        for key in (f"{route.feature}@{route.version}", route.feature, "*"):
            chain = chains.get(key)
            if chain is not None:
                return chain
        return NO_FALLBACK

    return lookup


def _base(model: str) -> dict[str, Any]:
    return {"id": f"chatcmpl-rg-{uuid.uuid4().hex}", "created": int(time.time()), "model": model}


def deterministic_completion(answer: str, n: int = 1) -> dict[str, Any]:
    """A ``chat.completion`` carrying ``answer`` (``n`` identical choices, no tokens)."""
    return {
        **_base(DETERMINISTIC_MODEL),
        "object": "chat.completion",
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": answer},
                "finish_reason": "stop",
            }
            for i in range(max(1, n))
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def deterministic_events(answer: str, *, include_usage: bool) -> list[bytes]:
    """The SSE events of a streamed ``answer``, ``[DONE]`` included."""
    base = {**_base(DETERMINISTIC_MODEL), "object": "chat.completion.chunk"}
    chunks: list[dict[str, Any]] = [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": answer},
                    "finish_reason": None,
                }
            ],
        },
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    if include_usage:
        chunks.append(
            {
                **base,
                "choices": [],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
        )
    return [b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks] + [b"data: [DONE]\n\n"]
