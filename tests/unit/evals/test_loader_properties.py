"""Property tests: whatever bytes a user's file holds, loaders raise only releasegate's
own errors (the ConfigError family), never a stray exception or a crash."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasegate.datasets.case import Case
from releasegate.datasets.dataset import load_dataset
from releasegate.errors import ConfigError
from releasegate.project import load_project
from releasegate.prompts import load_prompt

pytestmark = pytest.mark.slow

SETTINGS = settings(
    max_examples=int(os.environ.get("RELEASEGATE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Characters that make YAML/CSV/JSON interesting: indicators, quotes, separators.
_SYNTAX = st.sampled_from([*"-:?[]{},#&*!|>'\"%@`\n\t ;=\\", "\r\n", "  ", "- ", ": "])
_WORDS = st.sampled_from(
    [
        "id",
        "input",
        "assert",
        "type",
        "value",
        "weight",
        "tags",
        "cases",
        "defaults",
        "name",
        "version",
        "model",
        "template",
        "suites",
        "dataset",
        "providers",
        "gate",
        "1.0.0",
        "{{ x }}",
        "{%",
        "-1",
        "null",
        "true",
        "1e999",
        "NaN",
        "~",
        "<<",
        "!!binary",
        "&a",
        "*a",
        "vars.x",
        "assert:contains",
        "metadata",
    ]
)
YAMLISH = st.lists(st.one_of(_SYNTAX, _WORDS, st.text(max_size=5)), max_size=60).map("".join)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "input",
                    "assert",
                    "tags",
                    "weight",
                    "x",
                    "type",
                    "value",
                    "metadata",
                    "context",
                ]
            )
            | st.text(max_size=5),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def _roundtrip(name: str, data: bytes, loader: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            loader(path)  # type: ignore[operator]
        except ConfigError as exc:
            assert exc.issues, "an error must carry at least one issue"
            for issue in exc.issues:
                assert issue.message
                assert isinstance(issue.file, str)


SUFFIXES = ["d.yaml", "d.jsonl", "d.csv"]


@SETTINGS
@given(data=st.binary(max_size=300), name=st.sampled_from(SUFFIXES))
def test_dataset_arbitrary_bytes(data: bytes, name: str) -> None:
    _roundtrip(name, data, load_dataset)


@SETTINGS
@given(text=YAMLISH, name=st.sampled_from(SUFFIXES))
def test_dataset_yamlish_text(text: str, name: str) -> None:
    _roundtrip(name, text.encode("utf-8", "surrogatepass"), load_dataset)


@SETTINGS
@given(rows=st.lists(JSON_VALUES, max_size=6))
def test_dataset_arbitrary_json_lines(rows: list[object]) -> None:
    text = "\n".join(json.dumps(r) for r in rows)
    _roundtrip("d.jsonl", text.encode(), load_dataset)


@SETTINGS
@given(rows=st.lists(JSON_VALUES, max_size=6))
def test_dataset_arbitrary_yaml_from_json(rows: list[object]) -> None:
    # JSON is (almost) YAML: arbitrary structures through the YAML path.
    _roundtrip("d.yaml", json.dumps(rows).encode(), load_dataset)


CSV_CELLS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(['"', '""', ",", "\n", "[1,2]", '{"a":1}', "-1", "x;y", "[", "{"]),
)
CSV_HEADERS = st.sampled_from(
    [
        "id",
        "input",
        "context",
        "reference",
        "expected_behavior",
        "tags",
        "weight",
        "metadata",
        "assert",
        "vars.x",
        "assert:contains",
        "assert:max-words",
        "bogus",
        "",
    ]
)


@SETTINGS
@given(
    header=st.lists(CSV_HEADERS, min_size=1, max_size=6),
    rows=st.lists(st.lists(CSV_CELLS, max_size=7), max_size=5),
)
def test_dataset_arbitrary_csv(header: list[str], rows: list[list[str]]) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    _roundtrip("d.csv", buf.getvalue().encode("utf-8", "surrogatepass"), load_dataset)


@SETTINGS
@given(text=YAMLISH)
def test_prompt_yamlish_text(text: str) -> None:
    _roundtrip("p.yaml", text.encode("utf-8", "surrogatepass"), load_prompt)


@SETTINGS
@given(data=st.binary(max_size=200))
def test_prompt_arbitrary_bytes(data: bytes) -> None:
    _roundtrip("p.yaml", data, load_prompt)


@SETTINGS
@given(template=st.text(max_size=40), var=st.text(max_size=10))
def test_prompt_arbitrary_templates_render_or_raise_prompt_error(template: str, var: str) -> None:
    text = json.dumps({"name": "p", "version": "1.0.0", "model": "m", "template": template or "x"})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            prompt = load_prompt(path)
            prompt.render(Case(id="c", input=var).template_vars())
        except ConfigError as exc:
            assert exc.issues


@SETTINGS
@given(text=YAMLISH)
def test_project_yamlish_text(text: str) -> None:
    _roundtrip("releasegate.yaml", text.encode("utf-8", "surrogatepass"), load_project)


@SETTINGS
@given(config=JSON_VALUES)
def test_project_arbitrary_structures(config: object) -> None:
    _roundtrip("releasegate.yaml", json.dumps(config).encode(), load_project)
