from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from releasegate.cli import app
from releasegate.errors import DatasetError
from releasegate.evals.calibrate import (
    CalibrationReport,
    agreement,
    calibration_warnings,
    load_labels,
    run_calibration,
)
from releasegate.llm import ChatRequest

from ._fakes import ScriptedJudge


def test_agreement_hand_computed() -> None:
    human = [1.0, 0.9, 0.2, 0.0, 0.6]
    judge = [0.8, 1.0, 0.4, 0.1, 0.3]
    a = agreement(human, judge, 0.5)
    assert a.n == 5
    assert a.mae == pytest.approx((0.2 + 0.1 + 0.2 + 0.1 + 0.3) / 5)
    # pass/fail: human PPFFP, judge PPFFF -> p_o = 4/5, p_e = 3/5*2/5 + 2/5*3/5 = 12/25
    assert a.accuracy == pytest.approx(0.8)
    assert a.cohen_kappa == pytest.approx((0.8 - 12 / 25) / (1 - 12 / 25))
    # ranks human [5,4,2,1,3], judge [4,5,3,1,2]: d^2 = 1+1+1+0+1 = 4 -> 1 - 6*4/(5*24)
    assert a.spearman == pytest.approx(1 - 6 * 4 / (5 * 24))


def test_agreement_undefined_cases() -> None:
    a = agreement([1.0, 1.0, 1.0], [0.9, 0.8, 0.7], 0.5)
    assert a.cohen_kappa is None  # both raters say "pass" for everything
    assert a.spearman is None  # human scores are constant
    assert agreement([], [], 0.5).n == 0


def _write(tmp_path: Path, rows: list[object]) -> Path:
    p = tmp_path / "labels.jsonl"
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return p


def test_load_labels_reports_every_problem_with_line_and_id(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        [
            {"id": "a", "input": "q", "output": "o", "human_score": 1},
            "not json",
            {"id": "b", "input": "q", "human_score": 1},
            {"id": "c", "input": "q", "output": "o", "human_score": 1.5},
            {"id": "a", "input": "q", "output": "o", "score": 0},
        ],
    )
    with pytest.raises(DatasetError) as info:
        load_labels(p)
    text = str(info.value)
    assert ":2: not JSON" in text
    assert ":3: case 'b': missing or non-text output" in text
    assert ":4: case 'c'" in text and "[0, 1]" in text
    assert ":5: case 'a'" in text and "duplicate" in text


def test_load_labels_accepts_aliases(tmp_path: Path) -> None:
    p = _write(tmp_path, [{"input": "q", "output": "o", "label": True, "rubric": "R"}])
    (row,) = load_labels(p)
    assert row.human == 1.0 and row.case.id == "line-1" and row.case.expected_behavior == "R"


def _judge_by_answer(scores: dict[str, float | str]) -> ScriptedJudge:
    def script(req: ChatRequest) -> str:
        text = str(req.messages[-1]["content"])
        for answer, score in scores.items():
            if f"\n{answer}\n" in text:
                return (
                    score if isinstance(score, str) else json.dumps({"reason": "", "score": score})
                )
        return "?"

    return ScriptedJudge(script)


async def test_run_calibration(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        [
            {"id": "1", "input": "q", "output": "A1", "human_score": 1.0},
            {"id": "2", "input": "q", "output": "A2", "human_score": 0.0},
            {"id": "3", "input": "q", "output": "A3", "human_score": 0.7},
            {"id": "4", "input": "q", "output": "A4", "human_score": 0.2},
        ],
    )
    judge = _judge_by_answer({"A1": 0.9, "A2": 0.1, "A3": 0.6, "A4": "unparseable"})
    report = await run_calibration(
        load_labels(p), judge, labels_file=str(p), options={"rubric": "Be right."}
    )
    assert report.judge_model == "judge-model-2024-01-01"
    assert (report.n_cases, report.n_measured, report.n_unmeasured) == (4, 3, 1)
    assert report.mae == pytest.approx((0.1 + 0.1 + 0.1) / 3)
    assert report.cohen_kappa == pytest.approx(1.0)
    assert report.spearman == pytest.approx(1.0)
    assert report.judge_tokens == 4 * 110
    out = tmp_path / "cal.json"
    report.write(out)
    again = CalibrationReport.load(out)
    assert again == report
    changed = again.model_copy(update={"judge_model": "other-judge", "cohen_kappa": 0.5})
    warnings = calibration_warnings(changed, report)
    assert any("judge changed" in w for w in warnings)
    assert any("cohen_kappa dropped" in w for w in warnings)
    assert calibration_warnings(report, again) == []


def test_cli_calibrate_with_scripted_judge(tmp_path: Path) -> None:
    labels = _write(
        tmp_path,
        [
            {"id": "good", "input": "q", "output": "fine", "human_score": 1.0},
            {"id": "bad", "input": "q", "output": "poor", "human_score": 0.0},
            {"id": "mid", "input": "q", "output": "ok", "human_score": 0.6},
        ],
    )
    responses = {
        "good": '{"reason": "ok", "score": 0.9}',
        "bad": '{"reason": "no", "score": 0.2}',
        "mid": '{"reason": "meh", "score": 0.7}',
    }
    (tmp_path / "releasegate.yaml").write_text(
        json.dumps(
            {
                "version": 1,
                "providers": {
                    "target": {"type": "scripted", "model": "t-1"},
                    "grader": {"type": "scripted", "model": "grader-2024", "responses": responses},
                },
                "suites": {"pr": {"dataset": "d.yaml", "judge": "grader"}},
                "cache": {"enabled": False},
            }
        )
    )
    out = tmp_path / "cal.json"
    result = CliRunner().invoke(
        app,
        [
            "judge",
            "calibrate",
            "--labels",
            str(labels),
            "-c",
            str(tmp_path / "releasegate.yaml"),
            "--rubric",
            "Be helpful.",
            "-o",
            str(out),
            "--min-kappa",
            "0.5",
        ],
    )
    assert result.exit_code == 0, result.output
    report = CalibrationReport.load(out)
    assert report.judge_model == "grader-2024"
    assert report.cohen_kappa == pytest.approx(1.0)
    assert "Spearman" in result.output

    bad = CliRunner().invoke(
        app,
        [
            "judge",
            "calibrate",
            "--labels",
            str(tmp_path / "missing.jsonl"),
            "-c",
            str(tmp_path / "releasegate.yaml"),
        ],
    )
    assert bad.exit_code == 2
    assert "missing.jsonl" in bad.output
