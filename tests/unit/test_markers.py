"""Every collected test carries exactly one level marker, the one its folder gives it.

tests/conftest.py applies ``unit`` / ``integration`` / ``e2e`` from the folder; this test
catches a test outside the three folders and a hand-written level marker that contradicts
the folder. It checks the tests collected in the same run, so a whole-suite run checks
the whole suite.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TEST_LEVELS, folder_level


def _levels(item: pytest.Item) -> list[str]:
    return [mark.name for mark in item.iter_markers() if mark.name in TEST_LEVELS]


def test_every_collected_test_has_the_level_of_its_folder(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    assert items  # this test itself at least
    wrong = [
        f"{item.nodeid}: folder gives {folder_level(item.path)!r}, markers {_levels(item)}"
        for item in items
        if folder_level(item.path) is None or _levels(item) != [folder_level(item.path)]
    ]
    assert wrong == []


@pytest.mark.parametrize(
    ("relative", "level"),
    [
        ("unit/providers/test_managed.py", "unit"),
        ("integration/test_x.py", "integration"),
        ("e2e/cli/deep/test_x.py", "e2e"),
        ("support/test_x.py", None),
        ("test_top.py", None),
        ("unit", None),
    ],
)
def test_level_comes_from_the_first_folder_under_tests(relative: str, level: str | None) -> None:
    tests_root = Path(__file__).resolve().parents[1]
    assert folder_level(tests_root / relative) == level


def test_level_of_a_file_outside_tests_is_none(tmp_path: Path) -> None:
    assert folder_level(tmp_path / "unit" / "test_x.py") is None
