"""`releasegate eval` on a dataset whose cases carry a conversation history, against a
real OpenAI-compatible server: every turn reaches the request, the cache key and the
reports (escaped in HTML)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.support.openai_server import FakeOpenAIServer

PROMPT = {
    "name": "chat",
    "version": "1.0.0",
    "model": "fake-model-2025-01-01",
    "system": "You are terse.",
    "messages": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
    ],
    "template": "Q: {{ input }}",
}

CALL = {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}
HISTORY: list[dict[str, Any]] = [
    {"role": "user", "content": 'My name is <b>"Ann"</b>\nhi'},
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "c1", "content": '{"plan": "pro"}'},
    {"role": "assistant", "content": "Hello Ann."},
]
CASES: list[dict[str, Any]] = [
    {
        "id": "with-history",
        "input": "What is my name?",
        "messages": HISTORY,
        "assert": [{"type": "contains", "value": "nope"}],
    },
    {"id": "single", "input": "ping", "assert": [{"type": "contains", "value": "ping"}]},
]


def make(root: Path, base_url: str) -> None:
    (root / "prompts").mkdir(parents=True)
    (root / "datasets").mkdir()
    (root / "prompts" / "chat.yaml").write_text(yaml.safe_dump(PROMPT, sort_keys=False))
    (root / "datasets" / "cases.yaml").write_text(yaml.safe_dump(CASES, sort_keys=False))
    config = {
        "version": 1,
        "providers": {
            "target": {"type": "openai", "model": "fake-model-2025-01-01", "base_url": base_url}
        },
        "prompts": "prompts/",
        "suites": {"pr": {"dataset": "datasets/cases.yaml", "prompt": "chat", "target": "target"}},
        "cache": {"enabled": True, "path": ".releasegate/cache.sqlite"},
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
        env={**os.environ, "OPENAI_API_KEY": "sk-test"},
    )


def test_history_reaches_request_cache_and_reports(tmp_path: Path) -> None:
    with FakeOpenAIServer.run_in_thread() as server:
        make(tmp_path, server.base_url)
        assert cli(tmp_path, "validate").returncode == 0
        out = ["-o", "out/r.json", "--markdown", "out/r.md", "--html", "out/r.html"]
        run = cli(tmp_path, "eval", "--suite", "pr", *out)
        assert run.returncode == 1, run.stderr  # the history case's check fails on purpose
        assert "Traceback" not in run.stderr
        bodies = {r.body["messages"][-1]["content"]: r.body for r in server.requests}
        expected_head = [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4"},
        ]
        sent = bodies["Q: What is my name?"]["messages"]
        assert sent == [
            *expected_head,
            HISTORY[0],
            {"role": "assistant", "tool_calls": [CALL]},
            *HISTORY[2:],
            {"role": "user", "content": "Q: What is my name?"},
        ]
        assert bodies["Q: ping"]["messages"] == [
            *expected_head,
            {"role": "user", "content": "Q: ping"},
        ]
        calls = server.count
        # The second run is answered from the cache: the key covers the whole history.
        again = cli(tmp_path, "eval", "--suite", "pr", "-o", "out/r2.json")
        assert again.returncode == 1, again.stderr
        assert server.count == calls
        # A changed history turn is a different request: a cache miss.
        changed = [dict(CASES[0], messages=[*HISTORY[:3], {"role": "assistant", "content": "Hi"}])]
        (tmp_path / "datasets" / "cases.yaml").write_text(yaml.safe_dump(changed))
        assert cli(tmp_path, "eval", "--suite", "pr", "-o", "out/r3.json").returncode == 1
        assert server.count == calls + 1

    report = json.loads((tmp_path / "out/r.json").read_text())
    cases = {c["id"]: c for c in report["cases"]}
    assert cases["with-history"]["messages"] == sent
    assert cases["single"]["messages"] is None
    assert all(c["cached"] for c in json.loads((tmp_path / "out/r2.json").read_text())["cases"])
    markdown = (tmp_path / "out/r.md").read_text()
    assert "conversation:" in markdown and "[tool c1]" in markdown
    assert "[assistant] -> lookup({})" in markdown
    html = (tmp_path / "out/r.html").read_text()
    assert "&lt;b&gt;&#34;Ann&#34;&lt;/b&gt;" in html or "&lt;b&gt;&quot;Ann&quot;" in html
    assert '<b>"Ann"</b>' not in html
    assert "[system] You are terse." in html
