"""`releasegate eval` on dynamic multi-turn cases answered by a scripted model: the
replies are carried forward, each turn is graded on its own, the case-level checks see
the whole conversation, and the stop/continue and mean/min policies apply."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

PROMPT = {
    "name": "chat",
    "version": "1.0.0",
    "model": "scripted",
    "system": "Be brief.",
    "template": "{{ input }}",
}
SCRIPT = {
    "rules": [
        {"match": "my name is", "output": "Nice to meet you, Ann."},
        {"match": "what is my name", "output": "You are Ann."},
        {"match": "weather", "output": "I cannot say."},
    ],
    "default": "ok",
}
TURNS = [
    {"input": "Hi, my name is Ann", "assert": [{"type": "contains", "value": "Ann"}]},
    {"input": "weather?", "assert": [{"type": "contains", "value": "sunny"}]},
    {"input": "So what is my name?", "assert": [{"type": "contains", "value": "Ann"}]},
]
CASES: list[dict[str, Any]] = [
    {
        "id": "continue-mean",
        "turns": TURNS,
        "assert": [{"type": "contains", "value": "Nice to meet you"}],
    },
    {"id": "stop-min", "turns": TURNS, "on_turn_failure": "stop", "turn_aggregate": "min"},
    {
        "id": "all-good",
        "messages": [
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "yes"},
        ],
        "turns": [TURNS[0], TURNS[2]],
    },
]


def make(root: Path, cases: list[dict[str, Any]]) -> None:
    (root / "prompts").mkdir(parents=True, exist_ok=True)
    (root / "datasets").mkdir(exist_ok=True)
    (root / "prompts" / "chat.yaml").write_text(yaml.safe_dump(PROMPT))
    (root / "datasets" / "cases.yaml").write_text(yaml.safe_dump(cases, sort_keys=False))
    config = {
        "version": 1,
        "providers": {"target": {"type": "scripted", "model": "scripted", **SCRIPT}},
        "prompts": "prompts/",
        "suites": {"pr": {"dataset": "datasets/cases.yaml", "prompt": "chat", "target": "target"}},
    }
    (root / "releasegate.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_turns_carry_replies_and_grade_each_turn(tmp_path: Path) -> None:
    make(tmp_path, CASES)
    assert cli(tmp_path, "validate").returncode == 0
    run = cli(tmp_path, "eval", "--suite", "pr", "-o", "r.json", "--html", "r.html")
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    cases = {c["id"]: c for c in json.loads((tmp_path / "r.json").read_text())["cases"]}

    cont = cases["continue-mean"]
    assert [t["passed"] for t in cont["turns"]] == [True, False, True]
    assert [t["output"] for t in cont["turns"]] == [
        "Nice to meet you, Ann.",
        "I cannot say.",
        "You are Ann.",
    ]
    # The model's replies are carried forward into the next turn's request.
    assert cont["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi, my name is Ann"},
        {"role": "assistant", "content": "Nice to meet you, Ann."},
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "I cannot say."},
        {"role": "user", "content": "So what is my name?"},
        {"role": "assistant", "content": "You are Ann."},
    ]
    labels = [c["label"] for c in cont["checks"]]
    assert labels == [
        "turns[0].assert[0]",
        "turns[1].assert[0]",
        "turns[2].assert[0]",
        "assert[0]",
    ]
    # The case-level check sees every reply, not only the last one.
    assert cont["checks"][-1]["passed"] is True
    assert cont["score"] == 0.75 and cont["passed"] is False  # mean of 1, 0, 1 and 1

    stop = cases["stop-min"]
    assert [t["index"] for t in stop["turns"]] == [0, 1]  # stopped after the failing turn
    assert stop["score"] == 0.0 and stop["passed"] is False
    assert stop["messages"][-1] == {"role": "assistant", "content": "I cannot say."}

    good = cases["all-good"]
    assert good["passed"] is True and good["score"] == 1.0
    assert good["messages"][1:3] == [
        {"role": "user", "content": "earlier"},
        {"role": "assistant", "content": "yes"},
    ]
    html = (tmp_path / "r.html").read_text()
    assert "[assistant] I cannot say." in html


def test_turn_errors_point_at_their_lines(tmp_path: Path) -> None:
    bad = [{"id": "x", "turns": [{"input": "hi", "assert": [{"type": "no-such-check"}]}]}]
    make(tmp_path, bad)
    run = cli(tmp_path, "validate")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "no-such-check" in run.stdout + run.stderr
    make(tmp_path, [{"id": "y", "turns": []}])
    run = cli(tmp_path, "validate")
    assert run.returncode == 2 and "turns" in run.stdout + run.stderr


def test_a_failed_call_stops_the_conversation(tmp_path: Path) -> None:
    make(tmp_path, [{"id": "down", "turns": TURNS}])
    config = yaml.safe_load((tmp_path / "releasegate.yaml").read_text())
    config["providers"]["target"]["fail"] = {"down": "error"}
    (tmp_path / "releasegate.yaml").write_text(yaml.safe_dump(config))
    run = cli(tmp_path, "eval", "--suite", "pr", "-o", "r.json")
    assert "Traceback" not in run.stderr
    (case,) = json.loads((tmp_path / "r.json").read_text())["cases"]
    assert len(case["turns"]) == 1 and case["turns"][0]["error"]
    assert case["error"] and case["score"] == 0.0 and case["passed"] is False
