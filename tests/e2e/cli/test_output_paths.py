"""`releasegate eval` / `compare` with report paths that cannot be written: one line naming
the option and the path, exit 2, before any model call; a missing folder is created."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.support.openai_server import FakeOpenAIServer
from tests.support.project import make_project

OPTIONS = ("--output", "--junit", "--markdown", "--html")


async def run_cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "releasegate",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _setup(root: Path) -> str:
    """Paths in ``root`` that no report can be written to; returns a file's name."""
    (root / "existing-folder").mkdir()
    (root / "notes.txt").write_text("a file\n")
    return "notes.txt"


# (path given, what the one-line error says after "OPTION PATH: ")
BAD_PATHS = [
    ("existing-folder", "is a folder"),
    ("existing-folder/", "is a folder"),
    ("not-yet-a-folder/", "is a folder"),
    (".", "is a folder"),
    ("notes.txt/report.json", "notes.txt is a file, not a folder"),
    ("notes.txt/deeper/report.json", "notes.txt is a file, not a folder"),
]


def _assert_one_line(err: str, option: str, path: str, says: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {option} {path}: "), err
    assert says in lines[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize(("path", "says"), BAD_PATHS)
async def test_eval_refuses_an_unwritable_report_path_before_running(
    openai_server: FakeOpenAIServer, tmp_path: Path, option: str, path: str, says: str
) -> None:
    make_project(tmp_path, base_url=openai_server.base_url, n_cases=2)
    _setup(tmp_path)
    code, out, err = await run_cli("eval", "--suite", "pr", option, path, cwd=tmp_path)
    assert code == 2, (out, err)
    _assert_one_line(err, option, path, says)
    assert openai_server.count == 0  # nothing was spent
    assert not (tmp_path / "not-yet-a-folder").exists()
    assert (tmp_path / "notes.txt").read_text() == "a file\n"


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs a read-only /sys (Linux)")
async def test_eval_refuses_a_folder_it_cannot_write_in(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    make_project(tmp_path, base_url=openai_server.base_url, n_cases=2)
    code, _, err = await run_cli("eval", "--suite", "pr", "--junit", "/sys/junit.xml", cwd=tmp_path)
    assert code == 2
    _assert_one_line(err, "--junit", "/sys/junit.xml", "cannot write there")
    assert openai_server.count == 0


@pytest.mark.parametrize(
    ("first", "second", "path"),
    [
        ("--output", "--junit", "out/report"),
        ("--markdown", "--html", "r.txt"),
        ("--output", "--html", "./same.json"),
    ],
)
async def test_eval_refuses_one_file_for_two_reports(
    openai_server: FakeOpenAIServer, tmp_path: Path, first: str, second: str, path: str
) -> None:
    make_project(tmp_path, base_url=openai_server.base_url, n_cases=2)
    other = path.removeprefix("./")
    code, _, err = await run_cli("eval", "-s", "pr", first, path, second, other, cwd=tmp_path)
    assert code == 2
    _assert_one_line(err, second, other, f"the same file as {first}")
    assert openai_server.count == 0


async def test_eval_refuses_an_empty_path(openai_server: FakeOpenAIServer, tmp_path: Path) -> None:
    make_project(tmp_path, base_url=openai_server.base_url, n_cases=2)
    code, _, err = await run_cli("eval", "-s", "pr", "--markdown", "", cwd=tmp_path)
    assert code == 2
    assert err.startswith("error: --markdown: the path is empty"), err
    assert openai_server.count == 0


@pytest.mark.parametrize(
    "paths",
    [
        {"--output": "new/report.json"},
        {"--junit": "a/b/c/junit.xml", "--html": "a/b/report.html"},
        {"--markdown": "deep/er/still/report.md", "--output": "report.json"},
    ],
)
async def test_eval_creates_missing_folders(
    openai_server: FakeOpenAIServer, tmp_path: Path, paths: dict[str, str]
) -> None:
    make_project(tmp_path, base_url=openai_server.base_url, n_cases=2)
    args = [item for pair in paths.items() for item in pair]
    code, _, err = await run_cli("eval", "-s", "pr", *args, cwd=tmp_path)
    assert code == 0, err
    for path in paths.values():
        assert (tmp_path / path).is_file()
        assert (tmp_path / path).stat().st_size > 0


async def test_eval_overwrites_an_existing_report(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    make_project(tmp_path, base_url=openai_server.base_url, n_cases=2)
    (tmp_path / "report.json").write_text("old")
    code, _, err = await run_cli("eval", "-s", "pr", "-o", "report.json", cwd=tmp_path)
    assert code == 0, err
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["n_cases"] == 2


@pytest.mark.parametrize("option", ["--output", "--markdown"])
@pytest.mark.parametrize(("path", "says"), BAD_PATHS)
async def test_compare_refuses_an_unwritable_path(
    openai_server: FakeOpenAIServer, tmp_path: Path, option: str, path: str, says: str
) -> None:
    make_project(tmp_path, base_url=openai_server.base_url, n_cases=2)
    code, _, err = await run_cli("eval", "-s", "pr", "-o", "base.json", cwd=tmp_path)
    assert code == 0, err
    _setup(tmp_path)
    code, _, err = await run_cli("compare", "base.json", "base.json", option, path, cwd=tmp_path)
    assert code == 2
    _assert_one_line(err, option, path, says)
    assert not (tmp_path / "not-yet-a-folder").exists()
