"""Judge calibration: how well does a judge agree with humans?

Input is a JSONL file of human-labelled answers, one object per line::

    {"id": "q1", "input": "...", "output": "...", "human_score": 0.8,
     "expected_behavior": "...", "reference": "..."}

``score`` or ``label`` may stand for ``human_score`` (in [0, 1]; ``true``/``false`` are
1/0); ``id`` defaults to the line number. The judge check runs on every row and the
report gives Spearman's rank correlation, Cohen's kappa of pass/fail at the threshold,
the mean absolute error and the raw agreement rate, plus the judge model, so that a
later calibration can warn when the judge changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from releasegate.datasets._records import id_problem, json_id_text
from releasegate.datasets.case import Case
from releasegate.errors import DatasetError, Issue, ReportFormatError
from releasegate.evals._scoring import case_sample
from releasegate.llm import ChatProvider, EmbeddingProvider
from releasegate.scorers import (
    AssertSpec,
    ScorerContext,
    ScoreStatus,
    build_scorer,
    score_checked,
)

__all__ = [
    "Agreement",
    "CalibrationReport",
    "CalibrationRow",
    "LabelledCase",
    "agreement",
    "calibration_warnings",
    "load_labels",
    "run_calibration",
]

CALIBRATION_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class LabelledCase:
    """One human-labelled answer."""

    case: Case
    output: str
    human: float


def _human_score(raw: Any) -> float:
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, int | float) and math.isfinite(raw) and 0.0 <= raw <= 1.0:
        return float(raw)
    raise ValueError(f"human score must be a number in [0, 1] or true/false, got {raw!r}")


def load_labels(path: str | Path) -> list[LabelledCase]:
    """Read a labels JSONL file.

    Raises:
        DatasetError: every problem found, each with the file, line and case id.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read labels file: {exc.strerror}", file=str(p)) from exc
    rows: list[LabelledCase] = []
    issues: list[Issue] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            issues.append(Issue(str(p), f"not JSON: {exc.msg}", line=lineno))
            continue
        except (ValueError, RecursionError) as exc:  # nesting, or a huge integer
            issues.append(Issue(str(p), f"not JSON: {exc or type(exc).__name__}", line=lineno))
            continue
        if not isinstance(obj, dict):
            issues.append(Issue(str(p), "each line must be a JSON object", line=lineno))
            continue
        # The id is the text written (1.10 stays 1.10); a non-text id is refused.
        obj.setdefault("id", f"line-{lineno}")
        obj["id"] = json_id_text(line, obj["id"])
        problem = id_problem(obj)
        if problem is not None:
            issues.append(Issue(str(p), problem, lineno, field="id"))
            continue
        case_id: str = obj["id"]
        keys = [k for k in ("human_score", "score", "label") if k in obj]
        missing = [k for k in ("input", "output") if not isinstance(obj.get(k), str)]
        if not keys:
            missing.append("human_score")
        if missing:
            issues.append(
                Issue(str(p), f"missing or non-text {', '.join(missing)}", lineno, case_id)
            )
            continue
        if case_id in seen:
            issues.append(Issue(str(p), "duplicate id", lineno, case_id, field="id"))
            continue
        seen.add(case_id)
        try:
            human = _human_score(obj[keys[0]])
            case = Case(
                id=case_id,
                input=obj["input"],
                expected_behavior=obj.get("expected_behavior") or obj.get("rubric"),
                reference=obj.get("reference"),
                context=obj.get("context"),
                source=str(p),
                line=lineno,
            )
        except (ValueError, ValidationError) as exc:
            msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            issues.append(Issue(str(p), msg, lineno, case_id))
            continue
        rows.append(LabelledCase(case=case, output=obj["output"], human=human))
    if not issues and not rows:
        issues.append(Issue(str(p), "no labelled cases"))
    if issues:
        raise DatasetError(issues)
    return rows


@dataclass(frozen=True, slots=True)
class Agreement:
    """Judge-human agreement over the measured rows (``None`` when undefined)."""

    n: int
    spearman: float | None
    cohen_kappa: float | None
    mae: float | None
    accuracy: float | None


def agreement(human: list[float], judge: list[float], threshold: float) -> Agreement:
    """Spearman's rho, Cohen's kappa on pass/fail at ``threshold``, MAE and accuracy."""
    if len(human) != len(judge):
        raise ValueError("human and judge scores differ in length")
    n = len(human)
    if n == 0:
        return Agreement(0, None, None, None, None)
    mae = sum(abs(h - j) for h, j in zip(human, judge, strict=True)) / n
    hp = [h >= threshold for h in human]
    jp = [j >= threshold for j in judge]
    p_o = sum(a == b for a, b in zip(hp, jp, strict=True)) / n
    p_h, p_j = sum(hp) / n, sum(jp) / n
    p_e = p_h * p_j + (1 - p_h) * (1 - p_j)
    # Kappa is undefined when chance agreement is certain (both raters use one class).
    kappa = None if math.isclose(p_e, 1.0) else (p_o - p_e) / (1 - p_e)
    rho: float | None = None
    # Rank correlation needs variation on both sides; scipy would warn and return NaN.
    if n >= 3 and len(set(human)) > 1 and len(set(judge)) > 1:
        from scipy.stats import spearmanr

        value = float(spearmanr(human, judge).statistic)
        rho = value if math.isfinite(value) else None
    return Agreement(n, rho, kappa, mae, p_o)


class CalibrationRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    human: float
    judge: float | None
    status: str
    reason: str = ""


class CalibrationReport(BaseModel):
    """The result of ``releasegate judge calibrate`` (JSON, versioned)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = CALIBRATION_SCHEMA_VERSION
    created_at: str
    labels_file: str
    labels_hash: str
    check: str
    check_options: dict[str, Any] = Field(default_factory=dict)
    judge_model: str | None
    judge_provider: str | None
    threshold: float
    n_cases: int
    n_measured: int
    n_unmeasured: int
    n_not_applicable: int
    spearman: float | None
    cohen_kappa: float | None
    mae: float | None
    accuracy: float | None
    judge_tokens: int
    judge_cost_usd: float
    rows: list[CalibrationRow]

    def write(self, path: str | Path) -> None:
        Path(path).write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> CalibrationReport:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            if data.get("schema_version") != CALIBRATION_SCHEMA_VERSION:
                raise ReportFormatError(f"{p}: not a calibration report of a known version")
            return cls.model_validate(data)
        except (OSError, json.JSONDecodeError, AttributeError, ValidationError) as exc:
            raise ReportFormatError(f"{p}: cannot read calibration report: {exc}") from exc


def _labels_hash(rows: list[LabelledCase]) -> str:
    h = hashlib.sha256()
    for r in rows:
        h.update(json.dumps([r.case.id, r.case.input, r.output, r.human]).encode())
    return h.hexdigest()[:16]


async def run_calibration(
    rows: list[LabelledCase],
    judge: ChatProvider,
    *,
    labels_file: str,
    check: str = "llm-judge",
    options: dict[str, Any] | None = None,
    threshold: float = 0.5,
    embedder: EmbeddingProvider | None = None,
    concurrency: int = 4,
) -> CalibrationReport:
    """Run the judge check over labelled rows and measure agreement with the humans.

    Raises:
        ConfigError: the check cannot be built (unknown type, bad options, no judge).
    """
    opts = dict(options or {})
    spec = AssertSpec(type=check, threshold=threshold, **opts)
    scorer = build_scorer(spec, ScorerContext(judge=judge, embedder=embedder), where=labels_file)
    sem = asyncio.Semaphore(concurrency)

    async def one(row: LabelledCase) -> Any:
        async with sem:
            return await score_checked(scorer, case_sample(row.case, row.output))

    scores = await asyncio.gather(*(one(r) for r in rows))
    out_rows: list[CalibrationRow] = []
    human: list[float] = []
    judged: list[float] = []
    tokens = 0
    cost = 0.0
    for row, s in zip(rows, scores, strict=True):
        if s.usage is not None:
            tokens += s.usage.total_tokens
        cost += s.cost_usd or 0.0
        out_rows.append(
            CalibrationRow(
                id=row.case.id, human=row.human, judge=s.value, status=str(s.status),
                reason=s.reason,
            )
        )  # fmt: skip
        if s.status is ScoreStatus.MEASURED and s.value is not None:
            human.append(row.human)
            judged.append(s.value)
    agree = agreement(human, judged, threshold)
    statuses = [r.status for r in out_rows]
    return CalibrationReport(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        labels_file=labels_file,
        labels_hash=_labels_hash(rows),
        check=check,
        check_options=opts,
        judge_model=judge.model,
        judge_provider=judge.type or None,
        threshold=threshold,
        n_cases=len(rows),
        n_measured=agree.n,
        n_unmeasured=statuses.count(str(ScoreStatus.UNMEASURED)),
        n_not_applicable=statuses.count(str(ScoreStatus.NOT_APPLICABLE)),
        spearman=agree.spearman,
        cohen_kappa=agree.cohen_kappa,
        mae=agree.mae,
        accuracy=agree.accuracy,
        judge_tokens=tokens,
        judge_cost_usd=cost,
        rows=out_rows,
    )


def calibration_warnings(head: CalibrationReport, baseline: CalibrationReport) -> list[str]:
    """What changed between two calibrations that makes their numbers incomparable, and
    how much agreement moved."""
    warnings: list[str] = []
    if head.judge_model != baseline.judge_model:
        warnings.append(
            f"the judge changed: {baseline.judge_model!r} -> {head.judge_model!r}; "
            "re-check agreement before trusting scores across this change"
        )
    if head.check != baseline.check or head.check_options != baseline.check_options:
        warnings.append(
            f"the judge check or its options changed ({baseline.check} -> {head.check})"
        )
    if head.labels_hash != baseline.labels_hash:
        warnings.append("the labelled cases differ from the baseline's")
    if head.threshold != baseline.threshold:
        warnings.append(f"threshold changed: {baseline.threshold:g} -> {head.threshold:g}")
    for name in ("spearman", "cohen_kappa"):
        a, b = getattr(baseline, name), getattr(head, name)
        if a is not None and b is not None and b < a - 0.1:
            warnings.append(f"{name} dropped from {a:.2f} to {b:.2f}")
    return warnings
