"""Shared plumbing of the CLI: consoles, error → exit code mapping."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from releasegate.errors import ConfigError, ExitCode, ReleasegateError

__all__ = ["err_console", "handle_errors", "out_console"]

P = ParamSpec("P")
R = TypeVar("R")

out_console = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _print_error(exc: ReleasegateError) -> None:
    if isinstance(exc, ConfigError) and len(exc.issues) > 1:
        err_console.print(f"[bold red]error:[/] {len(exc.issues)} problems found")
        for issue in exc.issues:
            err_console.print(f"  {issue}", markup=False)
    else:
        err_console.print("[bold red]error:[/] ", end="")
        err_console.print(str(exc), markup=False)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn releasegate errors into a message on stderr and their documented exit code,
    never a traceback (set ``RELEASEGATE_DEBUG=1`` to see one)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ReleasegateError as exc:
            if os.environ.get("RELEASEGATE_DEBUG"):
                raise
            _print_error(exc)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/]")
            raise typer.Exit(int(ExitCode.RUN_FAILED)) from None

    return wrapper
