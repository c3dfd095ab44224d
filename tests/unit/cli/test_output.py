"""What the CLI prints: user text as written, control characters as escapes."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from rich.console import Console

from releasegate.cli._common import plain, print_table, styled
from releasegate.cli.deploy import _history_rows
from releasegate.deploy.model import AuditEntry

MARKUP = ["[/]", "[bold]x", "[link=https://example.com]y[/link]", "[red", "\\[", ":smile:"]


def _render(renderable: object) -> str:
    buf = io.StringIO()
    Console(file=buf, width=200, markup=False, emoji=False, color_system=None).print(renderable)
    return buf.getvalue()


@pytest.mark.parametrize("text", MARKUP)
def test_plain_and_styled_never_parse_markup(text: str) -> None:
    assert _render(plain(text)).rstrip("\n") == text
    assert _render(styled(("error: ", "bold red"), text)).rstrip("\n") == f"error: {text}"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("mallory\x1b[2J", "mallory\\x1b[2J"),
        ("a\rb", "a\\x0db"),
        ("bidi\u202eevil", "bidi\\u202eevil"),
        ("[bold]x", "[bold]x"),
    ],
)
def test_history_shows_control_characters_as_escapes(stored: str, shown: str) -> None:
    entry = AuditEntry(
        feature="chat",
        version="v1",
        action="register",
        actor=stored,
        reason=stored,
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    buf = io.StringIO()
    console = Console(file=buf, width=200, markup=False, emoji=False, color_system=None)
    print_table(console, ("at", "actor", "action", "v", "move", "why"), _history_rows([entry]))
    out = buf.getvalue()
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    assert out.count(shown) == 2


@pytest.mark.parametrize(
    ("reason", "evidence", "expected"),
    [
        ("", {}, ""),
        ("weekly rollout", {}, "weekly rollout"),
        (
            "",
            {"readiness_override": {"reason": "hotfix", "missing": ["a", "b"]}},
            "override (2 missing): hotfix",
        ),
        ("ship it", {"override_reason": "known flake"}, "ship it; override: known flake"),
    ],
)
def test_history_shows_override_reasons(
    reason: str, evidence: dict[str, Any], expected: str
) -> None:
    entry = AuditEntry(feature="f", action="canary", actor="a", reason=reason, evidence=evidence)
    assert _history_rows([entry])[0][5] == expected
