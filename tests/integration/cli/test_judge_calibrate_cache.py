"""``releasegate judge calibrate`` writes its judge's answers to the response cache: a
second run over the same labels is answered from the cache and sends the model server
nothing. The judge is an ``openai`` provider talking to a real local HTTP server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from releasegate.cli import app
from tests.support.openai_server import FakeOpenAIServer

ROWS = [
    ("What is the refund window?", "30 days from delivery.", 1.0),
    ("Do you ship abroad?", "We only ship to Mars.", 0.0),
    ("Hello", "Hello! How can I help?", 0.8),
]


def _project(root: Path, base_url: str, *, cache: bool = True) -> Path:
    config = root / "releasegate.yaml"
    config.write_text(
        "providers:\n"
        "  judge:\n"
        "    type: openai\n"
        f"    base_url: {base_url}\n"
        "    model: judge-model-2025-01-01\n"
        "    concurrency: 1\n"
        "    max_retries: 0\n"
        f"cache: {{enabled: {'true' if cache else 'false'}, path: cache/responses.sqlite}}\n"
    )
    (root / "labels.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "id": f"row{i}",
                    "input": question,
                    "output": answer,
                    "human_score": score,
                    "expected_behavior": "answers the question truthfully",
                }
            )
            + "\n"
            for i, (question, answer, score) in enumerate(ROWS)
        )
    )
    return config


def _calibrate(root: Path, config: Path, output: str) -> None:
    result = CliRunner().invoke(
        app,
        [
            "judge",
            "calibrate",
            "--labels",
            str(root / "labels.jsonl"),
            "--config",
            str(config),
            "--judge",
            "judge",
            "--output",
            str(root / output),
        ],
    )
    assert result.exit_code == 0, result.output


def _cached_rows(root: Path) -> int:
    with sqlite3.connect(root / "cache" / "responses.sqlite") as conn:
        n: int = conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    return n


def _measured(root: Path, output: str) -> dict[str, object]:
    report = json.loads((root / output).read_text())
    return {k: report[k] for k in ("n_measured", "spearman", "cohen_kappa", "mae")}


def test_a_second_calibration_is_answered_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    verdict = '{"score": 0.75, "reason": "mostly right"}'
    with FakeOpenAIServer.run_in_thread(reply=verdict) as server:
        config = _project(tmp_path, server.base_url)

        _calibrate(tmp_path, config, "first.json")
        calls = server.count
        assert calls == len(ROWS)
        assert _cached_rows(tmp_path) == calls

        _calibrate(tmp_path, config, "second.json")
        assert server.count == calls  # every answer came from the cache
        assert _measured(tmp_path, "second.json") == _measured(tmp_path, "first.json")
        assert _measured(tmp_path, "first.json")["n_measured"] == len(ROWS)


def test_without_the_cache_every_run_calls_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer.run_in_thread(reply='{"score": 0.5, "reason": "ok"}') as server:
        config = _project(tmp_path, server.base_url, cache=False)
        _calibrate(tmp_path, config, "first.json")
        _calibrate(tmp_path, config, "second.json")
        assert server.count == 2 * len(ROWS)
    assert not (tmp_path / "cache").exists()
