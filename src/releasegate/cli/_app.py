"""The root typer application; command modules register themselves on it."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    name="releasegate",
    help=(
        "Make changes to LLM applications safe to ship: "
        "eval gate in CI, scored canary in production.\n\n"
        "Exit codes of every command: 0 success (gate passed), 1 gate failed, "
        "2 bad usage, config, data or an unreachable API/database, 3 the run failed, "
        "4 internal error (a bug; RELEASEGATE_DEBUG=1 shows the traceback)."
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
