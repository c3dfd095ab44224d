"""The SQLite response cache: hits and misses, batched writes flushed on close, and what
happens to a file or an entry that cannot be read. (Keys: test_cache_keys.py.)"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from releasegate.errors import ExitCode, UsageError
from releasegate.llm import ChatResponse, Usage
from releasegate.providers.cache import ResponseCache

ANSWER = ChatResponse(
    text="Paris", usage=Usage(12, 3), model="m-1", latency_ms=81.5, cost_usd=0.0004
)


def _rows(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        n: int = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    return n


def test_a_miss_is_none_and_a_hit_is_the_answer_marked_cached(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    assert cache.get("k1") is None
    cache.put("k1", ANSWER)
    hit = cache.get("k1")
    assert hit is not None and hit.cached
    assert (hit.text, hit.usage, hit.model, hit.latency_ms, hit.cost_usd) == (
        "Paris",
        Usage(12, 3),
        "m-1",
        81.5,
        0.0004,
    )
    assert cache.get("k2") is None
    cache.close()


def test_writes_are_batched_then_committed(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path, flush_every=3)
    cache.put("a", ANSWER)
    cache.put("b", ANSWER)
    assert _rows(path) == 0  # pending: not yet written ...
    assert cache.get("a") is not None  # ... but already served
    cache.put("c", ANSWER)
    assert _rows(path) == 3  # the third write flushed the batch
    cache.close()


def test_close_writes_the_pending_answers(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path)
    cache.put("k", ANSWER)
    cache.close()
    again = ResponseCache(path)
    hit = again.get("k")
    assert hit is not None and hit.text == "Paris"
    again.close()


def test_a_later_answer_replaces_an_earlier_one(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = ResponseCache(path)
    cache.put("k", ANSWER)
    cache.flush()
    cache.put("k", ChatResponse(text="Lyon"))
    cache.close()
    again = ResponseCache(path)
    hit = again.get("k")
    assert hit is not None and hit.text == "Lyon" and len(again) == 1
    again.close()


def test_len_and_clear_count_pending_answers_too(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    cache.put("a", ANSWER)
    cache.put("b", ANSWER)
    assert len(cache) == 2
    assert cache.clear() == 2
    assert len(cache) == 0 and cache.get("a") is None
    cache.close()


def test_the_folder_is_created_and_memory_makes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ResponseCache(tmp_path / "deep" / "er" / "cache.sqlite").close()
    assert (tmp_path / "deep" / "er" / "cache.sqlite").is_file()
    monkeypatch.chdir(tmp_path / "deep")
    memory = ResponseCache(":memory:")
    memory.put("k", ANSWER)
    assert memory.get("k") is not None
    memory.close()
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["er"]


@pytest.mark.parametrize(
    "content",
    [b"not a database, just text " * 8, b"SQLite format 3\x00" + b"\xff" * 200],
    ids=["text", "truncated-header"],
)
def test_a_file_that_is_not_a_cache_is_a_usage_error_naming_it(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(content)
    with pytest.raises(UsageError) as info:
        ResponseCache(path)
    message = str(info.value)
    assert message.startswith(f"response cache {path}: cannot be opened as a SQLite database")
    assert "delete the file" in message
    assert info.value.exit_code == ExitCode.USAGE
    assert path.read_bytes() == content  # left as it was


def test_a_folder_in_place_of_the_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.mkdir()
    with pytest.raises(UsageError, match=f"response cache {path}: cannot be opened"):
        ResponseCache(path)


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        "null",
        '{"prompt_tokens": 1}',
        '{"text": 42}',
        '{"text": "x", "prompt_tokens": "many"}',
        '{"text": "x", "model": ["m"]}',
        '{"text": "x", "cost_usd": "free"}',
    ],
)
def test_an_entry_that_cannot_be_read_is_a_miss_and_is_rewritten(tmp_path: Path, body: str) -> None:
    path = tmp_path / "cache.sqlite"
    ResponseCache(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO responses (key, created_at, body) VALUES ('k', 0, ?)", (body,))
    cache = ResponseCache(path)
    assert cache.get("k") is None
    cache.put("k", ANSWER)
    cache.close()
    again = ResponseCache(path)
    hit = again.get("k")
    assert hit is not None and hit.text == "Paris"
    again.close()


def test_an_entry_written_by_an_older_release_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    ResponseCache(path).close()
    with closing(sqlite3.connect(path)) as db, db:  # only the text: the rest has defaults
        db.execute("INSERT INTO responses VALUES ('k', 0, ?)", ('{"text": "old"}',))
    cache = ResponseCache(path)
    hit = cache.get("k")
    assert hit is not None
    assert (hit.text, hit.usage, hit.model, hit.cost_usd) == ("old", Usage(0, 0), None, None)
    cache.close()
