"""A check is named by its position in the case's own ``assert`` list, or as
``defaults.assert[i]`` when it came from the dataset's defaults: in validate errors, eval
errors and report check labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from releasegate.cli import app
from releasegate.datasets.dataset import load_dataset

CONFIG = """\
version: 1
providers:
  t: {type: scripted, model: m-1, default: "hello world"}
suites:
  pr: {dataset: pr.yaml, target: t}
"""


def _project(root: Path, dataset: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "releasegate.yaml").write_text(CONFIG)
    (root / "pr.yaml").write_text(dataset)
    return root / "releasegate.yaml"


def _defaults(n: int, *, bad_at: int | None = None) -> str:
    items = [
        "  - {type: no-such-check}" if i == bad_at else "  - {type: contains, value: hello}"
        for i in range(n)
    ]
    return "defaults:\n  assert:\n" + "\n".join(items) + "\n" if n else ""


@pytest.mark.parametrize("n_defaults", [0, 1, 2, 3])
@pytest.mark.parametrize("own_bad", [0, 1])
def test_a_bad_own_check_is_counted_in_the_case_list(
    tmp_path: Path, n_defaults: int, own_bad: int
) -> None:
    own = ["    - {type: contains, value: world}", "    - {type: contains, value: world}"]
    own[own_bad] = "    - {type: no-such-check}"
    dataset = _defaults(n_defaults) + "cases:\n  - id: c1\n    input: hi\n    assert:\n"
    cfg = _project(tmp_path / "p", dataset + "\n".join(own) + "\n")
    runner = CliRunner()
    for args in (["validate", "-c", str(cfg)], ["eval", "-c", str(cfg), "--suite", "pr"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert f"assert[{own_bad}]" in res.output, res.output
        assert "defaults.assert" not in res.output
        if n_defaults:
            assert f"assert[{own_bad + n_defaults}]" not in res.output


@pytest.mark.parametrize(("n_defaults", "bad_at"), [(1, 0), (2, 1), (3, 2)])
def test_a_check_from_the_defaults_says_so(tmp_path: Path, n_defaults: int, bad_at: int) -> None:
    dataset = _defaults(n_defaults, bad_at=bad_at) + (
        "cases:\n  - id: c1\n    input: hi\n    assert:\n    - {type: contains, value: world}\n"
    )
    cfg = _project(tmp_path / "p", dataset)
    res = CliRunner().invoke(app, ["validate", "-c", str(cfg)])
    assert res.exit_code == 2 and f"defaults.assert[{bad_at}]" in res.output, res.output


@pytest.mark.parametrize("n_defaults", [0, 2])
def test_report_check_labels(tmp_path: Path, n_defaults: int) -> None:
    dataset = _defaults(n_defaults) + (
        "cases:\n  - id: c1\n    input: hi\n    assert:\n"
        "    - {type: contains, value: world}\n"
        "    - {type: contains, value: absent, threshold: 1}\n"
    )
    cfg = _project(tmp_path / "p", dataset)
    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    res = CliRunner().invoke(
        app, ["eval", "-c", str(cfg), "--suite", "pr", "-o", str(out), "--markdown", str(md)]
    )
    assert res.exit_code == 1, res.output
    labels = [c["label"] for c in json.loads(out.read_text())["cases"][0]["checks"]]
    defaults = [f"defaults.assert[{i}]" for i in range(n_defaults)]
    assert labels == [*defaults, "assert[0]", "assert[1]"]
    # The failing check is named by its own position in every human format.
    assert "contains (assert[1])" in md.read_text()
    assert "contains (assert[1])" in " ".join(res.output.split())


def test_the_loader_field_cannot_be_set_by_a_file(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("cases:\n  - id: a\n    input: x\n    default_asserts: 3\n")
    from releasegate.errors import DatasetError

    with pytest.raises(DatasetError, match="reserved"):
        load_dataset(path)
