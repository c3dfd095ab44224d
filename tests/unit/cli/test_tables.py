"""Tables of the CLI never lose cell text, at any width; shares parse by one rule."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from releasegate.cli._common import print_table
from releasegate.cli._control import parse_share
from releasegate.errors import UsageError

WIDTHS = [40, 60, 80, 100, 200]


def render(columns: tuple[str, ...], rows: list[list[str]], width: int, title: str = "") -> str:
    sink = io.StringIO()
    console = Console(file=sink, width=width, markup=False, emoji=False, highlight=False)
    print_table(console, columns, rows, title=title or None)
    return sink.getvalue()


def assert_nothing_lost(out: str, rows: list[list[str]]) -> None:
    assert "…" not in out
    for row in rows:
        for cell in row:
            if " " in cell:
                for word in cell.split():
                    assert word in out
            else:
                assert cell in out, (cell, out)


LONG = [
    [
        "2026.11.30-release-candidate-7",
        "rolled_back",
        "12.5%",
        "support-answer-prompt@1.3.0",
        "gpt-4o-mini-2024-07-18-finetuned",
        "2026-11-30 13:51:24",
        "release-manager-with-a-long-name@example.com",
    ],
    ["v2", "paused (from canary)", "5%", "p@1", "m", "2026-11-30 13:51:24", "ann"],
]
COLUMNS = ("version", "status", "share", "prompt", "model", "updated (UTC)", "by")


@pytest.mark.parametrize("width", WIDTHS)
def test_long_status_rows_stay_whole(width: int) -> None:
    out = render(COLUMNS, LONG, width, title="support-answer-assistant-with-a-long-name")
    assert_nothing_lost(out, LONG)
    assert "support-answer-assistant-with-a-long-name" in out


@pytest.mark.parametrize("width", WIDTHS)
def test_short_rows_stay_a_table(width: int) -> None:
    rows = [["v1", "active", "100%"], ["v2", "canary", "5%"]]
    out = render(("version", "status", "share"), rows, width)
    assert "version" in out.splitlines()[1]  # the header line of a boxed table
    assert_nothing_lost(out, rows)


def test_a_long_reason_wraps_at_spaces_and_keeps_the_table() -> None:
    reason = "canary looks healthy after two hours of production traffic on every region"
    rows = [["v1", "approve", reason]]
    out = render(("version", "action", "reason"), rows, 60)
    assert "┃ version" in out  # still a table
    assert max(len(line) for line in out.splitlines()) <= 60
    assert_nothing_lost(out, rows)


def test_the_narrow_layout_is_one_line_per_cell() -> None:
    out = render(COLUMNS, LONG[:1], 60)
    lines = out.splitlines()
    assert "model:         gpt-4o-mini-2024-07-18-finetuned" in lines
    assert "by:            release-manager-with-a-long-name@example.com" in lines


word = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=50
)
cell = st.one_of(word, st.lists(word, min_size=1, max_size=8).map(" ".join), st.just(""))


@settings(max_examples=60, deadline=None)
@given(
    n_cols=st.integers(1, 7),
    data=st.data(),
    width=st.sampled_from(WIDTHS),
)
def test_no_cell_text_is_ever_lost(n_cols: int, data: st.DataObject, width: int) -> None:
    columns = tuple(f"col{i}" for i in range(n_cols))
    rows = data.draw(st.lists(st.lists(cell, min_size=n_cols, max_size=n_cols), max_size=4))
    out = render(columns, rows, width)
    for row in rows:
        for text in row:
            for part in text.split():
                assert part in out, (part, width, out)
    if not any("…" in text for row in rows for text in row):
        assert "…" not in out


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("10%", 0.10),
        ("100%", 1.0),
        ("0.5%", 0.005),
        ("0.01%", 0.0001),
        (" 5 % ", 0.05),
        (".25%", 0.0025),
        ("12.5%", 0.125),
        ("0%", 0.0),
    ],
)
def test_a_share_is_a_percentage_with_its_sign(text: str, share: float) -> None:
    assert parse_share(text) == pytest.approx(share)


@pytest.mark.parametrize(
    "text",
    [
        "10",
        "50",
        "1.5",
        "0.1",
        "0.005",
        "1",
        "0",
        "150%",
        "100.1%",
        "-0.1",
        "-5%",
        "ten",
        "",
        "%",
        "nan",
        "inf",
        "1e-2",
        "0x1",
        "10%%",
        "5 percent",
        "1_0%",
    ],
)
def test_anything_else_is_refused_echoing_the_value(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_share(text)
    message = str(info.value)
    assert repr(text) in message
    assert "10%" in message and "0.5%" in message  # the accepted form


@pytest.mark.parametrize("text", ["5", "10", "50", "100", "0.5", "1"])
def test_a_bare_percentage_gets_a_hint(text: str) -> None:
    with pytest.raises(UsageError, match=rf"for {text} percent write {text}%"):
        parse_share(text)
