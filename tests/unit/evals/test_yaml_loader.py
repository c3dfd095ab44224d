"""The line-tracking YAML loader and pydantic-error conversion."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from releasegate._yaml import (
    display_path,
    format_loc,
    load_yaml,
    load_yaml_file,
    read_user_bytes,
    validation_issues,
)
from releasegate.errors import ConfigError, DatasetError


def test_records_lines_of_keys_and_items() -> None:
    doc = load_yaml("a:\n  b: 1\n  c:\n    - x\n    - y: 2\n", "f.yaml")
    assert doc.data == {"a": {"b": 1, "c": ["x", {"y": 2}]}}
    assert doc.line_at(("a",)) == 1
    assert doc.line_at(("a", "b")) == 2
    assert doc.line_at(("a", "c", 0)) == 4
    assert doc.line_at(("a", "c", 1, "y")) == 5
    # Unknown tails fall back to the deepest known prefix.
    assert doc.line_at(("a", "c", 1, "y", "str")) == 5
    assert doc.line_at(("a", "missing")) == 1


def test_duplicate_key_is_an_error_naming_both_lines() -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    (issue,) = info.value.issues
    assert issue.line == 3
    assert "duplicate key 'a'" in issue.message
    assert "line 1" in issue.message


def test_merge_keys_may_be_overridden_without_duplicate_error() -> None:
    doc = load_yaml("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  x: 5\n", "f.yaml")
    assert doc.data["item"] == {"x": 5, "y": 2}


def test_syntax_error_has_line_and_column() -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml("a: 1\nb: c: d\n", "f.yaml")
    (issue,) = info.value.issues
    assert issue.file == "f.yaml"
    assert issue.line == 2
    assert "column" in issue.message
    assert "mapping values are not allowed" in issue.message


def test_error_class_is_chosen_by_caller() -> None:
    with pytest.raises(DatasetError):
        load_yaml("[", "d.yaml", DatasetError)


@pytest.mark.parametrize(
    "text",
    [
        "x: !!python/object/apply:os.system ['true']",
        "&a [*a]",
        'a: "\x01"',
        "[" * 5000 + "]" * 5000,
        "- " * 5000 + "x",
    ],
)
def test_hostile_documents_raise_config_error(text: str) -> None:
    with pytest.raises(ConfigError):
        load_yaml(text, "f.yaml")


def test_alias_expansion_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(ConfigError, match="expands to more than"):
        load_yaml("\n".join(lines), "bomb.yaml")


def test_empty_document_is_none() -> None:
    assert load_yaml("# only a comment\n", "f.yaml").data is None


def test_read_user_bytes_rejects_bad_files(tmp_path: Path) -> None:
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"a: 1\n\x00\x01")
    latin = tmp_path / "l.yaml"
    latin.write_bytes("a: 1\nb: caf\u00e9\n".encode("latin-1"))
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfa: 1\n")
    cases = {
        binary: "binary file",
        latin: "not valid UTF-8",
        tmp_path: "is a directory",
        tmp_path / "missing.yaml": "file not found",
    }
    for path, expected in cases.items():
        with pytest.raises(ConfigError) as info:
            read_user_bytes(path)
        assert expected in str(info.value)
    with pytest.raises(ConfigError) as info:
        read_user_bytes(latin)
    assert info.value.issues[0].line == 2
    raw, text = read_user_bytes(bom)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert text == "a: 1\n"
    assert load_yaml_file(bom).data == {"a": 1}


def test_format_loc() -> None:
    assert format_loc(("suites", "pr", "gate", "min_score")) == "suites.pr.gate.min_score"
    assert format_loc(("assert", 0, "weight")) == "assert[0].weight"
    assert format_loc(("providers", "my model", "x")) == "providers['my model'].x"


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_score: float = Field(default=0.0, ge=0, le=1)


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    inner: dict[str, _Inner] = Field(default_factory=dict)
    text: str | list[str] = ""


def test_validation_issues_have_lines_paths_and_suggestions() -> None:
    text = "name: x\ninner:\n  pr:\n    min_scor: 1\n  ci:\n    min_score: 2\ntext: 5\n"
    doc = load_yaml(text, "c.yaml")
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate(doc.data)
    issues = validation_issues(info.value, file="c.yaml", data=doc.data, doc=doc, model=_Outer)
    by_line = {i.line: i.message for i in issues}
    assert by_line[4] == "inner.pr.min_scor: unknown field; did you mean 'min_score'?"
    assert by_line[6] == "inner.ci.min_score: must be <= 1, got 2"
    # The union's two member errors are merged into one issue on the field itself.
    assert by_line[7].startswith("text: must be a valid string or must be a valid list")
    assert by_line[7].endswith("got 5")
    assert len(issues) == 3


def test_validation_issue_for_missing_field() -> None:
    doc = load_yaml("inner: {}\n", "c.yaml")
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate(doc.data)
    (issue,) = validation_issues(info.value, file="c.yaml", data=doc.data, doc=doc)
    assert issue.message == "name: required field is missing"
    assert issue.line == 1


def test_display_path_is_relative_below_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "a" / "b.yaml") == str(Path("a") / "b.yaml")
    assert display_path("rel.yaml") == "rel.yaml"
