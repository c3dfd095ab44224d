"""`pytest --releasegate-suite S`: each case becomes a test item, plus the gate."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

QUICKSTART = Path(__file__).resolve().parents[3] / "examples" / "quickstart"


def run_pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rf", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, dest, ignore=shutil.ignore_patterns("out", ".releasegate"))
    return dest


def test_passing_suite_runs_each_case_as_a_test(project: Path) -> None:
    res = run_pytest(project, "--releasegate-suite", "pr")
    assert res.returncode == 0, res.stdout + res.stderr
    # 22 cases + the gate item
    assert "23 passed" in res.stdout


def test_failing_suite_reports_case_reasons(project: Path) -> None:
    res = run_pytest(project, "--releasegate-suite", "pr-candidate")
    assert res.returncode == 1, res.stdout + res.stderr
    out = res.stdout
    assert "t01" in out and "missing: 'A-1001'" in out
    assert "gate" in out and "min_score" in out
    assert " passed" in out and " failed" in out
