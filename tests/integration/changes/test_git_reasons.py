"""Every git failure behind ``changed``/``--base`` is reported with git's real reason."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from releasegate.errors import UsageError
from releasegate.evals.changes import prompts_at_ref, resolve_ref
from releasegate.project import load_project
from tests.integration.changes.test_changes import _git, repo

__all__ = ["repo"]

CLI = [sys.executable, "-c", "from releasegate.cli import main; main()"]


@pytest.fixture(autouse=True)
def _no_parent_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never let git find a repository above the test's directory.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))


@pytest.fixture
def outside(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same project copied to a directory that is not in any git repository."""
    dest = tmp_path_factory.mktemp("plain") / "proj"
    shutil.copytree(repo, dest)
    return dest


@pytest.mark.parametrize("ref", ["main", "HEAD~1", "v1.0", "0123abc"])
def test_outside_a_repository_says_not_a_git_repository(outside: Path, ref: str) -> None:
    with pytest.raises(UsageError) as info:
        prompts_at_ref(load_project(outside), ref)
    message = str(info.value)
    assert "not inside a git repository" in message and "not found" not in message


@pytest.mark.parametrize("ref", ["no-such-branch", "v9.9.9", "HEAD~5", "deadbeef"])
def test_an_unknown_ref_in_a_full_clone_says_not_found(repo: Path, ref: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve_ref(repo, ref)
    message = str(info.value)
    assert f"git ref {ref!r} not found" in message and "shallow" not in message


@pytest.mark.parametrize("ref", ["HEAD~1", "no-such-branch"])
def test_a_shallow_clone_says_it_is_shallow(repo: Path, tmp_path: Path, ref: str) -> None:
    clone = tmp_path / "shallow"
    _git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo.parent}", str(clone))
    with pytest.raises(UsageError, match="shallow clone"):
        resolve_ref(clone / "proj", ref)
    assert resolve_ref(clone / "proj", "HEAD")


def test_git_missing_says_so(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(UsageError, match="git is not installed"):
        resolve_ref(repo, "main")


def test_changed_outside_a_repository_from_the_command_line(outside: Path) -> None:
    proc = subprocess.run(
        [*CLI, "changed", "--base", "main"],
        cwd=outside,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "not inside a git repository" in proc.stderr
    assert "not found" not in proc.stderr and "Traceback" not in proc.stderr
