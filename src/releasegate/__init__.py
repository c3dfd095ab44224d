"""releasegate: make changes to LLM applications safe to ship."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
