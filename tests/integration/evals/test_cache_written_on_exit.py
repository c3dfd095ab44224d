"""Every command that opens the response cache writes the answers it got to it before
the process ends: on success, on a failed gate, on an error after the calls, and on
Ctrl-C. Each test runs the real command in its own process and then counts the rows in
the cache file.

The model (target or judge) is a ``python`` provider whose async function appends one
line to a log for every answer it gives, so the expected count is exact: every answer
given must be in the cache.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

APP = """\
import asyncio
import os
from pathlib import Path

LOG = Path(os.environ["RG_TEST_ANSWER_LOG"])
MARK = Path(os.environ["RG_TEST_BLOCK_MARK"])


async def answer(messages):
    text = " ".join(str(m.get("content", "")) for m in messages)
    if "block-here" in text:
        MARK.write_text("waiting")
        await asyncio.sleep(3600)  # until Ctrl-C
    with LOG.open("a") as f:
        f.write("answer\\n")
    if "Score" in text or "score" in text:
        return '{"score": 0.8, "reason": "fine"}'
    return "fine answer"
"""


def _project(root: Path, *, inputs: list[str], gate: str = "{min_score: 0.0}") -> Path:
    (root / "app.py").write_text(APP)
    (root / "releasegate.yaml").write_text(
        "providers:\n"
        "  target: {type: python, function: 'app:answer', path: ., concurrency: 1}\n"
        "  judge: {type: python, function: 'app:answer', path: ., concurrency: 1}\n"
        "suites:\n"
        f"  pr: {{dataset: data.yaml, judge: judge, gate: {gate}}}\n"
        "cache: {enabled: true, path: cache/responses.sqlite}\n"
    )
    cases = "".join(
        f"- id: c{i}\n  input: {text}\n  assert: [{{type: contains, value: fine}}]\n"
        for i, text in enumerate(inputs)
    )
    (root / "data.yaml").write_text(cases)
    labels = "".join(
        json.dumps(
            {
                "id": f"l{i}",
                "input": text,
                "output": "fine answer",
                "human_score": 1.0,
                "expected_behavior": "answers",
            }
        )
        + "\n"
        for i, text in enumerate(inputs)
    )
    (root / "labels.jsonl").write_text(labels)
    return root / "releasegate.yaml"


def _env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RG_TEST_ANSWER_LOG": str(root / "answers.log"),
        "RG_TEST_BLOCK_MARK": str(root / "blocked.mark"),
    }


def _answers(root: Path) -> int:
    log = root / "answers.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def _cached(root: Path) -> int:
    db = root / "cache" / "responses.sqlite"
    assert db.exists(), "the cache file was never created"
    with sqlite3.connect(db) as conn:
        n: int = conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    return n


def _cmd(command: str, *extra: str) -> list[str]:
    base = [sys.executable, "-m", "releasegate"]
    if command == "eval":
        return [*base, "eval", "--suite", "pr", "--quiet", *extra]
    return [*base, "judge", "calibrate", "--labels", "labels.jsonl", "--judge", "judge", *extra]


def _run(root: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=root, env=_env(root), capture_output=True, text=True, timeout=300, check=False
    )


# (command, extra arguments, expected exit code) - the normal path and error paths
# that end the process after the model has answered.
PATHS = [
    ("eval", [], 0),
    ("calibrate", [], 0),
    ("calibrate", ["--min-kappa", "0.99"], 1),  # agreement gate failed
    ("calibrate", ["--baseline", "missing.json"], 2),  # error after the run
]


@pytest.mark.parametrize(("command", "extra", "code"), PATHS)
def test_every_answer_reaches_the_cache_when_the_process_ends(
    tmp_path: Path, command: str, extra: list[str], code: int
) -> None:
    _project(tmp_path, inputs=["refund window", "shipping", "greeting"])
    res = _run(tmp_path, _cmd(command, *extra))
    assert res.returncode == code, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert _answers(tmp_path) >= 3
    assert _cached(tmp_path) == _answers(tmp_path)


def test_eval_gate_failure_keeps_the_answers(tmp_path: Path) -> None:
    _project(tmp_path, inputs=["a", "b"], gate="{min_score: 1.0, min_pass_rate: 1.0}")
    (tmp_path / "data.yaml").write_text(
        "- {id: a, input: a, assert: [{type: contains, value: missing}]}\n"
        "- {id: b, input: b, assert: [{type: contains, value: missing}]}\n"
    )
    res = _run(tmp_path, _cmd("eval"))
    assert res.returncode == 1, res.stdout + res.stderr
    assert _answers(tmp_path) == 2
    assert _cached(tmp_path) == 2


def test_eval_error_mid_run_keeps_the_answers_given(tmp_path: Path) -> None:
    _project(tmp_path, inputs=["a", "b", "c", "d"])
    # A prompt that cannot render the last case stops the run with a config error.
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "p.yaml").write_text(
        "name: p\nversion: 1.0.0\nmodel: m-2024-01-01\ntemplate: '{{ input }} {{ city }}'\n"
    )
    text = (
        (tmp_path / "releasegate.yaml")
        .read_text()
        .replace("judge: judge,", "judge: judge, prompt: p,")
    )
    (tmp_path / "releasegate.yaml").write_text(text)
    (tmp_path / "data.yaml").write_text(
        "".join(f"- {{id: c{i}, input: q{i}, vars: {{city: x}}}}\n" for i in range(4))
        + "- {id: last, input: no city}\n"
    )
    res = _run(tmp_path, _cmd("eval"))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "city" in res.stderr
    assert _answers(tmp_path) >= 1
    assert _cached(tmp_path) == _answers(tmp_path)


@pytest.mark.parametrize("command", ["eval", "calibrate"])
def test_ctrl_c_keeps_the_answers_given(tmp_path: Path, command: str) -> None:
    _project(tmp_path, inputs=["one", "two", "block-here"])
    proc = subprocess.Popen(
        _cmd(command),
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        mark = tmp_path / "blocked.mark"
        deadline = time.monotonic() + 120
        while not mark.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the blocking call was never made"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0
    assert "Traceback" not in err, err
    assert _answers(tmp_path) == 2
    assert _cached(tmp_path) == 2
