"""The ``releasegate`` command. Each module registers its commands on :data:`app`."""

from __future__ import annotations

from releasegate.cli import (  # noqa: F401 - imported for registration
    changed,
    compare,
    deploy,
    eval,
    init,
    judge,
    local,
    validate,
)
from releasegate.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()
