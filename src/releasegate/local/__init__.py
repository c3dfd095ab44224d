"""Local models with no network: SmolLM2-135M-Instruct through llama.cpp and
all-MiniLM-L6-v2 through sentence-transformers, behind an OpenAI-compatible server.

Everything here needs the ``local`` extra; imports of llama.cpp and torch are lazy and fail
with an install hint.
"""

from __future__ import annotations

from releasegate.local.assets import CHAT_MODEL_ID, EMBEDDING_MODEL_ID, INSTALL_HINT
from releasegate.local.process import LocalServerProcess

__all__ = ["CHAT_MODEL_ID", "EMBEDDING_MODEL_ID", "INSTALL_HINT", "LocalServerProcess"]
