"""Imports every built-in scorer module so that they register themselves."""

from __future__ import annotations

from releasegate.scorers import (  # noqa: F401 - imported for registration
    deterministic,
    judge,
    rag,
    similarity,
)
