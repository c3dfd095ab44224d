"""One settings object reads the environment: no other module of the package touches
``os.environ``, and the docs table lists exactly the variables the settings know."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from releasegate import settings as settings_module
from releasegate.settings import VARIABLES, Settings, current, placeholders

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "releasegate"
ENV_ACCESS = re.compile(r"\bos\.(?:environ|getenv|putenv|unsetenv)\b|\bfrom os import\b")


def test_no_module_but_settings_reads_the_environment() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == Path(settings_module.__file__):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ENV_ACCESS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


def test_the_docs_table_lists_every_variable_the_settings_know() -> None:
    text = (ROOT / "docs" / "environment.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", text, flags=re.MULTILINE)
    assert sorted(documented) == sorted(v.name for v in VARIABLES)
    assert len(documented) == len(set(documented))


def test_every_variable_fills_its_own_field() -> None:
    fields = set(Settings.model_fields)
    assert {v.field for v in VARIABLES} == fields
    assert len({v.name for v in VARIABLES}) == len(VARIABLES)


def test_from_env_reads_a_mapping_and_treats_empty_as_unset() -> None:
    s = Settings.from_env(
        {
            "RELEASEGATE_DATABASE_URL": "sqlite:///x.db",
            "RELEASEGATE_ACTOR": "",
            "RELEASEGATE_DEBUG": "1",
            "RELEASEGATE_LOCAL_GGUF": "/models/m.gguf",
            "MY_KEY": "k-123",
            "EMPTY_KEY": "",
        }
    )
    assert s.database_url == "sqlite:///x.db"
    assert s.actor is None
    assert s.debug is True
    assert s.local_gguf == Path("/models/m.gguf")
    assert s.secret("MY_KEY") == "k-123"
    assert s.secret("EMPTY_KEY") == ""
    assert s.secret("NOT_SET") is None
    assert Settings.from_env({}).debug is False


def test_the_repr_hides_credentials() -> None:
    s = Settings.from_env({"RELEASEGATE_API_TOKEN": "rg_supersecret", "OPENAI_API_KEY": "sk-x1"})
    assert "supersecret" not in repr(s) and "sk-x1" not in repr(s)
    assert s.api_token == "rg_supersecret"


def test_current_sees_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASEGATE_ACTOR", "ci-bot")
    assert current().actor == "ci-bot"
    monkeypatch.delenv("RELEASEGATE_ACTOR")
    assert current().actor is None


def test_placeholders_fill_only_unset_names_and_leave_the_process_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    monkeypatch.setenv("RG_SET_KEY", "real")
    monkeypatch.delenv("RG_UNSET_KEY", raising=False)
    with placeholders(["RG_SET_KEY", "RG_UNSET_KEY"], "stand-in") as added:
        assert added == ["RG_UNSET_KEY"]
        assert current().secret("RG_UNSET_KEY") == "stand-in"
        assert current().secret("RG_SET_KEY") == "real"
        assert "RG_UNSET_KEY" not in os.environ
    assert current().secret("RG_UNSET_KEY") is None
