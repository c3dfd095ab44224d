"""Cache identity of the vendor API providers (``openai`` with every client,
``anthropic``): every option sent to the model changes the cache key, the transport and
call policies do not, and API keys appear only as digests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasegate.providers.anthropic import AnthropicOptions
from releasegate.providers.openai import OpenAIOptions
from tests.unit.providers import _identity_support as s

ROOT = Path(".")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Building an SDK client costs about 0.1 s (TLS context, transport): fewer examples there;
# the identity is computed the same way for every client (checked below).
SDK_SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLIENTS = ("direct", "aiohttp", "httpx")


def _same_headers(option: str, a: Any, b: Any) -> bool:
    if option == "headers":
        return {k.lower(): v for k, v in (a or {}).items()} == {
            k.lower(): v for k, v in (b or {}).items()
        }
    return False


def _check_api_key(base: dict[str, Any], key: str, other: str, var: str) -> None:
    config = {**base, "api_key_env": var}
    first, identity = s.key_of(config, root=ROOT, env={var: key})
    s.assert_secret_hidden(key, identity, first)
    if other != key:
        assert s.key_of(config, root=ROOT, env={var: other})[0] != first
    # The key's value counts, not the variable's name.
    assert s.key_of(config, root=ROOT, env={var: key, "RG_OTHER_KEY": key})[0] == first
    assert (
        s.key_of({**base, "api_key_env": "RG_OTHER_KEY"}, root=ROOT, env={"RG_OTHER_KEY": key})[0]
        == first
    )


# -- openai -----------------------------------------------------------------------------

OPENAI_RELEVANT: dict[str, st.SearchStrategy[Any]] = {
    "base_url": s.url,
    "model": s.text,
    "params": s.params,
    "headers": s.headers,
    "organization": s.name,
    "project": s.name,
}
OPENAI_IRRELEVANT = {**s.NOT_IDENTITY, "client": st.sampled_from(CLIENTS)}


def _openai_base(client: str) -> dict[str, Any]:
    return {
        "type": "openai",
        "client": client,
        "base_url": "http://127.0.0.1:9/v1",
        "model": "gpt-4o-2024-11-20",
        "headers": {"X-Variant": "a"},
    }


def test_every_openai_option_is_classified() -> None:
    assert set(OPENAI_RELEVANT) | set(OPENAI_IRRELEVANT) | {"api_key_env"} == s.all_options(
        OpenAIOptions
    )


def _check_openai(client: str, data: st.DataObject) -> None:
    s.check_one_change(
        data,
        _openai_base(client),
        OPENAI_RELEVANT,
        OPENAI_IRRELEVANT,
        root=ROOT,
        same=_same_headers,
    )


@SETTINGS
@given(data=st.data())
def test_openai_direct_key_follows_every_option_sent(data: st.DataObject) -> None:
    _check_openai("direct", data)


@pytest.mark.parametrize("client", ["aiohttp", "httpx"])
@SDK_SETTINGS
@given(data=st.data())
def test_openai_sdk_key_follows_every_option_sent(client: str, data: st.DataObject) -> None:
    _check_openai(client, data)


@pytest.mark.parametrize("client", CLIENTS)
@SDK_SETTINGS
@given(key=s.secret, other=s.secret, var=s.env_name)
def test_openai_api_key_is_digested(client: str, key: str, other: str, var: str) -> None:
    _check_api_key(_openai_base(client), key, other, var)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8811/v1",
        "HTTP://LocalHost:80/v1/",
        "https://user:hunter2-secret@Example.COM:8443/openai/v1?api-version=1",
        "https://x.example/openai/v1?api-version=2024-06-01&api-key=hunter2-secret",
    ],
)
def test_openai_every_client_shares_one_identity(base_url: str) -> None:
    identities = [
        s.key_of({**_openai_base(client), "base_url": base_url}, root=ROOT) for client in CLIENTS
    ]
    assert len({key for key, _ in identities}) == 1
    for key, identity in identities:
        s.assert_secret_hidden("hunter2-secret", identity, key)


@pytest.mark.parametrize("client", CLIENTS)
def test_openai_ids_from_the_environment_count_like_the_sdk_reads_them(client: str) -> None:
    base = _openai_base(client)
    plain = s.key_of(base, root=ROOT)[0]
    org = s.key_of(base, root=ROOT, env={"OPENAI_ORG_ID": "org-1"})[0]
    project = s.key_of(base, root=ROOT, env={"OPENAI_PROJECT_ID": "proj-1"})[0]
    assert len({plain, org, project}) == 3
    assert org == s.key_of({**base, "organization": "org-1"}, root=ROOT)[0]


def test_openai_case_id_and_vars_are_not_in_the_key() -> None:
    import dataclasses

    from releasegate.providers.cache import CacheKeyer

    keyer = CacheKeyer.for_provider(s.build(_openai_base("direct"), root=ROOT))
    other = dataclasses.replace(s.REQUEST, case_id="other", vars={"x": 1})
    assert keyer.key(other) == keyer.key(s.REQUEST)


# -- anthropic --------------------------------------------------------------------------

ANTHROPIC_BASE: dict[str, Any] = {
    "type": "anthropic",
    "api_key_env": "RG_ANTHROPIC_KEY",
    "base_url": "http://127.0.0.1:9",
    "model": "claude-haiku-4-5-20251001",
}
ANTHROPIC_RELEVANT: dict[str, st.SearchStrategy[Any]] = {
    "base_url": s.url,
    "model": s.text,
    "params": s.params,
    "headers": s.headers,
    "max_tokens": st.integers(1, 100_000).filter(lambda n: n != 1024),
}
ANTHROPIC_IRRELEVANT = {**s.NOT_IDENTITY, "client": st.sampled_from(["aiohttp", "httpx"])}


needs_anthropic = pytest.mark.skipif(
    importlib.util.find_spec("anthropic") is None, reason="the anthropic extra is not installed"
)


def test_every_anthropic_option_is_classified() -> None:
    assert set(ANTHROPIC_RELEVANT) | set(ANTHROPIC_IRRELEVANT) | {"api_key_env"} == (
        s.all_options(AnthropicOptions)
    )


@needs_anthropic
@SDK_SETTINGS
@given(data=st.data())
def test_anthropic_key_follows_every_option_sent(data: st.DataObject) -> None:
    s.check_one_change(
        data,
        ANTHROPIC_BASE,
        ANTHROPIC_RELEVANT,
        ANTHROPIC_IRRELEVANT,
        root=ROOT,
        same=_same_headers,
        env={"RG_ANTHROPIC_KEY": "sk-ant-test"},
    )


@needs_anthropic
@SDK_SETTINGS
@given(key=s.secret, other=s.secret, var=s.env_name)
def test_anthropic_api_key_is_digested(key: str, other: str, var: str) -> None:
    _check_api_key(ANTHROPIC_BASE, key, other, var)
