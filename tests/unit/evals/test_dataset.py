"""Dataset loading from YAML, JSONL and CSV, with line-accurate errors."""

from __future__ import annotations

import contextlib
import gc
import hashlib
from pathlib import Path

import pytest

from releasegate.datasets.dataset import Dataset, check_asserts, load_dataset
from releasegate.errors import DatasetError, Issue


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _issues(path: Path) -> list[Issue]:
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    return info.value.issues


# --- YAML ---------------------------------------------------------------------------


def test_yaml_list_of_cases(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.yaml",
        """\
- id: refund
  input: How do I get a refund?
  context: [Refunds take 5 days., Contact support.]
  reference: Ask support; it takes 5 days.
  expected_behavior: Mentions the 5-day delay.
  tags: [billing]
  weight: 2
  metadata: {owner: team-a}
  assert:
    - type: contains
      value: 5 days
      weight: 0.5
- id: 42
  input: {question: Hi, lang: en}
""",
    )
    data = load_dataset(path)
    assert isinstance(data, Dataset)
    assert [c.id for c in data.cases] == ["refund", "42"]
    first = data.cases[0]
    assert first.context_chunks == ["Refunds take 5 days.", "Contact support."]
    assert first.asserts[0].type == "contains" and first.asserts[0].weight == 0.5
    assert first.weight == 2.0 and first.tags == ("billing",)
    assert (first.line, data.cases[1].line) == (1, 13)
    assert first.source == data.path
    assert data.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(data) == 2


def test_yaml_defaults_merge(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.yaml",
        """\
defaults:
  tags: [smoke, pr]
  weight: 0.5
  metadata: {team: a, tier: 1}
  assert:
    - type: not-contains
      value: sorry
cases:
  - id: a
    input: hi
  - id: b
    input: yo
    tags: [pr, edge]
    weight: 3
    metadata: {tier: 2}
    assert:
      - type: contains
        value: yo
""",
    )
    a, b = load_dataset(path).cases
    assert a.tags == ("smoke", "pr") and a.weight == 0.5
    assert [s.type for s in a.asserts] == ["not-contains"]
    assert b.tags == ("smoke", "pr", "edge")
    assert b.weight == 3.0
    assert b.metadata == {"team": "a", "tier": 2}
    assert [s.type for s in b.asserts] == ["not-contains", "contains"]
    assert (a.line, b.line) == (9, 11)


def test_yaml_errors_in_merged_case_point_at_case_lines(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.yaml",
        """\
defaults:
  assert:
    - type: contains
      value: x
cases:
  - id: a
    input: hi
    assert:
      - type: regex
        value: y
        weight: -1
""",
    )
    (issue,) = _issues(path)
    assert issue.line == 11
    assert issue.case_id == "a"
    assert issue.message == "assert[0].weight: must be >= 0, got -1"


@pytest.mark.parametrize(
    ("defaults", "expected"),
    [
        ("id: x", "defaults.id: cannot have a default (ids are unique)"),
        ("tgas: [a]", "defaults.tgas: unknown field; did you mean 'tags'?"),
        ("weight: -2", "weight: must be >= 0, got -2"),
    ],
)
def test_bad_defaults_reported_once(tmp_path: Path, defaults: str, expected: str) -> None:
    text = f"defaults:\n  {defaults}\ncases:\n  - {{id: a, input: x}}\n  - {{id: b, input: y}}\n"
    issues = _issues(_write(tmp_path, "d.yaml", text))
    assert [i.message for i in issues] == [expected]
    assert issues[0].line == 2


def test_yaml_collects_every_error_with_lines_and_ids(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.yaml",
        """\
- id: a
  input: hi
- id: b
  input: hi
  weight: -1
- id: a
  input: again
- id: c
  inptu: x
- just a string
- id: ""
  input: x
""",
    )
    issues = _issues(path)
    messages = {(i.line, i.case_id): i.message for i in issues}
    assert messages[(5, "b")] == "weight: must be >= 0, got -1"
    assert messages[(6, "a")] == "duplicate id 'a' (first used at line 1)"
    assert messages[(8, "c")] == "input: required field is missing"
    assert messages[(9, "c")] == "inptu: unknown field; did you mean 'input'?"
    assert messages[(10, None)] == "a case must be a mapping, got a string"
    assert messages[(11, "")] == "id: id must not be empty"
    assert len(issues) == 6
    assert [i.line for i in issues] == sorted(i.line or 0 for i in issues)
    assert all(i.file.endswith("d.yaml") for i in issues)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "dataset has no cases"),
        ("[]\n", "dataset has no cases"),
        ("cases: []\n", "dataset has no cases"),
        ("42\n", "must be a list of cases"),
        ("defaults: {}\n", "missing 'cases'"),
        ("cases: {a: 1}\n", "cases: must be a list of cases"),
        ("case: []\n", "case: unknown top-level key; did you mean 'cases'?"),
        ("- id: a\n  input: x\n  line: 3\n", "line: reserved"),
        ("- id: a\n  input: [\n", "invalid YAML"),
    ],
)
def test_yaml_structure_errors(tmp_path: Path, text: str, expected: str) -> None:
    issues = _issues(_write(tmp_path, "d.yml", text))
    assert any(expected in i.message for i in issues), issues


# --- JSONL --------------------------------------------------------------------------


def test_jsonl_cases_blank_lines_and_line_numbers(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.jsonl",
        '{"id": "a", "input": "x", "tags": ["t"]}\n\n   \n{"id": "b", "input": {"q": 1}}\r\n',
    )
    a, b = load_dataset(path).cases
    assert (a.line, b.line) == (1, 4)
    assert b.input == {"q": 1}


def test_jsonl_errors(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.jsonl",
        '{"id": "a", "input": "x"}\n{"id": "b", "input": 3}\nnot json\n[1]\n'
        '{"id": "a", "input": "y"}\n',
    )
    issues = _issues(path)
    assert [(i.line, i.case_id) for i in issues] == [
        (2, "b"),
        (3, None),
        (4, None),
        (5, "a"),
    ]
    assert issues[0].message == "input: must be a valid string or must be a valid dictionary, got 3"
    assert issues[1].message.startswith("invalid JSON at column 1")
    assert issues[3].message == "duplicate id 'a' (first used at line 1)"


# --- CSV ----------------------------------------------------------------------------


def test_csv_columns(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.csv",
        "id,input,context,tags,weight,metadata,assert,assert:contains,assert:max-words,vars.name\n"
        'a,hello,plain text,smoke; billing ,2,"{""k"": 1}",'
        '"[{""type"": ""regex"", ""value"": ""h""}]",hello,50,Bob\n'
        'b,"two\nlines","[""c1"", ""c2""]",,,,,,,\n'
        "\n"
        "c,third,,,,,,,,\n",
    )
    a, b, c = load_dataset(path).cases
    assert a.tags == ("smoke", "billing")
    assert a.weight == 2.0
    assert a.metadata == {"k": 1}
    assert [(s.type, s.value) for s in a.asserts] == [
        ("regex", "h"),
        ("contains", "hello"),
        ("max-words", 50),
    ]
    assert a.vars == {"name": "Bob"}
    assert a.context == "plain text"
    assert b.input == "two\nlines"
    assert b.context == ["c1", "c2"]
    assert b.asserts == ()
    assert b.vars == {"name": ""}
    assert (a.line, b.line, c.line) == (2, 3, 6)


def test_csv_vars_only_become_the_input(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "id,vars.city,vars.days\n1,Oslo,3\n")
    (case,) = load_dataset(path).cases
    assert case.input == {"city": "Oslo", "days": "3"}
    assert case.template_vars()["city"] == "Oslo"


def test_csv_cell_errors(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.csv",
        "id,input,weight,metadata,assert\n"
        "a,x,-1,,\n"
        "b,x,abc,,\n"
        "c,x,,{bad,\n"
        'd,x,,,"{""type"": ""x""}"\n'
        "e,x,1,,,extra\n"
        "a,x,,,\n",
    )
    issues = _issues(path)
    got = {(i.line, i.case_id): i.message for i in issues}
    assert got[(2, "a")] == "weight: must be >= 0, got '-1'"
    assert got[(3, "b")].startswith("weight: must be a valid number")
    assert got[(4, "c")].startswith("metadata: invalid JSON in cell")
    assert got[(5, "d")] == "assert: cell must be a JSON list of checks, got a mapping"
    assert got[(6, None)] == "row has 6 cells but the header has 5"
    assert got[(7, "a")] == "duplicate id 'a' (first used at line 2)"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("id,inptu\n", "unknown column 'inptu'; did you mean 'input'?"),
        ("input,tags\n", "missing required column 'id'"),
        ("id,tags\n", "needs an 'input' column or vars.NAME columns"),
        ("id,input,id\n", "column 'id' appears twice"),
        ("id,input,,tags\n", "column 3 has no name"),
    ],
)
def test_csv_header_errors(tmp_path: Path, header: str, expected: str) -> None:
    issues = _issues(_write(tmp_path, "d.csv", header + "a,b,c,d\n"))
    assert any(expected in i.message and i.line == 1 for i in issues), issues


def test_csv_header_only_is_empty(tmp_path: Path) -> None:
    (issue,) = _issues(_write(tmp_path, "d.csv", "id,input\n"))
    assert issue.message == "dataset has no cases"


# --- files ----------------------------------------------------------------------------


def test_unreadable_inputs_are_dataset_errors(tmp_path: Path) -> None:
    (tmp_path / "bin.jsonl").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "latin.csv").write_bytes("id,input\n1,caf\u00e9\n".encode("latin-1"))
    cases = {
        tmp_path / "missing.yaml": "file not found",
        tmp_path: "is a directory",
        tmp_path / "bin.jsonl": "binary file",
        tmp_path / "latin.csv": "not valid UTF-8",
    }
    for path, expected in cases.items():
        (issue,) = _issues(path)
        assert expected in issue.message


def test_unsupported_suffix(tmp_path: Path) -> None:
    (issue,) = _issues(_write(tmp_path, "d.txt", "hello"))
    assert "unsupported dataset format '.txt'" in issue.message


# --- checks ---------------------------------------------------------------------------


def test_check_asserts_reports_unknown_and_bad_checks(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "d.yaml",
        """\
- id: a
  input: x
  assert:
    - {type: contains, value: x}
    - {type: no-such-check}
- id: b
  input: y
  assert:
    - {type: regex, value: "(("}
""",
    )
    issues = check_asserts(load_dataset(path))
    assert [(i.line, i.case_id, i.field) for i in issues] == [
        (1, "a", "assert[1]"),
        (6, "b", "assert[0]"),
    ]
    assert "unknown check type 'no-such-check'" in issues[0].message
    assert "regex" in issues[1].message


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize(
    "content", ["cases:\n  - {id: a, input: x}\n", "cases:\n  - {id: a, inptu: x}\n", "a: [\n"]
)
def test_loading_leaves_the_garbage_collector_as_it_found_it(
    tmp_path: Path, enabled: bool, content: str
) -> None:
    """Loading pauses the cyclic collector; afterwards (also after an error) it is on
    again only if it was on before."""
    path = tmp_path / "d.yaml"
    path.write_text(content)
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        with contextlib.suppress(DatasetError):
            load_dataset(path)
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
