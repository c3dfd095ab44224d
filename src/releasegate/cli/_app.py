"""The root typer application; command modules register themselves on it."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    name="releasegate",
    help=(
        "Make changes to LLM applications safe to ship: "
        "eval gate in CI, scored canary in production."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Make changes to LLM applications safe to ship.

    A callback keeps ``releasegate`` a command group even when only one command module
    has been imported (start-up imports just the module of the command being run).
    """
