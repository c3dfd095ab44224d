"""``releasegate eval`` end to end: weight 0 is reported and never gates, in every output."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

_CONFIG = """\
version: 1
prompts: prompts/
suites:
  s:
    dataset: data.yaml
    prompt: p
    target: fake
    gate:
      min_pass_rate: 1.0
providers:
  fake:
    type: scripted
    model: gpt-4o-2024-11-20
    responses:
      ok: "yes"
      info-check: "yes"
      info-case: "yes"
      bad: "no"
"""

_PROMPT = """\
name: p
version: 1.0.0
model: gpt-4o-2024-11-20
template: "{{ input }}"
"""

_CASES = {
    "ok": "  assert: [{type: contains, value: 'yes'}]\n",
    # the only check has weight 0 and fails: informational
    "info-check": "  assert: [{type: contains, value: absent, weight: 0}]\n",
    # the case has weight 0 and fails: informational
    "info-case": "  weight: 0\n  assert: [{type: contains, value: absent}]\n",
    "bad": "  assert: [{type: contains, value: 'yes'}, {type: contains, value: 'no', weight: 0}]\n",
}


def _project(tmp_path: Path, ids: list[str]) -> Path:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "p.yaml").write_text(_PROMPT, encoding="utf-8")
    (tmp_path / "releasegate.yaml").write_text(_CONFIG, encoding="utf-8")
    cases = "".join(f"- id: {i}\n  input: q-{i}\n  tags: [t]\n{_CASES[i]}" for i in ids)
    (tmp_path / "data.yaml").write_text(cases, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("ids", "exit_code", "n_passed", "n_failed", "n_informational"),
    [
        (["ok", "info-check"], 0, 1, 0, 1),
        (["ok", "info-check", "info-case"], 0, 1, 0, 2),
        (["info-check", "bad"], 1, 0, 1, 1),
        (["ok", "bad", "info-case"], 1, 1, 1, 1),
    ],
)
def test_eval_outputs_agree_on_weight_zero(
    tmp_path: Path,
    ids: list[str],
    exit_code: int,
    n_passed: int,
    n_failed: int,
    n_informational: int,
) -> None:
    root = _project(tmp_path, ids)
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "releasegate",
            "eval",
            "--suite",
            "s",
            "--output",
            "out/r.json",
            "--junit",
            "out/r.xml",
            "--markdown",
            "out/r.md",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == exit_code, res.stdout + res.stderr
    assert f"({n_passed} passed, {n_failed} failed)" in res.stdout
    summary = json.loads((root / "out/r.json").read_text(encoding="utf-8"))["summary"]
    assert (summary["n_passed"], summary["n_failed"]) == (n_passed, n_failed)
    assert summary["n_informational"] == n_informational
    assert summary["by_tag"]["t"]["n"] == n_passed + n_failed
    suite = ET.parse(root / "out/r.xml").getroot().find("testsuite")
    assert suite is not None
    assert suite.get("failures") == str(n_failed)
    assert suite.get("skipped") == str(n_informational)
    for tc in suite.iter("testcase"):
        if tc.get("name", "").startswith("info"):
            assert tc.find("failure") is None
            skipped = tc.find("skipped")
            assert skipped is not None and "informational" in skipped.get("message", "")
    md = (root / "out/r.md").read_text(encoding="utf-8")
    assert f"({n_passed}/{n_passed + n_failed})" in md
    if n_failed:
        assert f"Worst failing cases ({n_failed} of {n_failed})" in md
    else:
        assert "Worst failing cases" not in md
