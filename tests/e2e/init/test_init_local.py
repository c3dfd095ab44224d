"""`releasegate init --local`, then validate and eval on the real bundled model, in real
processes; and a prompt pinned to a model the local server does not serve names its file."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from releasegate.local.assets import CHAT_MODEL_ID
from releasegate.scaffold import LOCAL_SCAFFOLD_FILES

pytestmark = pytest.mark.slow

pytest.importorskip("llama_cpp", reason="needs the local extra")

CLI = [sys.executable, "-m", "releasegate"]
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "local"


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_init_local_validates_and_passes_its_gate_on_the_bundled_model(tmp_path: Path) -> None:
    init = _run(["init", "--local", "proj"], tmp_path)
    assert init.returncode == 0, init.stderr
    proj = tmp_path / "proj"
    assert sorted(str(p.relative_to(proj)) for p in proj.rglob("*") if p.is_file()) == sorted(
        LOCAL_SCAFFOLD_FILES
    )
    assert "OPENAI_API_KEY" not in init.stdout
    valid = _run(["validate"], proj)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    ev = _run(["eval", "--suite", "pr", "-o", "out/pr.json"], proj)
    assert ev.returncode == 0, ev.stdout + ev.stderr
    report = json.loads((proj / "out" / "pr.json").read_text())
    assert report["identity"]["provider"] == "local"
    assert report["identity"]["model"] == CHAT_MODEL_ID
    assert report["identity"]["target"] is None  # a real model answered
    assert report["gate"]["passed"] is True
    assert all(c["error"] is None and c["output"] for c in report["cases"])


def test_the_local_example_is_the_scaffold_and_validates(tmp_path: Path) -> None:
    for rel, template in LOCAL_SCAFFOLD_FILES.items():
        shipped = Path(__file__).resolve().parents[3] / "src/releasegate/scaffold/templates"
        assert (EXAMPLE / rel).read_text() == (shipped / template).read_text(), rel
    copy = tmp_path / "example"
    shutil.copytree(EXAMPLE, copy)
    valid = _run(["validate"], copy)
    assert valid.returncode == 0, valid.stdout + valid.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``releasegate local serve`` in its own process: the server a user starts."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*CLI, "local", "serve", "--port", str(port)], stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1800):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"local serve exited: {log.read_text()}")
            time.sleep(0.1)
        else:
            pytest.fail("local serve did not become ready")
        yield url + "/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("pinned", ["gpt-4o-mini-2024-07-18", "claude-3-5-haiku-latest"])
def test_a_prompt_pinned_to_a_model_the_server_lacks_names_its_file(
    local_server: str, tmp_path: Path, pinned: str
) -> None:
    init = _run(["init", "--local", "proj"], tmp_path)
    assert init.returncode == 0, init.stderr
    proj = tmp_path / "proj"
    cfg = proj / "releasegate.yaml"
    cfg.write_text(
        cfg.read_text().replace(
            "    concurrency: 1\n", f"    concurrency: 1\n    base_url: {local_server}\n"
        )
    )
    prompt = proj / "prompts" / "support-answer.yaml"
    prompt.write_text(prompt.read_text().replace(f"model: {CHAT_MODEL_ID}", f"model: {pinned}"))
    ev = _run(["eval", "--suite", "pr", "-o", "out/pr.json"], proj)
    assert ev.returncode != 0
    said = " ".join((ev.stdout + ev.stderr).split())
    expected = f"model '{pinned}' (pinned in prompts/support-answer.yaml) is not served by"
    assert expected in said, said
    assert CHAT_MODEL_ID in said
    # With the prompt pinned to the served id, the same project runs.
    prompt.write_text(prompt.read_text().replace(f"model: {pinned}", f"model: {CHAT_MODEL_ID}"))
    ok = _run(["eval", "--suite", "pr", "-o", "out/pr.json"], proj)
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_a_started_local_provider_refuses_a_model_it_does_not_serve(tmp_path: Path) -> None:
    # Without base_url the provider starts the server itself; a prompt pinned to a hosted
    # model is refused before anything starts, naming the prompt file.
    init = _run(["init", "--local", "proj"], tmp_path)
    assert init.returncode == 0, init.stderr
    proj = tmp_path / "proj"
    prompt = proj / "prompts" / "support-answer.yaml"
    prompt.write_text(prompt.read_text().replace(f"model: {CHAT_MODEL_ID}", "model: gpt-4o-mini"))
    ev = _run(["eval", "--suite", "pr"], proj)
    said = " ".join((ev.stdout + ev.stderr).split())
    assert ev.returncode != 0
    assert "model 'gpt-4o-mini' (pinned in prompts/support-answer.yaml) is not served by" in said
