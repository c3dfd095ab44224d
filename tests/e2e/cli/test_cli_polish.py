"""The command's own surface: --version, help text and docs/cli.md without type
placeholders or defaults shown twice, validate messages with one severity prefix."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from typer.testing import CliRunner

import releasegate
from releasegate.cli import load_all
from tests.support.project import make_project

ROOT = Path(__file__).resolve().parents[3]
# <str>, <bool>, <path>, ... and {feature}-style placeholders of the docs generator
TYPE_METAVAR = re.compile(r"<(?:str|bool|int|float|path|text|choice)>|\{[a-z_]+\}(?! expands)")
# "[.]  [default: .]": a default written into the help text and shown again
DEFAULT_TWICE = re.compile(r"\[([^\]\s]+)\]\s+\[default: \1\]")


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "releasegate", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"releasegate {releasegate.__version__}"


def _command_paths() -> list[list[str]]:
    root = typer.main.get_command(load_all())
    paths: list[list[str]] = [[]]

    def walk(cmd: Any, prefix: list[str]) -> None:
        # typer may build its commands on its own copy of click: go by attributes
        if hasattr(cmd, "list_commands"):
            ctx = cmd.context_class(cmd)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None:
                    paths.append([*prefix, name])
                    walk(sub, [*prefix, name])

    walk(root, [])
    return paths


COMMANDS = _command_paths()


def test_the_walk_finds_every_command() -> None:
    assert ["init"] in COMMANDS and ["deploy", "status"] in COMMANDS
    assert ["api", "serve"] in COMMANDS and ["local", "serve"] in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "releasegate")
def test_help_has_no_type_placeholders_or_doubled_defaults(path: list[str]) -> None:
    result = CliRunner().invoke(load_all(), [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert not TYPE_METAVAR.search(result.output), result.output
    flat = " ".join(result.output.replace("│", " ").split())
    assert not DEFAULT_TWICE.search(flat), result.output


def test_generated_command_reference_reads_like_help() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert not TYPE_METAVAR.search(text), TYPE_METAVAR.findall(text)
    assert not DEFAULT_TWICE.search(text), DEFAULT_TWICE.findall(text)
    assert "$ releasegate route [OPTIONS] FEATURE UNIT_KEY" in text
    assert "* `DIRECTORY`: Project directory.  [default: .]" in text
    assert "`--version`" in text


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("* `--force <bool>`: Overwrite", True),
        ("$ releasegate route [OPTIONS] {feature} {unit_key}", True),
        ("* `directory <path>`: Project directory [.]  [default: .]", True),
        ("* `-o, --output OUTPUT`: Write the JSON report here ({suite} expands)", False),
        ("* `DIRECTORY`: Project directory.  [default: .]", False),
    ],
)
def test_the_patterns_catch_what_they_should(text: str, bad: bool) -> None:
    assert bool(TYPE_METAVAR.search(text) or DEFAULT_TWICE.search(text)) is bad


@pytest.mark.parametrize("model", ["gpt-4o", "claude-3-5-sonnet-latest", "gpt-4"])
def test_validate_warning_has_one_prefix(model: str, tmp_path: Path) -> None:
    make_project(tmp_path, base_url="http://127.0.0.1:9/v1", n_cases=1)
    prompt = tmp_path / "prompts" / "echo.yaml"
    data = yaml.safe_load(prompt.read_text())
    data["model"] = model
    prompt.write_text(yaml.safe_dump(data))
    result = subprocess.run(
        [sys.executable, "-m", "releasegate", "validate", "--allow-unpinned"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warnings, result.stderr
    for line in warnings:
        assert line.startswith("warning: "), line
        assert line.count("warning:") == 1, line
