"""The root typer application; command modules register themselves on it."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

__all__ = ["app", "plain_help"]


def _value_name(param: Any) -> str:
    metavar = getattr(param, "metavar", None)
    return metavar if isinstance(metavar, str) and metavar else (param.name or "value").upper()


def _no_type(*_args: Any, **_kwargs: Any) -> None:
    return None


def plain_help(command: Any) -> None:
    """Name values in help the way users read them, never by their Python type.

    Recent typer versions show ``<str>``, ``<bool>`` and ``<path>`` next to every
    parameter and ``{feature}`` in usage lines. This walks a built command tree and
    makes every argument read ``FEATURE`` (``[DIRECTORY]`` when optional), every option
    that takes a value ``--db DB``, and every flag just ``--json``. Versions of typer
    without those hooks are left as they are.
    """
    for param in getattr(command, "params", []):
        _plain_param(param)
    make_help = getattr(command, "get_help_option", None)
    if make_help is not None:

        def help_option(ctx: Any, make_help: Any = make_help) -> Any:
            option = make_help(ctx)
            if option is not None:
                _plain_param(option)
            return option

        command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)


def _plain_param(param: Any) -> None:
    if not hasattr(param, "display_type_rich"):
        return
    name = _value_name(param)
    if param.param_type_name == "argument":
        param.metavar = name
        param.display_type = param.display_type_rich = _no_type
        shown = name if param.required else f"[{name}]"
        if param.nargs != 1:
            shown += "..."
        param._usage_display_name = lambda shown=shown: shown
    elif getattr(param, "is_flag", False) or getattr(param, "count", False):
        param.display_type = param.display_type_rich = _no_type
    else:
        param.display_type = param.display_type_rich = lambda *_a, name=name, **_k: name


class _PlainHelpGroup(TyperGroup):
    """The root group: typer builds every subcommand before it, so its constructor sees
    the whole tree and applies :func:`plain_help` once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plain_help(self)


app = typer.Typer(
    name="releasegate",
    cls=_PlainHelpGroup,
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


def _print_version(value: bool) -> None:
    if value:
        from releasegate._version import __version__

        typer.echo(f"releasegate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Make changes to LLM applications safe to ship.

    A callback keeps ``releasegate`` a command group even when only one command module
    has been imported (start-up imports just the module of the command being run).
    """
