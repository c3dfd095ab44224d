"""``releasegate serve`` in a real process: the gateway, the API and the dashboard on one
port (no flag), with several workers, and each flag alone serving only its application."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest
import yaml

from releasegate.control.deployments import DeploymentService
from releasegate.control.tokens import TokenService
from releasegate.deploy.tokens import Scope
from releasegate.store.database import open_database
from tests.e2e.deploy._cli import CLI, free_port
from tests.support.gateway_upstream import GatewayUpstream

PROMPT = {"name": "chat", "version": "1.0.0", "model": "m-1", "template": "Q: {{ input }}"}
LINK = re.compile(r"sign in: (http://\S+/login\?token=(\S+)) \(read token (serve-signin-\S+),")


@dataclass
class Project:
    root: Path
    db_url: str
    read_token: str
    ingest_token: str


@pytest.fixture(scope="module")
def upstream() -> Iterator[GatewayUpstream]:
    with GatewayUpstream.run_in_thread() as up:
        yield up


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, upstream: GatewayUpstream) -> Project:
    root = tmp_path_factory.mktemp("serve")
    (root / "prompts").mkdir()
    (root / "prompts" / "chat.yaml").write_text(yaml.safe_dump(PROMPT))
    config = {
        "version": 1,
        "providers": {"main": {"type": "openai", "base_url": upstream.base_url, "model": "m-1"}},
        "prompts": "prompts/",
        "gateway": {"default_provider": "main"},
    }
    (root / "releasegate.yaml").write_text(yaml.safe_dump(config))
    db_url = f"sqlite:///{root / 'rg.sqlite'}"
    db = open_database(db_url, create=True)
    try:
        db.upgrade()
        svc = DeploymentService(db.uow())
        svc.register("chat", "v1", prompt="chat@1.0.0", model="m-1", actor="t")
        svc.approve("chat", "v1", actor="t")
        svc.promote("chat", "v1", actor="t")
        tokens = TokenService(db.uow())
        read = tokens.create("reader", Scope.READ, actor="t").secret
        ingest = tokens.create("ingester", Scope.INGEST, actor="t").secret
    finally:
        db.close()
    return Project(root, db_url, read, ingest)


@dataclass
class Server:
    url: str
    log: Path
    proc: subprocess.Popen[bytes]

    def text(self) -> str:
        return self.log.read_text()


@contextmanager
def serving(
    project: Project, *flags: str, name: str = "serve", stop: int = signal.SIGTERM
) -> Iterator[Server]:
    """``releasegate serve FLAGS`` on a free port until ``/readyz`` answers 200; stopped
    with the signal ``stop`` afterwards."""
    port = free_port()
    log = project.root / f"{name}-{port}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*CLI, "serve", *flags, "--port", str(port), "--db", project.db_url],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=project.root,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):  # a loaded machine can take a while to start the workers
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"serve exited: {log.read_text()}")
            time.sleep(0.1)
        else:
            pytest.fail(f"serve did not become ready: {log.read_text()}")
        yield Server(url, log, proc)
    finally:
        proc.send_signal(stop)
        proc.wait(timeout=60)


def chat(url: str) -> str:
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
    completion = client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "hi"}], user="u1"
    )
    return completion.choices[0].message.content or ""


def sign_in(link: str) -> httpx.Cookies:
    response = httpx.get(link, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert "releasegate_session" in response.cookies
    return response.cookies


def revoked(project: Project, name: str) -> bool:
    db = open_database(project.db_url)
    try:
        with db.uow(write=False) as uow:
            token = uow.tokens.by_name(name)
    finally:
        db.close()
    assert token is not None and token.scope == "read"
    return token.revoked_at is not None


def test_no_flag_serves_the_gateway_the_api_and_the_dashboard(project: Project) -> None:
    with serving(project) as server:
        assert chat(server.url) == "Q: hi"
        auth = {"Authorization": f"Bearer {project.read_token}"}
        features = httpx.get(server.url + "/v1/features", headers=auth)
        assert features.status_code == 200 and features.json() == ["chat"]
        assert httpx.get(server.url + "/v1/features").status_code == 401  # the API's auth
        feedback = httpx.post(
            server.url + "/v1/feedback",
            json={"request_id": "r-1", "rating": 1},
            headers={"Authorization": f"Bearer {project.ingest_token}"},
        )
        assert feedback.status_code == 200, feedback.text
        assert httpx.get(server.url + "/openapi.json").json()["info"]["title"]
        assert "releasegate_gateway_requests_total" in httpx.get(server.url + "/metrics").text
        match = LINK.search(server.text())
        assert match, server.text()
        link, secret, token_name = match.groups()
        assert link.startswith(server.url + "/login?token=")
        cookies = sign_in(link)
        overview = httpx.get(server.url + "/", cookies=cookies)
        assert overview.status_code == 200 and "chat" in overview.text
        # the printed token can read, never act
        as_token = httpx.get(
            server.url + "/v1/tokens", headers={"Authorization": f"Bearer {secret}"}
        )
        assert as_token.status_code == 403
        assert not revoked(project, token_name)
    # stopped: the printed token is revoked, and with it the sessions it opened
    assert revoked(project, token_name)
    assert "Traceback" not in server.text()


def _children(pid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                count += 1
    return count


def test_two_workers_serve_everything_with_one_session_key(project: Project) -> None:
    with serving(project, "--workers", "2", name="workers") as server:
        assert "(2 worker(s)" in server.text()
        assert _children(server.proc.pid) >= 2
        for _ in range(6):  # new connections: the requests spread over both workers
            assert chat(server.url) == "Q: hi"
        match = LINK.search(server.text())
        assert match, server.text()
        cookies = sign_in(match.group(1))
        for _ in range(10):  # a session signed by one worker is good in the other
            with httpx.Client(cookies=cookies) as fresh:
                page = fresh.get(server.url + "/", follow_redirects=False)
            assert page.status_code == 200, page.headers.get("location")
        auth = {"Authorization": f"Bearer {project.read_token}"}
        assert httpx.get(server.url + "/v1/features/chat", headers=auth).status_code == 200
    assert revoked(project, match.group(3))


@pytest.mark.parametrize(
    ("flag", "served", "absent"),
    [
        ("--gateway", ["/v1/models", "/metrics"], ["/v1/health", "/login", "/docs"]),
        ("--api", ["/v1/health", "/openapi.json"], ["/v1/models", "/metrics", "/login"]),
        ("--dashboard", ["/login"], ["/v1/models", "/v1/health", "/metrics", "/docs"]),
    ],
)
def test_one_flag_serves_only_its_application(
    project: Project, flag: str, served: list[str], absent: list[str]
) -> None:
    stop = signal.SIGINT if flag == "--dashboard" else signal.SIGTERM  # Ctrl-C, or a supervisor
    with serving(project, flag, name=flag.strip("-"), stop=stop) as server:
        for path in served:
            assert httpx.get(server.url + path).status_code == 200, path
        for path in absent:
            assert httpx.get(server.url + path).status_code == 404, path
        assert httpx.get(server.url + "/healthz").status_code == 200
        match = LINK.search(server.text())
        assert (match is not None) is (flag == "--dashboard")
    assert "Traceback" not in server.text()
    assert server.proc.returncode == (0 if stop == signal.SIGINT else -signal.SIGTERM)
    if match:
        assert revoked(project, match.group(3))


def test_a_bad_config_fails_once_before_serving(project: Project, tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text("version: 1\nproviders: [\n")
    result = subprocess.run(
        [*CLI, "serve", "--workers", "2", "--db", project.db_url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "releasegate.yaml" in result.stderr and "Traceback" not in result.stderr
    assert "releasegate serve at" not in result.stderr  # nothing was started


def test_a_missing_database_fails_once_before_serving(project: Project, tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path / 'none.sqlite'}"
    result = subprocess.run(
        [*CLI, "serve", "--db", missing, "--config", str(project.root / "releasegate.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "none.sqlite" in result.stderr and "releasegate db upgrade" in result.stderr


@pytest.mark.parametrize(("forwarded", "workers"), [("203.0.113.7", "1"), ("198.51.100.23", "2")])
def test_the_access_log_shows_each_request_and_the_forwarded_client(
    project: Project, forwarded: str, workers: str
) -> None:
    # --access-log once wrote nothing: uvicorn reset the level set before it started
    flags = ("--gateway", "--access-log", "--workers", workers)
    with serving(project, *flags, name="access") as server:
        response = httpx.get(server.url + "/healthz", headers={"X-Forwarded-For": forwarded})
        assert response.status_code == 200
        assert chat(server.url) == "Q: hi"
        line = f'{forwarded}:0 - "GET /healthz HTTP/1.1" 200'
        for _ in range(100):  # the log line is written after the response
            if line in server.text() and "POST /v1/chat/completions" in server.text():
                break
            time.sleep(0.1)
        assert line in server.text(), server.text()
        assert '"POST /v1/chat/completions HTTP/1.1" 200' in server.text()
        assert "Started server process" not in server.text()  # uvicorn's own: WARNING only


def test_without_the_access_log_no_request_line_is_written(project: Project) -> None:
    with serving(project, "--gateway", name="quiet") as server:
        assert chat(server.url) == "Q: hi"
        httpx.get(server.url + "/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
        time.sleep(0.3)
        assert "203.0.113.9" not in server.text() and "GET /healthz" not in server.text()


def _gc_collections(url: str) -> dict[str, float]:
    text = httpx.get(url + "/metrics", timeout=10).text
    found = re.findall(r'^python_gc_collections_total\{generation="(\d)"\} (\S+)$', text, re.M)
    assert len(found) == 3, text[:2000]
    return {gen: float(n) for gen, n in found}


def test_the_serving_process_keeps_the_collector_out_of_the_request_path(
    project: Project,
) -> None:
    # `serve` freezes what start-up built and raises the youngest generation's
    # threshold (releasegate.bootstrap.serving). With CPython's defaults, requests in flight
    # together keep enough objects alive to trigger a young collection every few
    # dozen requests, and the oldest generation is walked in full every few thousand.
    async def load(url: str) -> None:
        client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        gate = asyncio.Semaphore(40)

        async def one(i: int) -> None:
            async with gate:
                await client.chat.completions.create(
                    model="chat", messages=[{"role": "user", "content": f"q{i}"}], user=f"u{i}"
                )

        await asyncio.gather(*(one(i) for i in range(1500)))
        await client.close()

    with serving(project, "--gateway", name="gc") as server:
        chat(server.url)  # warm: the first request builds caches
        before = _gc_collections(server.url)
        asyncio.run(load(server.url))
        after = _gc_collections(server.url)
        rss = re.search(
            r"^process_resident_memory_bytes (\S+)$",
            httpx.get(server.url + "/metrics", timeout=10).text,
            re.M,
        )
    assert rss is not None and float(rss.group(1)) > 0
    assert after["0"] - before["0"] <= 3, (before, after)
    assert after["2"] == before["2"], (before, after)


def test_each_worker_process_tunes_its_collector_once_built(project: Project) -> None:
    # `serve --workers N` builds each worker's application in uvicorn's factory.
    script = (
        "import gc\n"
        "from releasegate.cli._stack import app_from_env\n"
        "from releasegate.bootstrap.serving import YOUNG_THRESHOLD\n"
        "app_from_env()\n"
        "print(gc.get_threshold()[0] == YOUNG_THRESHOLD, gc.get_freeze_count() > 10_000)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASEGATE_")}
    env |= {
        "RELEASEGATE_SERVE_APPS": "gateway",
        "RELEASEGATE_GATEWAY_CONFIG": str(project.root / "releasegate.yaml"),
        "RELEASEGATE_DATABASE_URL": project.db_url,
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=project.root,
        timeout=120,
    )
    assert out.stdout.split() == ["True", "True"], out.stderr[-2000:]
