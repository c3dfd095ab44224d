"""`releasegate eval` as a user runs it: a real process, a real local HTTP server."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from xml.etree import ElementTree

from tests.support.openai_server import FakeOpenAIServer
from tests.support.project import make_project


async def run_cli(*args: str, cwd: Path) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "releasegate",
        *args,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_exit_0_when_gate_passes_and_reports_written(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    make_project(tmp_path, base_url=openai_server.base_url, n_cases=5)
    code, _, err = await run_cli(
        "eval",
        "--suite",
        "pr",
        "--output",
        "out/report.json",
        "--junit",
        "out/junit.xml",
        "--markdown",
        "out/report.md",
        "--html",
        "out/report.html",
        cwd=tmp_path,
    )
    assert code == 0, err
    report = json.loads((tmp_path / "out/report.json").read_text())
    assert report["schema_version"] == 1
    assert report["summary"]["n_cases"] == 5
    assert report["summary"]["pass_rate"] == 1.0
    assert {c["id"] for c in report["cases"]} == {f"c{i:02d}" for i in range(5)}
    root = ElementTree.parse(tmp_path / "out/junit.xml").getroot()
    cases_suite = root.find("testsuite[@name='pr']")
    assert cases_suite is not None and len(cases_suite.findall("testcase")) == 5
    assert "pr" in (tmp_path / "out/report.md").read_text()
    assert (tmp_path / "out/report.html").read_text().lstrip().lower().startswith("<!doctype")
    assert "Traceback" not in err


async def test_exit_1_when_gate_fails(openai_server: FakeOpenAIServer, tmp_path: Path) -> None:
    cases = [
        {"id": "ok", "input": "say banana", "assert": [{"type": "contains", "value": "banana"}]},
        {"id": "bad", "input": "say apple", "assert": [{"type": "contains", "value": "cherry"}]},
    ]
    make_project(tmp_path, base_url=openai_server.base_url, cases=cases)
    code, out, err = await run_cli("eval", "--suite", "pr", "-o", "r.json", cwd=tmp_path)
    assert code == 1, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["gate"]["passed"] is False
    assert {c["id"]: c["passed"] for c in report["cases"]} == {"ok": True, "bad": False}
    assert "min_pass_rate" in out or "pass rate" in out


async def test_exit_2_on_bad_dataset_names_file_and_case(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cases = [
        {"id": "a", "input": "x", "assert": [{"type": "contains", "value": "x"}]},
        {"id": "b", "input": "y", "weight": -1},
    ]
    make_project(tmp_path, base_url=openai_server.base_url, cases=cases)
    code, _, err = await run_cli("eval", "--suite", "pr", cwd=tmp_path)
    assert code == 2
    assert "cases.yaml" in err and "'b'" in err and "weight" in err
    assert "Traceback" not in err
    assert openai_server.count == 0


async def test_exit_2_on_unknown_suite(openai_server: FakeOpenAIServer, tmp_path: Path) -> None:
    make_project(tmp_path, base_url=openai_server.base_url)
    code, _, err = await run_cli("eval", "--suite", "nightly", cwd=tmp_path)
    assert code == 2 and "nightly" in err and "pr" in err


async def test_exit_3_when_every_case_errors(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    make_project(tmp_path, base_url=openai_server.base_url, n_cases=3)
    openai_server.fail_next(401, times=3)
    code, _, err = await run_cli("eval", "--suite", "pr", "-o", "r.json", cwd=tmp_path)
    assert code == 3, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "failed" and report["summary"]["n_errors"] == 3


async def test_exit_3_on_budget_stop(openai_server: FakeOpenAIServer, tmp_path: Path) -> None:
    make_project(
        tmp_path,
        base_url=openai_server.base_url,
        n_cases=20,
        provider={"concurrency": 1},
        pricing={"gpt-4o-2024-11-20": {"input_per_mtok": 1_000_000, "output_per_mtok": 0}},
    )
    code, _, err = await run_cli(
        "eval", "--suite", "pr", "--max-cost", "15", "-o", "r.json", cwd=tmp_path
    )
    assert code == 3, err
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "stopped" and 0 < len(report["cases"]) < 20


async def test_ctrl_c_writes_partial_report_without_traceback(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    make_project(tmp_path, base_url=openai_server.base_url, n_cases=8, provider={"concurrency": 1})
    openai_server.delay_ms = 300
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "releasegate",
        "eval",
        "--suite",
        "pr",
        "-o",
        "r.json",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    # Wait until a few answers went out, then interrupt like a user at the terminal.
    for _ in range(200):
        if openai_server.count >= 3:
            break
        await asyncio.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = await proc.communicate()
    assert proc.returncode == 3, err.decode()
    assert "Traceback" not in err.decode()
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "interrupted"
    assert 1 <= len(report["cases"]) < 8


async def test_the_only_suite_runs_without_suite_and_two_need_one(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    import yaml

    config = make_project(tmp_path, base_url=openai_server.base_url, n_cases=2)
    code, _, err = await run_cli("eval", "--output", "out/one.json", cwd=tmp_path)
    assert code == 0, err
    assert json.loads((tmp_path / "out/one.json").read_text())["summary"]["n_cases"] == 2
    data = yaml.safe_load(config.read_text())
    data["suites"]["nightly"] = dict(data["suites"]["pr"])
    config.write_text(yaml.safe_dump(data))
    code, _, err = await run_cli("eval", cwd=tmp_path)
    assert code == 2
    assert "name a suite with --suite (known: nightly, pr)" in err
