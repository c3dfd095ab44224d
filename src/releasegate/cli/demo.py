"""``releasegate demo``: the eval gate, a canary and the dashboard, end to end, locally."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from releasegate.cli._app import app
from releasegate.cli._common import out_console

__all__ = ["demo_command"]


@app.command("demo")
def demo_command(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            metavar="DIR",
            help="New or empty directory for the demo project and its database "
            "(default: a new temporary directory, kept afterwards).",
        ),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="Evaluate 10 of the 20 golden reviews and use the shorter rollout plan "
            "(still the real model).",
        ),
    ] = False,
    keep_serving: Annotated[
        bool,
        typer.Option(
            "--keep-serving",
            help="After the summary keep the dashboard, gateway, worker and simulated users "
            "running until Ctrl-C.",
        ),
    ] = False,
    dashboard_port: Annotated[
        int,
        typer.Option(
            "--dashboard-port",
            metavar="PORT",
            min=0,
            max=65535,
            help="Dashboard port on 127.0.0.1 (0: a free one).",
        ),
    ] = 0,
    canary_timeout: Annotated[
        float | None,
        typer.Option(
            "--canary-timeout",
            metavar="SECONDS",
            min=10,
            help="Longest wait, in seconds, for the canary to be promoted or rolled back "
            "(default 420; 300 with --quick).",
        ),
    ] = None,
) -> None:
    """Play the whole story on this machine with a real local model.

    Prompt v1 is in production; v2 is blocked by the eval gate, with what regressed;
    v3 passes, is approved and goes through a canary on the gateway, where simulated
    users' requests are scored online by the worker and the canary analysis promotes
    or rolls it back. SQLite, the embedded queue, no API key, no network; needs the
    `local` extra. Takes a few minutes on 2 CPU cores. Exit code 0 when the story ran
    (whatever the canary decided), 3 when a part of it could not run.
    """
    from releasegate.demo import DemoOptions, Narrator, run_demo

    run_demo(
        Narrator(out_console),
        DemoOptions(
            directory=directory,
            quick=quick,
            keep_serving=keep_serving,
            dashboard_port=dashboard_port,
            canary_timeout_s=canary_timeout,
        ),
    )
