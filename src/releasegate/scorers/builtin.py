"""Imports every built-in scorer module so that they register themselves."""

from __future__ import annotations

from releasegate.scorers import deterministic  # noqa: F401
