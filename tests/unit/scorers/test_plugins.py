"""Check types come from one registry: a table of built-ins imported on first use,
factories registered by name, and plugins from the ``releasegate.scorers`` entry-point
group. The group is scanned only when a type is not built in, and built-in names cannot
be taken over by a plugin."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from releasegate.errors import ConfigError
from releasegate.scorers import (
    AssertSpec,
    CheckBuilder,
    Sample,
    Score,
    ScorerContext,
    available_scorers,
    build_scorer,
    register_scorer,
)
from releasegate.scorers.registry import SCORERS

from ._support import registered


class Shouty:
    name = "shouty"
    requires: frozenset[str] = frozenset()
    default_threshold = 1.0

    async def score(self, sample: Sample) -> Score:
        return Score.passed(sample.output.isupper())


class FakeEntryPoint:
    def __init__(self, name: str, load: Any = None) -> None:
        self.name = name
        self._load = load

    def load(self) -> Any:
        if self._load is not None:
            return self._load()
        return lambda spec, ctx: Shouty()


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Installed plugins: ``shouty``, one named like the built-in ``contains``, and one
    whose module needs a missing extra. Records every scan of the group."""
    scans: list[str] = []

    def needs_llama() -> Any:
        raise ModuleNotFoundError("No module named 'llama_cpp'", name="llama_cpp")

    def fake_entry_points(*, group: str) -> list[FakeEntryPoint]:
        scans.append(group)
        return [
            FakeEntryPoint("shouty"),
            FakeEntryPoint("contains"),
            FakeEntryPoint("llama-check", needs_llama),
        ]

    monkeypatch.setattr("releasegate._registry.entry_points", fake_entry_points)
    SCORERS.reset_plugins()
    yield scans
    SCORERS.reset_plugins()


def test_importing_the_package_imports_no_check_module_and_no_eval_layer() -> None:
    code = """
import json, sys
import releasegate.scorers as s
before = sorted(m for m in sys.modules if m.startswith("releasegate."))
s.build_scorer(s.AssertSpec(type="contains", value="x"))
after_contains = sorted(m for m in sys.modules if m.startswith("releasegate."))
for name in s.registry.SCORERS.builtins:
    s.registry.SCORERS.get(name)
after_all = sorted(m for m in sys.modules if m.startswith("releasegate."))
print(json.dumps([before, after_contains, after_all]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after_contains, after_all = json.loads(out.stdout)
    checks = {f"releasegate.scorers.{m}" for m in ("deterministic", "judge", "rag", "json_checks")}
    assert not checks & set(before)
    # the first use of a built-in imports its module, and only that one
    assert "releasegate.scorers.deterministic" in after_contains
    assert "releasegate.scorers.judge" not in after_contains
    # the checks stand below the eval layer: no dataset case, report or engine
    for layer in ("releasegate.datasets", "releasegate.evals", "releasegate.results"):
        assert not [m for m in after_all if m == layer or m.startswith(layer + ".")], layer


def test_every_built_in_type_loads_from_its_table_entry() -> None:
    for name in SCORERS.builtins:
        assert callable(SCORERS.get(name)), name
    assert set(SCORERS.builtins) <= set(available_scorers())


def test_built_in_checks_do_not_scan_for_plugins(plugins: list[str]) -> None:
    build_scorer(AssertSpec(type="contains", value="x"), ScorerContext())
    assert plugins == []


def test_unknown_name_finds_the_plugin_once(plugins: list[str]) -> None:
    assert isinstance(build_scorer(AssertSpec(type="shouty"), ScorerContext()), Shouty)
    build_scorer(AssertSpec(type="shouty"), ScorerContext())
    assert plugins == ["releasegate.scorers"]
    # a plugin named like a built-in does not replace it
    assert not isinstance(build_scorer(AssertSpec(type="contains", value="x")), Shouty)
    assert "shouty" in available_scorers()
    assert plugins == ["releasegate.scorers"]


async def test_a_registered_factory_is_used_like_a_built_in() -> None:
    with registered("shout-reg", lambda spec, ctx: Shouty()):
        check = build_scorer(AssertSpec(type="shout-reg"))
        assert isinstance(check, Shouty)
        assert (await check.score(Sample("HEY"))).value == 1.0
        assert "shout-reg" in available_scorers()
    assert "shout-reg" not in available_scorers()


def test_register_scorer_takes_several_names() -> None:
    factory = register_scorer("shout-a", "shout-b")(lambda spec, ctx: Shouty())
    try:
        assert SCORERS.get("shout-a") is factory and SCORERS.get("shout-b") is factory
    finally:
        SCORERS.unregister("shout-a")
        SCORERS.unregister("shout-b")


def test_unknown_everywhere_is_a_config_error_listing_the_known_types(
    plugins: list[str],
) -> None:
    with pytest.raises(ConfigError, match="unknown check type 'nope'") as info:
        build_scorer(AssertSpec(type="nope"), ScorerContext(), where="data.yaml:3")
    message = info.value.issues[0].message
    assert "known: " in message and "contains" in message and "shouty" in message
    assert info.value.issues[0].file == "data.yaml:3"


def test_a_built_in_whose_extra_is_missing_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setitem(SCORERS.builtins, "llama-judge", "llama_cpp:Llama")
    with pytest.raises(ConfigError) as info:
        build_scorer(AssertSpec(type="llama-judge"))
    message = str(info.value)
    assert "check 'llama-judge'" in message
    assert "install the local extra" in message and "pip install 'releasegate[local]'" in message


def test_a_plugin_whose_extra_is_missing_names_the_install_command(plugins: list[str]) -> None:
    with pytest.raises(ConfigError, match=r"pip install 'releasegate\[local\]'"):
        build_scorer(AssertSpec(type="llama-check"))


def test_a_plugin_factory_that_crashes_is_reported_not_raised() -> None:
    from releasegate.datasets.case import Case

    def broken(spec: AssertSpec, ctx: ScorerContext) -> Any:
        raise RuntimeError("model file missing")

    case = Case.model_validate({"id": "c1", "input": "x", "assert": [{"type": "broken-plugin"}]})
    with registered("broken-plugin", broken):
        [issue] = CheckBuilder().prepare([case], file="data.yaml")
    assert (issue.file, issue.case_id, issue.field) == ("data.yaml", "c1", "assert[0]")
    assert "RuntimeError: model file missing" in issue.message


def test_checks_with_values_json_cannot_carry_are_still_built_or_reported() -> None:
    from releasegate.datasets.case import Case

    case = Case.model_validate(
        {"id": "c1", "input": "x", "assert": [{"type": "equals", "value": b"\xff\xfe"}]}
    )
    issues = CheckBuilder().prepare([case, case], file="data.yaml")
    assert len(issues) == 2
    assert all(i.case_id == "c1" and i.field == "assert[0]" for i in issues)
    assert "bytes" in issues[0].message


DOC = Path(__file__).resolve().parents[3] / "docs" / "providers.md"
DOC_TEXT = DOC.read_text(encoding="utf-8")


async def test_the_documented_check_plugin_works_as_written() -> None:
    doc = DOC
    section = DOC_TEXT.split("### Checks", 1)[1]
    [code] = re.findall(r"^```python\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(doc), "exec"), namespace)
    with registered("polite", namespace["build_polite"]):
        check = build_scorer(AssertSpec(type="polite"))
        assert (await check.score(Sample("Thank you, here it is."))).value == 1.0
        assert (await check.score(Sample("Here."))).value == 0.0
        with pytest.raises(ConfigError, match="value must be a list of words"):
            build_scorer(AssertSpec(type="polite", value="please"))


@pytest.mark.parametrize(
    ("module", "extra", "cpu_note"),
    [
        ("llama_cpp", "local", True),
        ("torch.nn", "local", True),
        ("sentence_transformers", "local", True),
        ("psycopg", "postgres", False),
        ("redis", "redis", False),
    ],
)
def test_the_missing_extra_message_warns_about_torch_only_for_local(
    module: str, extra: str, cpu_note: bool
) -> None:
    from releasegate._optional import MissingExtra

    message = str(MissingExtra(module))
    assert f"install the {extra} extra: pip install 'releasegate[{extra}]'" in message
    assert ("constraints/dev.txt" in message and "CPU build" in message) is cpu_note
