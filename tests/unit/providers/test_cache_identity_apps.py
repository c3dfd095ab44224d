"""Cache identity of application targets (``http``, ``python``): every option that can
change an answer changes the cache key, call policies do not, secrets stay hidden."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasegate.providers.cache import CacheKeyer
from releasegate.providers.http import HttpOptions
from releasegate.providers.identity import code_digest
from releasegate.providers.jsonpath import parse_path
from releasegate.providers.python import PythonOptions
from tests.unit.providers import _identity_support as s

ROOT = Path(__file__).parent
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- http -------------------------------------------------------------------------------

HTTP_BASE: dict[str, Any] = {
    "type": "http",
    "url": "http://127.0.0.1:9/chat",
    "body": {"q": "{{ input }}", "history": "{{ messages }}"},
    "json_path": "$.answer",
    "headers": {"X-Variant": "a"},
}
json_path = st.lists(
    st.from_regex(r"[a-z]{1,5}", fullmatch=True) | st.integers(0, 5), min_size=1, max_size=3
).map(lambda parts: "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts))
body = st.dictionaries(s.name, s.json_leaf | st.lists(s.json_leaf, max_size=2), max_size=3)
HTTP_RELEVANT: dict[str, st.SearchStrategy[Any]] = {
    "url": s.url,
    "method": st.sampled_from(["PUT", "PATCH", "GET"]),
    "body": body,
    "json_path": json_path,
    "usage_path": json_path,
    "headers": s.headers,
    "model": s.text,
    "params": s.params,
}
# The http provider sends neither a base URL nor an API key of its own.
HTTP_IRRELEVANT = {**s.NOT_IDENTITY, "base_url": s.url, "api_key_env": s.env_name}


def _same_http(option: str, a: Any, b: Any) -> bool:
    if option in {"json_path", "usage_path"} and a is not None:
        return parse_path(a) == parse_path(b)
    if option == "headers":
        return {k.lower(): v for k, v in a.items()} == {k.lower(): v for k, v in b.items()}
    return False


def test_every_http_option_is_classified() -> None:
    assert set(HTTP_RELEVANT) | set(HTTP_IRRELEVANT) == s.all_options(HttpOptions)


@SETTINGS
@given(data=st.data())
def test_http_key_follows_every_answer_changing_option(data: st.DataObject) -> None:
    s.check_one_change(data, HTTP_BASE, HTTP_RELEVANT, HTTP_IRRELEVANT, root=ROOT, same=_same_http)


@pytest.mark.parametrize(
    "change",
    [
        {"headers": {"X-Variant": "b"}},
        {"headers": {"X-Variant": "a", "X-Tenant": "t1"}},
        {"url": "http://127.0.0.1:9/chat?variant=b"},
        {"url": "http://127.0.0.1:9/chat/v2"},
        {"body": {"q": "{{ input }}", "history": "{{ messages }}", "mode": "strict"}},
        {"body": {"q": "{{ input | upper }}", "history": "{{ messages }}"}},
        {"json_path": "$.data.answer"},
        {"params": {"temperature": 0.7}},
    ],
)
def test_http_examples_change_the_key(change: dict[str, Any]) -> None:
    assert s.key_of({**HTTP_BASE, **change}, root=ROOT)[0] != s.key_of(HTTP_BASE, root=ROOT)[0]


def test_http_equivalent_spellings_share_the_key() -> None:
    base = s.key_of(HTTP_BASE, root=ROOT)[0]
    assert s.key_of({**HTTP_BASE, "json_path": "answer"}, root=ROOT)[0] == base
    assert s.key_of({**HTTP_BASE, "headers": {"x-variant": "a"}}, root=ROOT)[0] == base


@SETTINGS
@given(
    token=s.secret,
    other=s.secret,
    var=s.env_name,
    header=st.sampled_from(["Authorization", "X-Custom"]),
)
def test_http_header_from_env_is_digested(token: str, other: str, var: str, header: str) -> None:
    config = {**HTTP_BASE, "headers": {header: f"Bearer {{{{ env.{var} }}}}"}}
    key, identity = s.key_of(config, root=ROOT, env={var: token})
    s.assert_secret_hidden(token, identity, key)
    if other != token:
        assert s.key_of(config, root=ROOT, env={var: other})[0] != key


@SETTINGS
@given(
    token=s.secret, header=st.sampled_from(["Authorization", "x-api-key", "X-Auth-Token", "Cookie"])
)
def test_http_literal_credential_header_is_digested(token: str, header: str) -> None:
    key, identity = s.key_of({**HTTP_BASE, "headers": {header: token}}, root=ROOT)
    s.assert_secret_hidden(token, identity, key)


@SETTINGS
@given(token=s.secret, param=st.sampled_from(["api_key", "token", "sig", "code_secret"]))
def test_http_credential_in_url_or_body_is_digested(token: str, param: str) -> None:
    config = {
        **HTTP_BASE,
        "url": f"https://user:{token}@app.test/chat?{param}={token}&v=1",
        "body": {"q": "{{ input }}", param: token},
    }
    key, identity = s.key_of(config, root=ROOT)
    s.assert_secret_hidden(token, identity, key)


def test_http_key_follows_case_id_and_vars() -> None:
    provider = s.build(HTTP_BASE, root=ROOT)
    keyer = CacheKeyer.for_provider(provider)
    base = keyer.key(s.REQUEST)
    assert keyer.key(s.REQUEST.__class__(**{**_fields(s.REQUEST), "case_id": "other"})) != base
    assert keyer.key(s.REQUEST.__class__(**{**_fields(s.REQUEST), "vars": {"input": "x"}})) != base


def _fields(request: Any) -> dict[str, Any]:
    return {f: getattr(request, f) for f in request.__slots__}


# -- python -----------------------------------------------------------------------------

PY_BASE: dict[str, Any] = {"type": "python", "function": "tests.unit.providers._py_targets:answer"}
PY_DIRS = ("a", "b", "c")
PY_RELEVANT: dict[str, st.SearchStrategy[Any]] = {
    "function": st.sampled_from(
        [f"tests.unit.providers._py_targets:{f}" for f in ("shout", "everything", "Bot.answer")]
    ),
    "model": s.text,
    # Empty directories under the py_root fixture.
    "path": st.sampled_from(PY_DIRS) | st.lists(st.sampled_from(PY_DIRS), min_size=1, max_size=2),
}
# Not sent to the function: the engine passes only input, vars, messages and case_id.
PY_IRRELEVANT = {
    **s.NOT_IDENTITY,
    "base_url": s.url,
    "api_key_env": s.env_name,
    "headers": s.headers,
    "params": s.params,
}


def test_every_python_option_is_classified() -> None:
    assert set(PY_RELEVANT) | set(PY_IRRELEVANT) == s.all_options(PythonOptions)


@pytest.fixture(scope="module")
def py_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("py-root")
    for name in PY_DIRS:
        (root / name).mkdir()
    return root


@SETTINGS
@given(data=st.data())
def test_python_key_follows_every_answer_changing_option(
    py_root: Path, data: st.DataObject
) -> None:
    s.check_one_change(data, PY_BASE, PY_RELEVANT, PY_IRRELEVANT, root=py_root)


@pytest.mark.parametrize(
    ("function", "fields"),
    [
        ("answer", {"vars"}),  # input comes from vars["input"] or the messages
        ("by_case", {"case_id"}),
        ("everything", {"case_id", "vars"}),
        ("Bot.answer", {"vars"}),
    ],
)
def test_python_key_follows_the_arguments_the_function_takes(
    function: str, fields: set[str]
) -> None:
    provider = s.build(
        {**PY_BASE, "function": f"tests.unit.providers._py_targets:{function}"}, root=ROOT
    )
    assert provider.cache_request_fields == fields
    keyer = CacheKeyer.for_provider(provider)
    base = keyer.key(s.REQUEST)
    for field, value in (("case_id", "other"), ("vars", {"input": "x"})):
        changed = keyer.key(s.REQUEST.__class__(**{**_fields(s.REQUEST), field: value}))
        assert (changed != base) == (field in fields)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("def f(input):\n    return input\n", "def f(input):\n    return input.upper()\n", False),
        ("def f(input):\n    return input\n", "def f(input):\n    return input\n", True),
        (
            "X = 1\ndef f(input):\n    return str(X)\n",
            "X = 2\ndef f(input):\n    return str(X)\n",
            False,
        ),
    ],
)
def test_python_code_digest_follows_the_module_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: str, second: str, same: bool
) -> None:
    import importlib.util

    digests = []
    for i, source in enumerate((first, second)):
        file = tmp_path / f"rg_target_{i}.py"
        file.write_text(source)
        spec = importlib.util.spec_from_file_location(f"rg_target_{i}", file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, module)
        spec.loader.exec_module(module)
        digests.append(code_digest(module.f))
    assert digests[0] is not None
    assert (digests[0] == digests[1]) == same
