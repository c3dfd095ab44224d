"""The gateway benchmark's writer-cost tool on a tiny size, so that it keeps working as
the gateway's record changes (no figure is checked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("flags", [[], ["--canary", "--scoring"]])
def test_the_writer_cost_tool_runs_the_real_writer(flags: list[str]) -> None:
    path = os.pathsep.join([str(ROOT), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.gateway_overhead.writer_cost",
            "--records",
            "300",
            "--warmup",
            "50",
            "--rounds",
            "1",
            *flags,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "median of 1 (300 records" in out.stdout, out.stdout
    assert "us CPU per record" in out.stdout
