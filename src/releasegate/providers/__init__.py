"""Providers: the chat models and applications that releasegate calls.

Build one from config with :func:`build_provider` (an embedder with
:func:`build_embedder`); add your own type with :func:`register_provider` /
:func:`register_embedder` or the ``releasegate.providers`` / ``releasegate.embedders``
entry-point groups.
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
from releasegate.providers.registry import (
    ProviderSpec,
    build_embedder,
    build_provider,
    register_embedder,
    register_provider,
)

__all__ = [
    "ChatProvider",
    "ChatRequest",
    "ChatResponse",
    "EmbeddingProvider",
    "Message",
    "PriceTable",
    "ProviderSpec",
    "Usage",
    "build_embedder",
    "build_provider",
    "register_embedder",
    "register_provider",
]
