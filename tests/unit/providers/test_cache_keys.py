"""The one place cache keys are built (``CacheKeyer``), the secret-hiding helpers, and
the default identity of plugin providers."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.providers import ChatProvider, ChatRequest, ChatResponse, register_provider
from releasegate.providers.cache import CacheKeyer, ResponseCache, cache_key
from releasegate.providers.identity import (
    headers_identity,
    is_secret_name,
    redact,
    secret_digest,
    url_identity,
)
from releasegate.providers.managed import ManagedProvider
from releasegate.providers.registry import ProviderSpec
from releasegate.providers.scripted import ScriptedProvider
from tests.unit.providers import _identity_support as s


@given(a=st.text(min_size=1), b=st.text(min_size=1))
def test_secret_digest_is_deterministic_and_hides_the_secret(a: str, b: str) -> None:
    assert secret_digest(a) == secret_digest(a)
    assert (secret_digest(a) == secret_digest(b)) == (a == b)
    if len(a) >= 4:
        assert a not in secret_digest(a)[len("sha256:") :]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("Proxy-Authorization", True),
        ("x-api-key", True),
        ("api-key", True),
        ("X-Auth-Token", True),
        ("Cookie", True),
        ("X-Client-Secret", True),
        ("X-Variant", False),
        ("Accept-Language", False),
        ("OpenAI-Organization", False),
    ],
)
def test_credential_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret
    value = "v4lue-of-the-header"
    shown = headers_identity({name: value})[name.lower()]
    assert (shown != value) is secret


def test_headers_forced_secret_and_case() -> None:
    shown = headers_identity({"X-Team": "t1", "X-Tenant": "acme"}, secret=["x-tenant"])
    assert shown["x-team"] == "t1" and shown["x-tenant"] == secret_digest("acme")


@pytest.mark.parametrize(
    ("url", "kept", "hidden"),
    [
        ("https://u:pw-123456@h.test/v1", "https://u:sha256:", "pw-123456"),
        (
            "https://h.test/v1?api-version=2024-06-01&api-key=K-123456",
            "api-version=2024-06-01",
            "K-123456",
        ),
        ("https://h.test/v1?code=abc&sig=S-123456", "code=abc", "S-123456"),
        ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1/", None),
    ],
)
def test_url_identity(url: str, kept: str, hidden: str | None) -> None:
    shown = url_identity(url)
    assert kept in shown
    if hidden is not None:
        assert hidden not in shown and url_identity(url.replace(hidden, hidden + "x")) != shown


def test_redact_walks_nested_data() -> None:
    data = {
        "q": "{{ input }}",
        "auth": {"token": "t-123456", "user": "u"},
        "list": [{"api_key": "k-123456"}],
    }
    shown = json.dumps(redact(data))
    assert "t-123456" not in shown and "k-123456" not in shown
    assert '"user": "u"' in shown and "{{ input }}" in shown


REQ = s.REQUEST


@pytest.mark.parametrize(
    "change",
    [
        {"model": "model-2"},
        {"messages": ({"role": "user", "content": "hi!"},)},
        {"params": {"temperature": 0.5}},
        {"params": {"temperature": 0, "seed": 1}},
        {"response_format": {"type": "json_object"}},
        {"repeat": 1},
        {"case_id": "case-2"},
        {"vars": {"input": "hi", "tier": "silver"}},
    ],
)
def test_every_request_field_is_in_the_key_by_default(change: dict[str, Any]) -> None:
    keyer = CacheKeyer({"type": "x"})
    assert keyer.key(dataclasses.replace(REQ, **change)) != keyer.key(REQ)
    assert cache_key({"type": "x"}, REQ) == keyer.key(REQ)


def test_undeclared_request_fields_are_left_out() -> None:
    keyer = CacheKeyer({"type": "x"}, frozenset())
    assert keyer.key(dataclasses.replace(REQ, case_id="z", vars={})) == keyer.key(REQ)
    assert CacheKeyer({"type": "x"}, {"case_id"}).identity_digest != keyer.identity_digest


@settings(max_examples=50)
@given(a=st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=4))
def test_identity_key_order_does_not_matter(a: dict[str, Any]) -> None:
    reordered = dict(reversed(list(a.items())))
    assert CacheKeyer(a).identity_digest == CacheKeyer(reordered).identity_digest


def test_keys_are_the_same_in_another_process() -> None:
    script = (
        "from releasegate.providers.cache import CacheKeyer\n"
        "from releasegate.providers.scripted import ScriptedProvider, ScriptedOptions\n"
        "from tests.unit.providers._identity_support import REQUEST\n"
        "rules = [{'match': 'a', 'output': 'b'}]\n"
        "p = ScriptedProvider(ScriptedOptions(default='x', rules=rules))\n"
        "print(CacheKeyer.for_provider(p).key(REQUEST))\n"
    )
    from releasegate.providers.scripted import ScriptedOptions

    here = CacheKeyer.for_provider(
        ScriptedProvider(
            ScriptedOptions.model_validate(
                {"default": "x", "rules": [{"match": "a", "output": "b"}]}
            )
        )
    ).key(REQ)
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=True,
    )
    assert out.stdout.strip() == here


class _Plugin(ChatProvider):
    async def complete(self, request: ChatRequest) -> ChatResponse:
        return ChatResponse(text=str(request.messages))


@register_provider("rg-test-identity-plugin")
def _plugin_factory(spec: ProviderSpec) -> ChatProvider:
    return _Plugin()


PLUGIN = {"type": "rg-test-identity-plugin", "style": "terse", "token": "tok-123456789"}


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({"style": "verbose"}, False),
        ({"model": "m-2"}, False),
        ({"params": {"seed": 3}}, False),
        ({"headers": {"X-Variant": "b"}}, False),
        ({"token": "tok-987654321"}, False),
        ({"timeout_s": 3}, True),
        ({"concurrency": 64}, True),
        ({"max_retries": 0}, True),
        ({"rate_limit": 2}, True),
    ],
)
def test_plugin_without_an_identity_is_keyed_on_its_config(
    change: dict[str, Any], same: bool
) -> None:
    before, identity = s.key_of(PLUGIN, root=Path("."))
    after, _ = s.key_of({**PLUGIN, **change}, root=Path("."))
    assert (before == after) is same
    s.assert_secret_hidden("tok-123456789", identity, before)


async def test_secrets_never_reach_the_cache_file(tmp_path: Path) -> None:
    secret = "sk-live-0123456789abcdef"
    provider = s.build(
        {
            "type": "openai",
            "client": "direct",
            "base_url": "http://127.0.0.1:9/v1",
            "api_key_env": "RG_K",
            "headers": {"Authorization": f"Bearer {secret}"},
        },
        root=Path("."),
        env={"RG_K": secret},
    )
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path)
    managed = ManagedProvider(provider, cache=cache)
    keyer = CacheKeyer.for_provider(provider)
    cache.put(keyer.key(REQ), ChatResponse(text="answer"))
    cache.close()
    await managed.aclose()
    stored = _read_all(tmp_path)
    assert secret.encode() not in stored
    assert managed.cache_identity() == provider.cache_identity()
    assert secret not in json.dumps(managed.cache_identity())


def _read_all(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.iterdir())


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({"model": "text-embedding-3-large"}, False),
        ({"base_url": "http://127.0.0.1:9/v2"}, False),
        ({"headers": {"X-Variant": "b"}}, False),
        ({"api_key": "emb-key-987654321"}, False),
        ({"timeout_s": 5.0}, True),
        ({"batch_size": 8}, True),
    ],
)
async def test_embedder_identity(change: dict[str, Any], same: bool) -> None:
    from releasegate.providers.embeddings import OpenAIEmbedder

    base: dict[str, Any] = {
        "model": "text-embedding-3-small",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key": "emb-key-123456789",
        "headers": {"X-Variant": "a"},
    }
    first, second = OpenAIEmbedder(**base), OpenAIEmbedder(**{**base, **change})
    try:
        assert (first.cache_identity() == second.cache_identity()) is same
        assert "emb-key-123456789" not in json.dumps(first.cache_identity())
    finally:
        await first.aclose()
        await second.aclose()
