"""A case id is the text the user wrote, in every dataset format.

YAML types plain scalars (``010`` is 8, ``0x1F`` is 31, ``1.10`` is 1.1, ``yes`` is
true) and JSON types numbers (``1.10`` is 1.1, ``1e2`` is 100.0): either conversion
would rename the case in every report and make distinct ids collide. The loader keeps
the source text; what cannot be kept as text is refused with a hint, never renamed.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from releasegate.datasets.dataset import load_dataset, scan_dataset
from releasegate.errors import DatasetError

# Plain YAML scalars that YAML 1.1 (PyYAML's resolver) types as something else than text.
YAML_TYPED = [
    "010",  # octal int
    "0o17",
    "0x1F",  # hex int
    "0b101",  # binary int
    "1_000",  # int with underscores
    "190:20:30",  # sexagesimal int
    "+12",
    "-0",
    "007",
    "1.10",  # float that would read 1.1
    "1.0",
    "1e3",
    "1.5e+3",
    "6.8523015e+5",
    ".inf",
    "-.Inf",
    ".nan",
    "1_000.5",
    "190:20:30.15",  # sexagesimal float
    "yes",
    "No",
    "on",
    "off",
    "true",
    "FALSE",
    "y",
    "~",
    "null",
    "Null",
    "2024-01-01",  # date
    "2001-12-14t21:59:43.10-05:00",  # timestamp
    "2001-12-14 21:59:43.10 -5",
]


def _yaml(tmp_path: Path, ids: list[str], *, mapping: bool) -> Path:
    lines = ["cases:"] if mapping else []
    indent = "  " if mapping else ""
    for case_id in ids:
        lines.append(f"{indent}- id: {case_id}")
        lines.append(f"{indent}  input: hello")
    path = tmp_path / "d.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("mapping", [False, True], ids=["list", "cases-mapping"])
@pytest.mark.parametrize("case_id", YAML_TYPED)
def test_yaml_plain_scalar_id_keeps_its_source_text(
    tmp_path: Path, case_id: str, mapping: bool
) -> None:
    dataset = load_dataset(_yaml(tmp_path, [case_id], mapping=mapping))
    assert [c.id for c in dataset.cases] == [case_id]


def test_yaml_id_keeps_its_text_under_defaults_and_anchors(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "defaults:\n  tags: [t]\n"
        "cases:\n"
        "  - id: &first 0x1F\n    input: a\n"
        "  - {id: 010, input: b}\n"
        "  - id: !!int 017\n    input: c\n",
        encoding="utf-8",
    )
    assert [c.id for c in load_dataset(path).cases] == ["0x1F", "010", "017"]


@pytest.mark.parametrize(
    ("pair"),
    [
        ("1.10", "1.1"),
        ("010", "8"),
        ("0x1F", "31"),
        ("1e3", "1000.0"),
        ("yes", "true"),
        ("1_0", "10"),
    ],
)
def test_yaml_ids_that_yaml_would_merge_stay_distinct(
    tmp_path: Path, pair: tuple[str, str]
) -> None:
    dataset, issues = scan_dataset(_yaml(tmp_path, list(pair), mapping=True))
    assert issues == []
    assert dataset is not None
    assert [c.id for c in dataset.cases] == list(pair)


def test_yaml_quoted_ids_are_their_string_value(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "- {id: '010', input: a}\n- {id: \"tab\\tid\", input: b}\n- {id: 'it''s', input: c}\n",
        encoding="utf-8",
    )
    assert [c.id for c in load_dataset(path).cases] == ["010", "tab\tid", "it's"]


def test_yaml_id_through_a_merge_key_keeps_its_text(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "- &base {id: 010, input: a}\n"
        "- <<: *base\n  id: 0x1F\n  input: b\n"
        "- <<: *base\n  input: c\n",
        encoding="utf-8",
    )
    dataset, issues = scan_dataset(path)
    assert dataset is not None
    assert [c.id for c in dataset.cases] == ["010", "0x1F"]
    assert [(i.line, i.message) for i in issues] == [
        (5, "duplicate id '010' (first used at line 1)")
    ]


@pytest.mark.parametrize("value", ["[1, 2]", "{a: 1}"])
def test_yaml_non_scalar_id_is_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(f"- id: {value}\n  input: a\n", encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert "id: must be text" in str(info.value.issues[0])


def _plain_scalars_as_written(text: str, ids: list[str]) -> bool:
    """Whether YAML reads ``text`` as a list of cases whose ids are the plain scalars
    ``ids`` (some generated strings are not plain scalars: ``a: b``, ``- x``, ``#``)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return False
    if not isinstance(root, yaml.SequenceNode) or len(root.value) != len(ids):
        return False
    for item, case_id in zip(root.value, ids, strict=True):
        if not isinstance(item, yaml.MappingNode) or len(item.value) != 2:
            return False
        node = item.value[0][1]
        if not isinstance(node, yaml.ScalarNode) or node.style is not None:
            return False
        if node.value != case_id:
            return False
    return True


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much],
)
@given(
    st.lists(
        st.text(
            alphabet=string.ascii_letters + string.digits + "._+-:~eE", min_size=1, max_size=12
        ),
        min_size=1,
        max_size=6,
        unique=True,
    )
)
def test_yaml_any_plain_id_round_trips_as_written(tmp_path: Path, ids: list[str]) -> None:
    text = "".join(f"- id: {i}\n  input: x\n" for i in ids)
    assume(_plain_scalars_as_written(text, ids))
    path = tmp_path / "hyp.yaml"
    path.write_text(text, encoding="utf-8")
    assert [c.id for c in load_dataset(path).cases] == ids


# --- JSONL ---------------------------------------------------------------------------

JSON_NUMBERS = [
    "1.10",
    "1.1",
    "1e2",
    "1E+2",
    "-0",
    "0",
    "10",
    "1.0",
    "12345678901234567890",
    "0.1e-3",
    "NaN",
    "Infinity",
    "-Infinity",
]


@pytest.mark.parametrize("number", JSON_NUMBERS)
def test_jsonl_numeric_id_keeps_its_source_text(tmp_path: Path, number: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(f'{{"id": {number}, "input": "x", "metadata": {{"n": 1.10}}}}\n')
    case = load_dataset(path).cases[0]
    assert case.id == number
    assert case.metadata == {"n": 1.1}  # only the id keeps its text


@pytest.mark.parametrize(
    "pair", [("1.10", "1.1"), ("1e2", "100"), ("100.0", "100"), ("1E2", "1e2")]
)
def test_jsonl_numeric_ids_stay_distinct(tmp_path: Path, pair: tuple[str, str]) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("".join(f'{{"input": "x", "id": {n}}}\n' for n in pair))
    assert [c.id for c in load_dataset(path).cases] == list(pair)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("true", "true"),
        ("false", "false"),
        ("null", "null"),
        ("[1]", "a list"),
        ("{}", "a mapping"),
    ],
)
def test_jsonl_non_text_id_is_refused_with_a_hint(tmp_path: Path, value: str, shown: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "ok", "input": "x"}\n' + f'{{"id": {value}, "input": "x"}}\n')
    dataset, issues = scan_dataset(path)
    assert dataset is not None and [c.id for c in dataset.cases] == ["ok"]
    assert len(issues) == 1
    assert issues[0].line == 2
    assert "id: must be text" in issues[0].message and shown in issues[0].message


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.one_of(
            st.integers(min_value=-(10**30), max_value=10**30).map(str),
            st.floats(allow_nan=False, allow_infinity=False).map(repr),
            st.from_regex(
                r"-?(0|[1-9][0-9]{0,5})(\.[0-9]{1,5})?([eE][-+]?[0-9]{1,3})?", fullmatch=True
            ),
        ),
        min_size=1,
        max_size=6,
        unique=True,
    )
)
def test_jsonl_any_number_id_round_trips_as_written(tmp_path: Path, ids: list[str]) -> None:
    tmp = tmp_path
    lines = [f'{{"id": {i}, "input": "x"}}' for i in ids]
    for line in lines:
        json.loads(line)  # every generated id is a JSON number
    path = tmp / "d.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert [c.id for c in load_dataset(path).cases] == ids


# --- CSV -----------------------------------------------------------------------------


@pytest.mark.parametrize("case_id", ["007", "0x1F", "1.10", "1e3", "yes", "~", "2024-01-01", "-0"])
def test_csv_id_is_the_cell_text(tmp_path: Path, case_id: str) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"id,input\n{case_id},x\n1.1,y\n")
    assert [c.id for c in load_dataset(path).cases] == [case_id, "1.1"]


@pytest.mark.parametrize("cell", [" 7", "7 ", '" a "', "\t7"])
def test_csv_id_with_surrounding_whitespace_is_refused_not_trimmed(
    tmp_path: Path, cell: str
) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"id,input\n{cell},x\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    (issue,) = info.value.issues
    assert issue.line == 2
    assert "whitespace" in issue.message


@pytest.mark.parametrize("fmt", ["yaml", "jsonl"])
def test_quoted_id_with_surrounding_whitespace_is_refused(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"d.{fmt}"
    if fmt == "yaml":
        path.write_text("- {id: ' a', input: x}\n- {id: a, input: y}\n")
    else:
        path.write_text('{"id": " a", "input": "x"}\n{"id": "a", "input": "y"}\n')
    dataset, issues = scan_dataset(path)
    assert dataset is not None and [c.id for c in dataset.cases] == ["a"]
    assert [i.line for i in issues] == [1]
    assert "whitespace" in issues[0].message


# --- calibration labels (JSONL with the same id rule) ----------------------------------


@pytest.mark.parametrize(
    ("written", "ids"),
    [
        (["1.10", "1.1"], ["1.10", "1.1"]),
        (["1e2", "100"], ["1e2", "100"]),
        (["7", '"07"'], ["7", "07"]),
    ],
)
def test_calibration_label_ids_keep_their_source_text(
    tmp_path: Path, written: list[str], ids: list[str]
) -> None:
    from releasegate.evals.calibrate import load_labels

    path = tmp_path / "labels.jsonl"
    path.write_text(
        "".join(f'{{"id": {i}, "input": "q", "output": "a", "human_score": 1}}\n' for i in written)
    )
    assert [r.case.id for r in load_labels(path)] == ids


@pytest.mark.parametrize("value", ["true", "null", "[1]", '" x"'])
def test_calibration_label_non_text_id_is_refused(tmp_path: Path, value: str) -> None:
    from releasegate.evals.calibrate import load_labels

    path = tmp_path / "labels.jsonl"
    path.write_text(f'{{"id": {value}, "input": "q", "output": "a", "human_score": 1}}\n')
    with pytest.raises(DatasetError) as info:
        load_labels(path)
    (issue,) = info.value.issues
    assert issue.line == 1 and issue.message.startswith("id: ")
