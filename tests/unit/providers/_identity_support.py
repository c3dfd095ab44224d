"""Shared pieces of the cache-identity property tests: build a provider from config the
way the engine does, key one fixed request, and strategies for option values."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from pydantic import BaseModel

from releasegate.config import ProviderConfig
from releasegate.providers import ChatProvider, ChatRequest, PriceTable, build_provider
from releasegate.providers.cache import CacheKeyer
from releasegate.providers.identity import CALL_POLICY_KEYS

REQUEST = ChatRequest(
    messages=({"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}),
    model="model-1",
    params={"temperature": 0},
    case_id="case-1",
    repeat=0,
    vars={"input": "hi", "tier": "gold"},
)

# Environment variables the SDKs read by themselves: unset while a provider is built.
_SDK_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
)

_PRINTABLE = st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="{}%#")
text = st.text(_PRINTABLE, min_size=1, max_size=12)
"""Printable text that is never a Jinja template (safe for headers and bodies)."""

name = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,10}", fullmatch=True)
header_name = st.from_regex(r"X-[A-Za-z][A-Za-z0-9-]{0,10}", fullmatch=True)
url = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}:{port}/{path}",
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9]{0,8}(\.[a-z]{2,4})?", fullmatch=True),
    st.integers(1, 65535),
    st.from_regex(r"[a-z0-9]{0,6}(/[a-z0-9]{1,6}){0,2}", fullmatch=True),
)
json_leaf = st.none() | st.booleans() | st.integers(-1000, 1000) | text
params = st.dictionaries(name, json_leaf, min_size=1, max_size=3)
headers = st.dictionaries(header_name, text, min_size=1, max_size=3)
env_name = st.from_regex(r"RG_TEST_[A-Z0-9_]{1,12}", fullmatch=True)
secret = st.from_regex(r"[A-Za-z0-9_-]{12,40}", fullmatch=True)
"""Token-like text (API keys, bearer tokens)."""

CALL_POLICIES: dict[str, st.SearchStrategy[Any]] = {
    "concurrency": st.integers(1, 1024),
    "rate_limit": st.floats(0.01, 1000),
    "timeout_s": st.floats(0.01, 3600),
    "max_retries": st.integers(0, 20),
}
assert set(CALL_POLICIES) == CALL_POLICY_KEYS

NOT_IDENTITY: dict[str, st.SearchStrategy[Any]] = {
    **CALL_POLICIES,
    "stream_usage": st.booleans(),  # read by the gateway only, never by a provider's call
}
"""Common keys that never count for the cache: the call policies and gateway options."""


@contextmanager
def environ(values: Mapping[str, str] | None = None) -> Iterator[None]:
    """Set ``values`` and unset the SDKs' own variables, restoring everything after."""
    saved = dict(os.environ)
    for var in _SDK_ENV:
        os.environ.pop(var, None)
    os.environ.update(values or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def build(
    config: Mapping[str, Any], *, root: Path, env: Mapping[str, str] | None = None
) -> ChatProvider:
    """The provider ``config`` describes, built as the engine builds it (``sys.path`` is
    restored after, so ``python`` providers' ``path`` entries do not pile up)."""
    saved_path = list(sys.path)
    try:
        with environ(env):
            return build_provider(
                "p", ProviderConfig.model_validate(dict(config)), pricing=PriceTable(), root=root
            )
    finally:
        sys.path[:] = saved_path


def key_of(
    config: Mapping[str, Any], *, root: Path, env: Mapping[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
    """The cache key of :data:`REQUEST` for ``config``, and the provider's identity."""
    provider = build(config, root=root, env=env)
    try:
        return CacheKeyer.for_provider(provider).key(REQUEST), provider.cache_identity()
    finally:
        asyncio.run(provider.aclose())


def all_options(options: type[BaseModel]) -> set[str]:
    """Every key a provider of this options model accepts (common keys but ``type``)."""
    return (set(ProviderConfig.model_fields) | set(options.model_fields)) - {"type"}


_BASE_KEYS: dict[str, str] = {}  # a base config's key, built once per test session


def check_one_change(
    data: st.DataObject,
    base: Mapping[str, Any],
    relevant: Mapping[str, st.SearchStrategy[Any]],
    irrelevant: Mapping[str, st.SearchStrategy[Any]],
    *,
    root: Path,
    same: Any = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Change one option of ``base``: the key changes iff the option is relevant.

    ``same(option, a, b)`` may say two values mean the same (skipped); ``env`` is set
    while the providers are built.
    """
    option = data.draw(st.sampled_from(sorted({*relevant, *irrelevant})), label="option")
    strategy = relevant[option] if option in relevant else irrelevant[option]
    value = data.draw(strategy, label="value")
    assume(value != base.get(option))
    if same is not None:
        assume(not same(option, base.get(option), value))
    memo = json.dumps([base, str(root), env], sort_keys=True)
    if memo not in _BASE_KEYS:
        _BASE_KEYS[memo] = key_of(base, root=root, env=env)[0]
    before = _BASE_KEYS[memo]
    after, identity = key_of({**base, option: value}, root=root, env=env)
    if option in relevant:
        assert after != before, f"changing {option!r} to {value!r} kept the cache key"
    else:
        assert after == before, f"changing {option!r} (irrelevant) changed the cache key"
    json.dumps(identity)  # plain JSON: stable, no objects


def assert_secret_hidden(value: str, identity: Mapping[str, Any], key: str) -> None:
    """The clear-text secret is neither in the identity nor in the key."""
    assert value not in json.dumps(identity)
    assert value not in key
