"""Providers: the chat models and applications that releasegate calls.

Build one from config with :func:`build_provider`; add your own type with
:func:`register_provider` or the ``releasegate.providers`` entry-point group.
"""

from __future__ import annotations

from releasegate.llm import (
    ChatProvider,
    ChatRequest,
    ChatResponse,
    EmbeddingProvider,
    Message,
    Usage,
)
from releasegate.providers.pricing import PriceTable
from releasegate.providers.registry import ProviderSpec, build_provider, register_provider

__all__ = [
    "ChatProvider",
    "ChatRequest",
    "ChatResponse",
    "EmbeddingProvider",
    "Message",
    "PriceTable",
    "ProviderSpec",
    "Usage",
    "build_provider",
    "register_provider",
]
