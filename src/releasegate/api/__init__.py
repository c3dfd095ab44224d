"""The control-plane REST API (FastAPI) with scoped API tokens, and its Python client."""

from __future__ import annotations

from releasegate.api.app import create_app
from releasegate.api.auth import ACTOR_HEADER, Caller, require
from releasegate.api.client import TOKEN_ENV, ApiClient

__all__ = ["ACTOR_HEADER", "TOKEN_ENV", "ApiClient", "Caller", "create_app", "require"]
