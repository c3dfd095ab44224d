"""What a command imports decides how fast it starts: heavy libraries load only for the
commands that use them (checked by module name, never by timing)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.support.lean_openai_server import LeanOpenAIServer
from tests.support.project import make_project

HEAVY = ["scipy", "numpy", "sqlalchemy", "httpx", "openai", "jsonschema", "fastapi"]

PROBE = """
import json, sys
from releasegate.cli import main
sys.argv = ["releasegate", *{argv!r}]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
sys.stdout.flush()
found = [m for m in {heavy!r} if m in sys.modules]
print(json.dumps({{"code": code, "imported": found}}), file=sys.stderr)
"""


async def imported(argv: list[str], cwd: Path) -> tuple[int, list[str]]:
    """Run the command in a fresh interpreter; its exit code and the heavy modules it
    imported."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PROBE.format(argv=argv, heavy=HEAVY),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    result = json.loads(err.decode().strip().splitlines()[-1])
    return int(result["code"]), list(result["imported"])


async def test_top_level_help_imports_no_heavy_library(tmp_path: Path) -> None:
    assert await imported(["--help"], tmp_path) == (0, [])


async def test_eval_with_direct_client_imports_only_what_it_needs(tmp_path: Path) -> None:
    async with LeanOpenAIServer() as server:
        make_project(
            tmp_path,
            base_url=server.base_url,
            n_cases=3,
            provider={"client": "direct"},
            cache=False,
        )
        result = await imported(["eval", "--suite", "pr", "-q"], tmp_path)
        assert server.count == 3
    assert result == (0, [])
