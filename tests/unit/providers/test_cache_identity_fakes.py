"""Cache identity of the providers without a network (``scripted``, ``replay``,
``local``): every option that can change an answer changes the cache key, the others
do not."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasegate.providers.cache import CacheKeyer
from releasegate.providers.local import LocalOptions
from releasegate.providers.replay import ReplayOptions
from releasegate.providers.scripted import ScriptedOptions
from tests.unit.providers import _identity_support as s

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Options these providers never read: they send nothing over HTTP.
OFFLINE_IRRELEVANT = {
    **s.NOT_IDENTITY,
    "base_url": s.url,
    "api_key_env": s.env_name,
    "headers": s.headers,
    "params": s.params,
}


def _case_keys(config: dict[str, Any], root: Path) -> tuple[str, str]:
    keyer = CacheKeyer.for_provider(s.build(config, root=root))
    other = dataclasses.replace(s.REQUEST, case_id="case-2")
    return keyer.key(s.REQUEST), keyer.key(other)


# -- scripted ---------------------------------------------------------------------------

SCRIPTED_BASE: dict[str, Any] = {"type": "scripted", "responses": {"case-1": "Paris"}}
probability = st.floats(0, 1)
SCRIPTED_RELEVANT: dict[str, st.SearchStrategy[Any]] = {
    "responses": st.dictionaries(
        s.name, s.text | st.lists(s.text, min_size=1, max_size=2), max_size=2
    ),
    "rules": st.lists(
        st.fixed_dictionaries({"match": s.name, "output": s.text}), min_size=1, max_size=2
    ),
    "default": s.text,
    "fail": st.dictionaries(
        s.name, st.sampled_from(["timeout", "500", "429"]), min_size=1, max_size=2
    ),
    "nondeterministic": st.dictionaries(s.name, probability, min_size=1, max_size=2),
    "pass_probability": probability,
    "wrong_output": s.text,
    "seed": st.integers(1, 10**6),
    "model": s.text,
}
SCRIPTED_IRRELEVANT = {**OFFLINE_IRRELEVANT, "latency_ms": st.floats(0, 10_000)}


def test_every_scripted_option_is_classified() -> None:
    assert set(SCRIPTED_RELEVANT) | set(SCRIPTED_IRRELEVANT) == s.all_options(ScriptedOptions)


@SETTINGS
@given(data=st.data())
def test_scripted_key_follows_every_answer_changing_option(data: st.DataObject) -> None:
    s.check_one_change(data, SCRIPTED_BASE, SCRIPTED_RELEVANT, SCRIPTED_IRRELEVANT, root=Path("."))


def test_scripted_answers_by_case_id_so_the_case_id_is_in_the_key() -> None:
    first, second = _case_keys(SCRIPTED_BASE, Path("."))
    assert first != second


# -- replay -----------------------------------------------------------------------------

record = st.fixed_dictionaries(
    {"case_id": s.name, "output": s.text},
    optional={"repeat": st.integers(0, 3), "model": s.text, "latency_ms": st.floats(0, 1e4)},
)
recording = st.lists(record, min_size=1, max_size=3)


@pytest.fixture(scope="module")
def replay_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("replay")
    (root / "base.jsonl").write_text(json.dumps({"case_id": "case-1", "output": "Paris"}) + "\n")
    return root


def _write(root: Path, records: list[dict[str, Any]], where: str = "") -> str:
    text = "".join(json.dumps(r) + "\n" for r in records)
    name = f"{where}rec-{hashlib.sha256(text.encode()).hexdigest()[:16]}.jsonl"
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)
    return name


REPLAY_BASE: dict[str, Any] = {"type": "replay", "file": "base.jsonl"}


def test_every_replay_option_is_classified() -> None:
    assert {"file", "model"} | set(OFFLINE_IRRELEVANT) == s.all_options(ReplayOptions)


@SETTINGS
@given(data=st.data())
def test_replay_key_follows_the_recording_not_its_path(
    replay_root: Path, data: st.DataObject
) -> None:
    records = data.draw(recording)
    changed = {**REPLAY_BASE, "file": _write(replay_root, records)}
    if records != [{"case_id": "case-1", "output": "Paris"}]:
        assert s.key_of(changed, root=replay_root)[0] != s.key_of(REPLAY_BASE, root=replay_root)[0]
    # The same recording elsewhere is the same provider.
    moved = {**REPLAY_BASE, "file": _write(replay_root, records, where="copy/")}
    assert s.key_of(moved, root=replay_root)[0] == s.key_of(changed, root=replay_root)[0]


@SETTINGS
@given(data=st.data())
def test_replay_other_options(replay_root: Path, data: st.DataObject) -> None:
    s.check_one_change(data, REPLAY_BASE, {"model": s.text}, OFFLINE_IRRELEVANT, root=replay_root)


def test_replay_case_id_is_in_the_key(replay_root: Path) -> None:
    first, second = _case_keys(REPLAY_BASE, replay_root)
    assert first != second


# -- local ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("local")
    for i, name in enumerate(["a.gguf", "b.gguf", "sub/a.gguf"]):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(b"G" * (10 + i))
    return root


LOCAL_BASE: dict[str, Any] = {"type": "local"}
LOCAL_RELEVANT: dict[str, st.SearchStrategy[Any]] = {
    "model": s.text,
    "params": s.params,
    "base_url": s.url,
    "n_ctx": st.integers(256, 131072).filter(lambda n: n != 2048),
    "max_tokens": st.integers(1, 131072).filter(lambda n: n != 512),
    "gguf": st.sampled_from(["a.gguf", "b.gguf", "sub/a.gguf"]),
}
# Threads and timeouts change speed, not answers; headers and keys are never sent.
LOCAL_IRRELEVANT = {
    **s.NOT_IDENTITY,
    "threads": st.integers(1, 256).filter(lambda n: n != 2),
    "startup_timeout_s": st.floats(0.1, 1e4),
    "api_key_env": s.env_name,
    "headers": s.headers,
}


def test_every_local_option_is_classified() -> None:
    assert set(LOCAL_RELEVANT) | set(LOCAL_IRRELEVANT) == s.all_options(LocalOptions)


@SETTINGS
@given(data=st.data())
def test_local_key_follows_every_answer_changing_option(
    local_root: Path, data: st.DataObject
) -> None:
    s.check_one_change(data, LOCAL_BASE, LOCAL_RELEVANT, LOCAL_IRRELEVANT, root=local_root)


def test_local_gguf_files_of_one_name_but_other_content_differ(local_root: Path) -> None:
    a = s.key_of({**LOCAL_BASE, "gguf": "a.gguf"}, root=local_root)[0]
    assert a != s.key_of({**LOCAL_BASE, "gguf": "sub/a.gguf"}, root=local_root)[0]


def test_local_case_id_is_not_in_the_key(local_root: Path) -> None:
    first, second = _case_keys(LOCAL_BASE, local_root)
    assert first == second
