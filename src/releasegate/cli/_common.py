"""Shared plumbing of the CLI: consoles, user text, secrets, error → exit code mapping.

Two rules hold for every command:

* **No text is ever read as console markup.** Both consoles are built with
  ``markup=False`` and ``emoji=False``, so a feature name ``chat[/]``, a model output
  ``[bold]x`` or a reason ``:smile:`` prints exactly as written. Styling goes through
  :func:`styled` / :class:`rich.text.Text`, never through ``[style]...[/]`` strings.
* **No traceback, no misleading exit code.** Every command runs under
  :func:`handle_errors`: releasegate errors print ``error: <message>`` and exit with
  their documented code (2 usage, 3 run failed); anything unexpected prints
  ``internal error: ...`` and exits 4, with API tokens and database passwords masked
  (``RELEASEGATE_DEBUG=1`` shows the traceback).

Tables never cut a cell: :func:`print_table` prints a table as is when it fits the
terminal, wraps cells at spaces when that is enough, and otherwise prints one block of
``column: value`` lines per row (see ``docs/deployments.md``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import click
import typer
from rich.cells import cell_len
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from releasegate import settings as _settings
from releasegate.errors import ConfigError, ExitCode, ReleasegateError

__all__ = [
    "DEBUG_ENV",
    "err_console",
    "handle_errors",
    "out_console",
    "plain",
    "print_table",
    "redact",
    "styled",
]

P = ParamSpec("P")
R = TypeVar("R")

DEBUG_ENV = "RELEASEGATE_DEBUG"
# Exceptions that carry a decision (an exit code, a usage error): never "internal".
_DECIDED = (
    typer.Exit,
    typer.Abort,
    typer.TyperException,
    click.exceptions.Exit,
    click.ClickException,
    click.Abort,
)
_TOKEN_ENV = "RELEASEGATE_API_TOKEN"  # same name as releasegate.api.client.TOKEN_ENV

out_console = Console(highlight=False, soft_wrap=False, markup=False, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

# Control characters (tab and newline kept), DEL, C1, lone surrogates, bidi overrides.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# A releasegate API token ("rg_" + 43 URL-safe characters); the first 6 characters after
# the prefix are public (``token list`` shows them).
_TOKEN_RE = re.compile(r"(rg_[A-Za-z0-9_-]{6})[A-Za-z0-9_-]{14,}")
_BEARER_RE = re.compile(r"(Bearer\s+)[^\s'\"]+", re.IGNORECASE)
_URL_PASSWORD_RE = re.compile(r"(\w[\w+.-]*://[^/\s:@]*):[^@\s/]*@")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def plain(text: str, style: str = "") -> Text:
    """User- or model-supplied ``text`` for a console: never markup, control characters
    shown as ``\\xNN`` escapes (an ESC sequence cannot rewrite the terminal)."""
    return Text(_UNPRINTABLE.sub(_escape_char, text), style=style)


def styled(*parts: str | tuple[str, str] | Text) -> Text:
    """Assemble a line from plain strings, ``(text, style)`` pairs and :class:`Text`;
    strings are made printable by :func:`plain` and never parsed as markup."""
    line = Text()
    for part in parts:
        if isinstance(part, Text):
            line.append_text(part)
        elif isinstance(part, tuple):
            line.append_text(plain(part[0], part[1]))
        else:
            line.append_text(plain(part))
    return line


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def _share_out(extra: int, need: list[int]) -> list[int]:
    """Split ``extra`` cells among columns wanting ``need`` more each, fairly."""
    given = [0] * len(need)
    while extra > 0:
        wanting = [i for i, n in enumerate(need) if given[i] < n]
        if not wanting:
            break
        step = max(1, extra // len(wanting))
        for i in wanting:
            add = min(step, need[i] - given[i], extra)
            given[i] += add
            extra -= add
    return given


def print_table(
    console: Console,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    **table_options: Any,
) -> None:
    """Print ``rows`` under ``columns`` without ever cutting a cell short.

    The table is printed as is when it fits ``console.width``; else its cells wrap at
    spaces (a name, version or model, which has none, stays whole on one line); and
    when even the longest words do not fit side by side, each row is printed as a
    block of ``column: value`` lines instead. Every cell is user text (:func:`plain`).

    Args:
        console: where to print (its width is the terminal's, or ``$COLUMNS``).
        columns: the header of each column.
        rows: the cells, one sequence per row, as many as ``columns``.
        title: printed above the table (or the blocks).
        **table_options: passed to :class:`rich.table.Table` (``box``, ...).
    """
    table = Table(**table_options)
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(plain(cell) for cell in row))
    texts = [[name, *(row[i] for row in rows)] for i, name in enumerate(columns)]
    most = [max(cell_len(t) for t in col) for col in texts]
    least = [max(_longest_word(t) for t in col) for col in texts]
    wide = console.options.update_width(10**6)
    natural = Measurement.get(console, wide, table).maximum
    frame = natural - sum(most)  # borders and padding
    if title:  # on its own line: a table title would be cut to the table's width
        console.print(plain(title), soft_wrap=True)
    if natural <= console.width:
        console.print(table)
    elif sum(least) + frame <= console.width:
        need = [m - n for m, n in zip(most, least, strict=True)]
        given = _share_out(console.width - frame - sum(least), need)
        for column, low, more in zip(table.columns, least, given, strict=True):
            column.width = low + more
        console.print(table)
    else:
        _print_blocks(console, columns, rows)


def _print_blocks(console: Console, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """The narrow layout: a blank line, then one ``column: value`` line per cell, per row."""
    pad = max(cell_len(name) for name in columns)
    for row in rows:
        console.print()
        for name, cell in zip(columns, row, strict=True):
            label = name + ":" + " " * (pad - cell_len(name))
            line = styled((label, "bold"), " ", cell) if cell else plain(label.rstrip(), "bold")
            console.print(line, soft_wrap=True)


def redact(text: str) -> str:
    """``text`` with secrets masked: the API token of this process (however it was
    padded), anything shaped like a releasegate token, bearer credentials, and the
    password of a URL (``postgresql://u:***@host``)."""
    secret = (_settings.current().api_token or "").strip()
    if len(secret) >= 4:
        text = text.replace(secret, _mask(secret))
        text = text.replace(repr(secret)[1:-1], _mask(secret))
    text = _TOKEN_RE.sub(r"\1***", text)
    text = _BEARER_RE.sub(r"\1***", text)
    return _URL_PASSWORD_RE.sub(r"\1:***@", text)


def _mask(secret: str) -> str:
    return secret[:9] + "***" if secret.startswith("rg_") else "***"


def _print_error(exc: ReleasegateError) -> None:
    label = ("error: ", "bold red")
    if isinstance(exc, ConfigError) and len(exc.issues) > 1:
        err_console.print(styled(label, f"{len(exc.issues)} problems found"))
        for issue in exc.issues:
            err_console.print(plain(f"  {redact(str(issue))}"))
    else:
        err_console.print(styled(label, redact(str(exc))))


def _print_internal(exc: BaseException) -> None:
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    err_console.print(
        styled(
            ("internal error: ", "bold red"),
            redact(what),
            (f" (a bug in releasegate; set {DEBUG_ENV}=1 to see the traceback)", "dim"),
        )
    )


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command: releasegate errors become a message on stderr and their
    documented exit code; any other exception becomes ``internal error: ...`` and exit
    code 4, never a traceback (set ``RELEASEGATE_DEBUG=1`` to see one)."""
    if getattr(fn, "_releasegate_guarded", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except _DECIDED:
            raise  # typer.Exit and usage errors: the command already decided
        except ReleasegateError as exc:
            if _settings.current().debug:
                raise
            _print_error(exc)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            err_console.print(plain("interrupted", "yellow"))
            raise typer.Exit(int(ExitCode.RUN_FAILED)) from None
        except Exception as exc:
            if _settings.current().debug:
                raise
            _print_internal(exc)
            raise typer.Exit(int(ExitCode.INTERNAL_ERROR)) from None

    wrapper._releasegate_guarded = True  # type: ignore[attr-defined]
    return wrapper


def guard_all(typer_app: Any) -> None:
    """Wrap every registered command of ``typer_app`` (and of its sub-apps) in
    :func:`handle_errors`, so no command can end in a traceback."""
    for info in typer_app.registered_commands:
        if info.callback is not None:
            info.callback = handle_errors(info.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            guard_all(group.typer_instance)
