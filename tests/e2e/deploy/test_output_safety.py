"""No user text is read as console markup, and no command ends in a traceback or in
an exit code documented for something else (1 = gate failed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.deploy._cli import invoke as run

pytestmark = pytest.mark.slow

MARKUP = [
    "[/]",
    "[bold]x",
    "[link=https://example.com]y[/link]",
    "[red",
    "\\[",
    "[/bold]z",
    ":thumbs_up:",
]


def _has(text: str, out: str) -> bool:
    """``text`` appears as written (or as its repr inside an error message)."""
    return text in out or repr(text)[1:-1] in out


def _clean(r: object) -> None:
    assert "Traceback" not in r.stderr, r.stderr  # type: ignore[attr-defined]
    assert r.returncode in (0, 2), (r.returncode, r.stderr)  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", MARKUP)
def test_deploy_and_route_print_user_text_as_written(text: str, tmp_path: Path) -> None:
    db = ("--db", f"sqlite:///{tmp_path / 'rg.db'}")
    assert run("db", "upgrade", *db).returncode == 0  # a read never creates the database
    # An unknown feature: the error names it literally (exit 2, never 1).
    r = run("deploy", "status", f"chat{text}", *db)
    assert r.returncode == 2 and _has(f"chat{text}", r.stderr), r.stderr
    _clean(r)
    # A feature name the grammar may accept or refuse: either way printed literally.
    r = run("deploy", "register", f"f{text}", "v1", "--prompt", "p@1", "--model", "m", *db)
    _clean(r)
    assert _has(f"f{text}", r.stdout + r.stderr)
    # Free text: reasons, actors, model names, unit keys.
    steps = [
        ("deploy", "register", "chat", "v1", "--prompt", "p@1", "--model", f"m{text}"),
        ("deploy", "approve", "chat", "v1", "--reason", f"why {text}", "--actor", f"eve{text}"),
        ("deploy", "promote", "chat", "v1", "--actor", f"eve{text}"),
    ]
    for step in steps:
        r = run(*step, *db)
        assert r.returncode == 0, (step, r.stderr)
    history = run("deploy", "history", "chat", *db)
    assert history.returncode == 0 and f"why {text}" in history.stdout
    assert f"eve{text}" in history.stdout
    status = run("deploy", "status", "chat", *db)
    assert f"m{text}" in status.stdout and f"eve{text}" in status.stdout
    routed = run("route", "chat", f"user{text}", *db)
    assert routed.returncode == 0 and f"user{text} -> v1" in routed.stdout
    r = run("token", "revoke", f"t{text}", *db)
    assert r.returncode == 2 and _has(f"t{text}", r.stderr)
    config = tmp_path / f"cfg{text}.yaml"  # a path: "//" reads as "/"
    r = run("validate", "--config", str(config))
    assert r.returncode == 2 and str(config) in r.stderr
    _clean(r)


@pytest.mark.parametrize(
    "args",
    [
        # A database that cannot be reached: a clear error, the password masked.
        ("deploy", "status", "chat", "--db", "postgresql+psycopg://rg:hunter2@127.0.0.1:1/x"),
        ("route", "chat", "u", "--db", "postgresql+psycopg://rg:hunter2@127.0.0.1:1/x"),
    ],
)
def test_failures_never_end_in_a_traceback_or_exit_1(args: tuple[str, ...]) -> None:
    r = run(*args)
    assert "Traceback" not in r.stderr and r.returncode == 2, (r.returncode, r.stderr)
    assert "hunter2" not in r.stderr + r.stdout
    assert r.stderr.startswith("error: --db: cannot open database postgresql+psycopg://rg:***@")
