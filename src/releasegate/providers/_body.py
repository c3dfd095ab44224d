"""What every SDK-backed chat provider does first: pick the model, merge parameters."""

from __future__ import annotations

from typing import Any

from releasegate.errors import ProviderError
from releasegate.llm import ChatRequest

__all__ = ["model_and_params"]


def model_and_params(
    provider: str, configured_model: str | None, defaults: dict[str, Any], request: ChatRequest
) -> tuple[str, dict[str, Any]]:
    """The model to call (the request's, else the provider's) and the provider's default
    parameters overlaid with the request's, without any ``stream`` flag: providers read
    whole answers, and a stream flag from params would break parsing."""
    model = request.model or configured_model
    if not model:
        raise ProviderError(
            f"{provider}: no model to call: set `model` on the provider or the prompt"
        )
    body: dict[str, Any] = {**defaults, **request.params}
    body.pop("stream", None)
    body.pop("stream_options", None)
    return model, body
