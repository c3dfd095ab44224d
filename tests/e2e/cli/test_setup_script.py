"""scripts/setup checks its prerequisites before installing anything, and says why it
stops in one line; the README keeps its two commands at the top."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

FAKE_PYTHON = """#!/bin/sh
# A stand-in interpreter of version {version}: answers the setup script's two questions.
case "$*" in
  *version_info*) exit {too_old} ;;
  *platform*) echo {version} ;;
  *) exit 99 ;;
esac
"""


def copy_setup(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "setup", tmp_path / "scripts" / "setup")
    return tmp_path / "scripts" / "setup"


def fake_python(tmp_path: Path, version: str) -> Path:
    too_old = 1 if tuple(int(x) for x in version.split(".")[:2]) < (3, 11) else 0
    path = tmp_path / f"python{version}"
    path.write_text(FAKE_PYTHON.format(version=version, too_old=too_old))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def run_setup(script: Path, python: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHON": python, "RELEASEGATE_EXTRAS": "none"}
    return subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=60, env=env, check=False
    )


@pytest.mark.parametrize("version", ["3.10.4", "3.9.18", "2.7.18"])
def test_a_python_too_old_is_one_line_before_anything_is_installed(
    version: str, tmp_path: Path
) -> None:
    script = copy_setup(tmp_path)
    result = run_setup(script, str(fake_python(tmp_path, version)))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "needs Python >= 3.11" in lines[0] and version in lines[0]
    assert not (tmp_path / ".venv").exists()


def test_a_missing_interpreter_is_named(tmp_path: Path) -> None:
    script = copy_setup(tmp_path)
    result = run_setup(script, str(tmp_path / "no-such-python"))
    assert result.returncode == 2
    assert "no-such-python" in result.stderr and "Python >= 3.11" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_the_setup_script_says_what_the_slow_steps_are() -> None:
    text = (ROOT / "scripts" / "setup").read_text()
    for needle in ("llama-cpp-python", "torch", "--progress-bar on", "build-essential cmake"):
        assert needle in text


def test_readme_starts_with_exactly_two_commands_and_names_the_prerequisites() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == [
        "bash scripts/demo",
        "bash scripts/check",
    ]
    for needle in ("Python >= 3.11", "C/C++ compiler and CMake", "releasegate[postgres]"):
        assert needle in text
