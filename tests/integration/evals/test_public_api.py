"""The documented Python API: load_dataset, run_eval, arun_eval, report.to_json()."""

from __future__ import annotations

import json
from pathlib import Path

import releasegate

QUICKSTART = Path(__file__).resolve().parents[3] / "examples" / "quickstart"


def test_load_dataset_of_quickstart() -> None:
    ds = releasegate.load_dataset(QUICKSTART / "datasets" / "pr.yaml")
    assert len(ds.cases) >= 20
    assert len({c.id for c in ds.cases}) == len(ds.cases)


def test_run_eval_sync_on_quickstart(tmp_path: Path) -> None:
    project = releasegate.load_project(QUICKSTART / "releasegate.yaml")
    report = releasegate.run_eval(
        project, "pr", use_cache=True, cache_path=str(tmp_path / "cache.sqlite")
    )
    assert report.passed
    data = json.loads(report.to_json())
    assert data["summary"]["n_cases"] == len(report.cases) >= 20
    bad = releasegate.run_eval(project, "pr-candidate", use_cache=False)
    assert not bad.passed and bad.gate is not None
    failed_rules = {r.rule for r in bad.gate.rules if not r.passed}
    assert "min_score" in failed_rules


async def test_arun_eval_and_surrogates_survive_json(tmp_path: Path) -> None:
    project = releasegate.load_project(QUICKSTART / "releasegate.yaml")
    report = await releasegate.arun_eval(project, "pr", use_cache=False)
    case = report.cases[0].model_copy(update={"output": "bad \ud800 text"})
    patched = report.model_copy(update={"cases": [case]})
    text = releasegate.EvalReport.model_validate(patched.model_dump()).to_json()
    assert "\\ufffd" in text or "\ufffd" in text
