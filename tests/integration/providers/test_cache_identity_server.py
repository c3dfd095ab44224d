"""The response cache against the real local test server: a change to any option that
reaches the server (headers, query, body, credentials ...) calls the server again; a
change that does not (timeout, concurrency, retries) is served from the cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from releasegate.bootstrap import arun_eval
from tests.support.openai_server import FakeOpenAIServer
from tests.support.project import make_project

N = 3
TOKEN = "app-token-0123456789abcdef"


def _http_target(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    """The ``http`` provider pointed at the test server's chat endpoint."""
    target: dict[str, Any] = {
        "type": "http",
        "url": server.base_url + "/chat/completions",
        "body": {"model": "{{ model }}", "messages": "{{ messages }}"},
        "json_path": "choices.0.message.content",
        "headers": {"X-Variant": "a", "Authorization": "Bearer {{ env.RG_APP_TOKEN }}"},
    }
    target.update(extra)
    return target


async def _run(root: Path, server: FakeOpenAIServer, target: dict[str, Any]) -> int:
    """Run the suite; return how many answers came from the cache."""
    cfg = make_project(root, base_url=server.base_url, n_cases=N, provider=target)
    report = await arun_eval(cfg, "pr")
    assert report.summary.n_errors == 0
    return report.summary.n_cached


@pytest.mark.parametrize(
    ("change", "header"),
    [
        (
            {"headers": {"X-Variant": "b", "Authorization": "Bearer {{ env.RG_APP_TOKEN }}"}},
            ("x-variant", "b"),
        ),
        (
            {
                "headers": {
                    "X-Variant": "a",
                    "X-Tenant": "t2",
                    "Authorization": "Bearer {{ env.RG_APP_TOKEN }}",
                }
            },
            ("x-tenant", "t2"),
        ),
        ({"url": "{base}/chat/completions?variant=b"}, None),
        ({"body": {"model": "{{ model }}", "messages": "{{ messages }}", "user": "u2"}}, None),
        ({"params": {"seed": 7}}, None),
    ],
)
async def test_http_option_change_calls_the_server_again(
    openai_server: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, Any],
    header: tuple[str, str] | None,
) -> None:
    monkeypatch.setenv("RG_APP_TOKEN", TOKEN)
    assert await _run(tmp_path, openai_server, _http_target(openai_server)) == 0
    assert await _run(tmp_path, openai_server, _http_target(openai_server)) == N
    assert openai_server.count == N
    if "url" in change:
        change = {"url": change["url"].format(base=openai_server.base_url)}
    changed = _http_target(openai_server, **change)
    assert await _run(tmp_path, openai_server, changed) == 0  # not served stale
    assert openai_server.count == 2 * N
    if header is not None:
        seen = {k.lower(): v for k, v in openai_server.requests[-1].headers.items()}
        assert seen[header[0]] == header[1]
    assert await _run(tmp_path, openai_server, changed) == N  # and cached in turn
    assert openai_server.count == 2 * N


async def test_http_token_change_calls_again_and_never_reaches_the_cache_file(
    openai_server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RG_APP_TOKEN", TOKEN)
    assert await _run(tmp_path, openai_server, _http_target(openai_server)) == 0
    assert openai_server.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"
    monkeypatch.setenv("RG_APP_TOKEN", TOKEN[::-1])
    assert await _run(tmp_path, openai_server, _http_target(openai_server)) == 0
    assert openai_server.count == 2 * N
    stored = _read_all(tmp_path / ".releasegate")
    assert stored and TOKEN.encode() not in stored and TOKEN[::-1].encode() not in stored


@pytest.mark.parametrize(
    "change", [{"timeout_s": 9}, {"concurrency": 2}, {"max_retries": 0}, {"rate_limit": 500}]
)
async def test_http_call_policy_change_keeps_the_cache(
    openai_server: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, Any],
) -> None:
    monkeypatch.setenv("RG_APP_TOKEN", TOKEN)
    assert await _run(tmp_path, openai_server, _http_target(openai_server)) == 0
    assert await _run(tmp_path, openai_server, _http_target(openai_server, **change)) == N
    assert openai_server.count == N


@pytest.mark.parametrize("client", ["direct", "aiohttp"])
@pytest.mark.parametrize(
    "change",
    [
        {"headers": {"X-Variant": "b"}},
        {"organization": "org-2"},
        {"project": "proj-2"},
        {"params": {"seed": 3}},
    ],
)
async def test_openai_option_change_calls_the_server_again(
    openai_server: FakeOpenAIServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    client: str,
    change: dict[str, Any],
) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    base: dict[str, Any] = {"type": "openai", "client": client, "headers": {"X-Variant": "a"}}
    assert await _run(tmp_path, openai_server, base) == 0
    assert await _run(tmp_path, openai_server, {**base, **change}) == 0
    assert openai_server.count == 2 * N
    # Switching the client keeps the answers.
    other = "aiohttp" if client == "direct" else "direct"
    assert await _run(tmp_path, openai_server, {**base, **change, "client": other}) == N


def _read_all(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.iterdir())
