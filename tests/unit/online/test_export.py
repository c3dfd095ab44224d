"""Production interactions exported as dataset cases: matching, provenance, no duplicates."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from releasegate.canary.records import OVERALL
from releasegate.datasets import load_dataset
from releasegate.errors import UsageError
from releasegate.online import FeedbackService, RecordingService
from releasegate.online.export import EXPORT_HEADER, case_id, export_cases, write_cases
from releasegate.ports import StoredScore
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def rec(rid: str, text: str | None = "where is my order?", **extra: Any) -> dict[str, Any]:
    prompt = [{"role": "system", "content": "be brief"}]
    if text is not None:
        prompt.append({"role": "user", "content": text})
    return {"feature": "chat", "request_id": rid, "prompt": prompt, "response": "ok", **extra}


CALLS = [{"id": "c1", "type": "function", "function": {"name": "track", "arguments": "{}"}}]


@pytest.fixture
def data() -> MemoryData:
    data = MemoryData()
    RecordingService(InMemoryUnitOfWork(data), clock=lambda: T0).record_json(
        {
            "records": [
                rec("ok-1"),
                rec("err-1", error="upstream timeout", response=None, version="v2"),
                rec("bad-1", context=["policy: 30 days"], version="v1", tool_calls=CALLS),
                rec("sess-1", session_id="s-9", version="v1"),
                rec("quiet-1", text=None, error="boom"),
                rec("shadow-1", error="boom", shadow=True),
                rec(
                    "parts-1",
                    text=None,
                    prompt=[
                        {
                            "role": "user",
                            "content": [
                                {"type": "text", "text": "first"},
                                {"type": "text", "text": "second"},
                            ],
                        }
                    ],
                    error="x",
                ),
                rec("other-1", feature="search", error="boom"),
            ]
        }
    )
    fb = FeedbackService(InMemoryUnitOfWork(data), clock=lambda: T0)
    fb.give_json({"request_id": "bad-1", "rating": "down", "comment": "wrong policy"})
    fb.give_json({"request_id": "ok-1", "rating": 5})
    fb.give_json({"session_id": "s-9", "rating": 1})
    return data


def ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["metadata"]["request_id"] for c in cases]


def test_errors_and_negative_feedback_by_request_or_session(data: MemoryData) -> None:
    cases, without = export_cases(InMemoryUnitOfWork(data), "chat")
    assert ids(cases) == ["err-1", "bad-1", "sess-1", "parts-1"]
    assert without == 1  # quiet-1 had no user text; shadow and other features never match
    by = {c["metadata"]["request_id"]: c for c in cases}
    assert by["err-1"]["tags"] == ["production", "error"]
    assert by["err-1"]["metadata"]["error"] == "upstream timeout"
    bad = by["bad-1"]
    assert bad["id"] == case_id("bad-1") and bad["input"] == "where is my order?"
    assert bad["context"] == ["policy: 30 days"]
    assert bad["tags"] == ["production", "negative-feedback"]
    assert bad["metadata"]["production_output"] == "ok"
    assert bad["metadata"]["production_tool_calls"] == CALLS
    assert "production_tool_calls" not in by["err-1"]["metadata"]
    assert bad["metadata"]["feedback"] == [
        {"rating": 0.0, "scale": "thumbs", "comment": "wrong policy"}
    ]
    assert by["sess-1"]["tags"] == ["production", "negative-feedback"]
    assert by["parts-1"]["input"] == "first\nsecond"


@pytest.mark.parametrize(
    ("where", "version", "expected"),
    [
        (["error"], None, ["err-1", "parts-1"]),
        (["negative-feedback"], None, ["bad-1", "sess-1"]),
        (["negative-feedback"], "v1", ["bad-1", "sess-1"]),
        (["error", "negative-feedback"], "v2", ["err-1"]),
    ],
)
def test_filters(data: MemoryData, where: Any, version: str | None, expected: list[str]) -> None:
    cases, _ = export_cases(InMemoryUnitOfWork(data), "chat", where=where, version=version)
    assert ids(cases) == expected


@pytest.mark.parametrize("where", [["low"], [], ["error", "nope"]])
def test_unknown_filters_are_refused(data: MemoryData, where: Any) -> None:
    with pytest.raises(
        UsageError, match="--where must be one of negative-feedback, error, low-score"
    ):
        export_cases(InMemoryUnitOfWork(data), "chat", where=where)


@pytest.mark.parametrize("suffix", [".jsonl", ".yaml", ".yml"])
def test_a_second_export_adds_only_new_cases_and_the_file_stays_a_dataset(
    data: MemoryData, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / "sub" / f"prod{suffix}"
    cases, _ = export_cases(InMemoryUnitOfWork(data), "chat", where=["error"])
    first = write_cases(out, cases)
    assert (first.added, first.already) == (2, 0)
    cases, _ = export_cases(InMemoryUnitOfWork(data), "chat")
    second = write_cases(out, cases)
    assert (second.added, second.already) == (2, 2)
    loaded = load_dataset(out)
    assert [c.id for c in loaded.cases] == [
        case_id(r) for r in ("err-1", "parts-1", "bad-1", "sess-1")
    ]
    assert loaded.cases[2].metadata["feedback"][0]["comment"] == "wrong policy"
    again = write_cases(out, cases)
    assert again.added == 0 and len(load_dataset(out).cases) == 4
    if suffix != ".jsonl":
        assert out.read_text().startswith(EXPORT_HEADER + "\n")
        assert yaml.safe_load(out.read_text())["cases"][0]["tags"] == ["production", "error"]
    else:
        assert all(json.loads(line)["id"] for line in out.read_text().splitlines())


def test_a_yaml_file_the_export_did_not_write_is_never_rewritten(
    data: MemoryData, tmp_path: Path
) -> None:
    mine = tmp_path / "golden.yaml"
    text = "# my comments\ncases:\n  - id: a\n    input: hi\n"
    mine.write_text(text)
    cases, _ = export_cases(InMemoryUnitOfWork(data), "chat")
    with pytest.raises(UsageError, match="not a file written by `releasegate dataset export`"):
        write_cases(mine, cases)
    assert mine.read_text() == text
    with pytest.raises(UsageError, match=r"\.jsonl, \.yaml or \.yml"):
        write_cases(tmp_path / "x.csv", cases)


def test_low_scores_are_exported_with_their_score(data: MemoryData) -> None:
    uow = InMemoryUnitOfWork(data)
    with uow:
        ids_by_rid = {i.request_id: i.id for i in uow.interactions.for_feature("chat", limit=100)}
        for rid, value in (("ok-1", 0.2), ("bad-1", 0.9), ("sess-1", None)):
            uow.scores.add(
                StoredScore(
                    ids_by_rid[rid], OVERALL, value, "measured" if value else "unmeasured", T0
                )
            )
        uow.commit()
    cases, _ = export_cases(InMemoryUnitOfWork(data), "chat", where=["low-score"])
    assert ids(cases) == ["ok-1"]
    assert cases[0]["tags"] == ["production", "low-score"]
    assert cases[0]["metadata"]["online_score"] == 0.2
    cases, _ = export_cases(InMemoryUnitOfWork(data), "chat", where=["low-score"], below=0.95)
    assert ids(cases) == ["ok-1", "bad-1"]
    with pytest.raises(UsageError, match="--below must be a score from 0 to 1"):
        export_cases(InMemoryUnitOfWork(data), "chat", below=1.5)
