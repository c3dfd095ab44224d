from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from releasegate.providers.embeddings import LocalEmbedder
from releasegate.providers.local import LocalProvider


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    # Loaded once per module: torch and the weights take seconds.
    return LocalEmbedder()


@pytest.fixture
async def local_judge() -> AsyncIterator[LocalProvider]:
    # The tests check what the judge paths do with real answers, not how fast they come:
    # a generous timeout keeps a loaded machine from turning every answer into a timeout.
    provider = LocalProvider(params={"max_tokens": 96}, timeout_s=900.0)
    try:
        yield provider
    finally:
        await provider.aclose()
