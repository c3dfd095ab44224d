"""How the demo talks: steps, lines, tables, progress bars and a live canary panel.

On a terminal progress is drawn with rich (bars, spinners, a panel that updates in
place); elsewhere (a CI log, a test) the same events are plain lines, one per change.
No text is read as console markup, and control characters in model output are shown
as escapes.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator, Sequence

from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

__all__ = ["Narrator", "Part"]

Part = str | tuple[str, str]
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _printable(text: str) -> str:
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _text(*parts: Part) -> Text:
    line = Text()
    for part in parts:
        if isinstance(part, tuple):
            line.append(_printable(part[0]), style=part[1])
        else:
            line.append(_printable(part))
    return line


class Narrator:
    """Writes the story to ``console``."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal

    def step(self, number: int, title: str) -> None:
        self.console.print()
        self.console.rule(_text((f"{number}. {title}", "bold cyan")), align="left")

    def say(self, *parts: Part) -> None:
        self.console.print(_text(*parts), soft_wrap=True)

    def note(self, text: str) -> None:
        """A secondary line (dim, indented)."""
        self.console.print(_text(("   " + text, "dim")), soft_wrap=True)

    def ok(self, text: str) -> None:
        self.say(("✓ ", "bold green"), text)

    def bad(self, text: str) -> None:
        self.say(("✗ ", "bold red"), text)

    def table(
        self, columns: Sequence[str], rows: Sequence[Sequence[str]], *, title: str = ""
    ) -> None:
        table = Table(title=_text((title, "bold")) if title else None, title_justify="left")
        for name in columns:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*(_text(cell) for cell in row))
        self.console.print(table)

    @contextlib.contextmanager
    def progress(self, label: str) -> Iterator[Callable[[int, int], None]]:
        """A ``(done, total)`` callback drawing a bar (a terminal) or a line per quarter."""
        if self.live:
            with Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            ) as bar:
                task = bar.add_task(label, total=None)
                yield lambda done, total: bar.update(task, completed=done, total=total)
            return
        last = [-1]

        def plain(done: int, total: int) -> None:
            quarter = done * 4 // max(total, 1)
            if quarter != last[0]:
                last[0] = quarter
                self.note(f"{label}: {done}/{total}")

        yield plain

    @contextlib.contextmanager
    def waiting(self, label: str) -> Iterator[None]:
        """A spinner while a slow step runs; the time it took afterwards."""
        start = time.monotonic()
        if self.live:
            with self.console.status(_text(label)):
                yield
        else:
            self.note(label + " ...")
            yield
        self.note(f"{label}: done in {time.monotonic() - start:.1f} s")

    @contextlib.contextmanager
    def panel(self) -> Iterator[Callable[[RenderableType, str, Sequence[str]], None]]:
        """A region updated in place. Yields ``show(renderable, key, lines)``: on a
        terminal the renderable replaces the previous one; elsewhere ``lines`` are
        printed when ``key`` differs from the last one shown."""
        if self.live:
            with Live(console=self.console, refresh_per_second=4, transient=False) as live:
                yield lambda renderable, _key, _lines: live.update(renderable)
            return
        last = [""]

        def show(_renderable: RenderableType, key: str, lines: Sequence[str]) -> None:
            if key != last[0]:
                last[0] = key
                for line in lines:
                    self.note(line)

        yield show
