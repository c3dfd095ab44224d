"""Progress reporting: a rich bar on a terminal, plain lines otherwise (CI logs)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["progress_reporter"]


@contextlib.contextmanager
def progress_reporter(
    console: Console, label: str, *, enabled: bool = True
) -> Iterator[Callable[[int, int], None]]:
    """Yield a ``(done, total)`` callback that draws progress suitably for ``console``."""
    if not enabled:
        yield lambda done, total: None
        return
    if console.is_terminal:
        with Progress(
            TextColumn("{task.description}", style="bold", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(label, total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield update
        return

    last = [0.0, -1]

    def plain(done: int, total: int) -> None:
        # One line per 10% or per 10 seconds, whichever comes first.
        step = max(1, total // 10)
        now = time.monotonic()
        if done == total or done // step != last[1] or now - last[0] > 10:
            last[0], last[1] = now, done // step
            console.print(f"{label}: {done}/{total} cases", highlight=False, markup=False)

    yield plain
