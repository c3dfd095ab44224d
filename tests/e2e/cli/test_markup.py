"""Model outputs, case ids, tags and check values that look like console markup are
printed as written by ``releasegate eval`` and ``validate``: never parsed, never a
traceback, and the exit code keeps its documented meaning (1 = the gate failed)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.support.openai_server import FakeOpenAIServer
from tests.support.project import make_project

MARKUP = ["[/]", "[bold]x", "[link=https://example.com]y[/link]", "[red", "\\[", ":smile:"]


async def _cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "releasegate",
        *args,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "300"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_eval_and_validate_print_markup_like_text_as_written(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cases = [
        {
            "id": f"case{i}{text}",
            "input": f"answer {text} please",
            "tags": [f"tag{text}"],
            # The echoing server never says this: every case fails and is listed.
            "assert": [{"type": "contains", "value": f"absent{text}"}],
        }
        for i, text in enumerate(MARKUP)
    ]
    make_project(tmp_path, base_url=openai_server.base_url, cases=cases)
    code, out, err = await _cli("validate", cwd=tmp_path)
    assert code == 0 and "Traceback" not in err, err
    code, out, err = await _cli("eval", "--suite", "pr", "--quiet", cwd=tmp_path)
    assert code == 1, (code, err)  # the gate failed, nothing else
    assert "Traceback" not in err and "MarkupError" not in err
    for i, text in enumerate(MARKUP):
        assert f"case{i}{text}" in out, text  # worst failing cases: the case id
        assert f"answer {text} please" in out, text  # ... and the model output
        assert f"tag{text}" in out, text  # per-tag table
