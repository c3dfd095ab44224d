"""The root typer application; command modules register themselves on it."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    name="releasegate",
    help="Make changes to LLM applications safe to ship: eval gate in CI, scored canary in production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
