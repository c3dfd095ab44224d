"""write_outputs: the files `releasegate eval` writes, and the package's public names."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import releasegate.reports as reports
from releasegate.errors import UsageError
from releasegate.reports import check_output_paths, write_outputs
from releasegate.results.report import EvalReport


def test_public_names() -> None:
    assert sorted(reports.__all__) == [
        "check_output_paths",
        "render_html",
        "render_junit",
        "render_markdown",
        "render_terminal",
        "write_outputs",
    ]


def test_writes_every_format_into_new_directories(mixed: EvalReport, tmp_path: Path) -> None:
    paths = write_outputs(
        mixed,
        json_path=tmp_path / "out" / "report.json",
        junit_path=tmp_path / "out" / "junit" / "results.xml",
        markdown_path=tmp_path / "summary.md",
        html_path=str(tmp_path / "deep" / "er" / "report.html"),
    )
    assert [p.name for p in paths] == ["report.json", "results.xml", "summary.md", "report.html"]
    assert EvalReport.load(tmp_path / "out" / "report.json") == mixed
    root = ET.parse(tmp_path / "out" / "junit" / "results.xml").getroot()
    assert root.tag == "testsuites"
    md = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert md.startswith("<!-- releasegate-report suite=pr -->")
    html = (tmp_path / "deep" / "er" / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")


def test_writes_only_what_was_asked(hostile: EvalReport, tmp_path: Path) -> None:
    assert write_outputs(hostile) == []
    paths = write_outputs(hostile, junit_path=tmp_path / "j.xml")
    assert paths == [tmp_path / "j.xml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.xml"]
    # Outputs with NUL and lone surrogates still produce valid UTF-8 files.
    (tmp_path / "j.xml").read_bytes().decode("utf-8")
    ET.parse(tmp_path / "j.xml")


def test_json_round_trip_keeps_hostile_text(hostile: EvalReport, tmp_path: Path) -> None:
    write_outputs(hostile, json_path=tmp_path / "r.json")
    assert EvalReport.load(tmp_path / "r.json").cases[0].output == hostile.cases[0].output


@pytest.mark.parametrize("kind", ["json_path", "junit_path", "markdown_path", "html_path"])
def test_a_folder_in_the_way_is_a_usage_error(mixed: EvalReport, tmp_path: Path, kind: str) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(UsageError, match=r"cannot write the report .*taken"):
        write_outputs(mixed, **{kind: tmp_path / "taken"})


@pytest.mark.parametrize("name", ["a.json", "x/y/z.xml", "new folder/report.md"])
def test_check_creates_missing_folders_and_leaves_no_file(tmp_path: Path, name: str) -> None:
    checked = check_output_paths({"--output": str(tmp_path / name), "--html": None})
    assert checked == {"--output": tmp_path / name}
    assert (tmp_path / name).parent.is_dir()
    assert not (tmp_path / name).exists()


def test_check_keeps_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text("keep")
    check_output_paths({"--output": tmp_path / "r.json"})
    assert (tmp_path / "r.json").read_text() == "keep"
