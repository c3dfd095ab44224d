"""The buffered Python client against a real API server (uvicorn, SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from releasegate.control.tokens import TokenService
from releasegate.deploy.tokens import Scope
from releasegate.online import RecordError
from releasegate.online import client as rg_client
from releasegate.online.client import Recorder, settings_from_env
from releasegate.store import create_engine, upgrade
from releasegate.store.database import open_database
from tests.e2e.deploy._cli import free_port, serve_api


class CountingTransport(httpx.HTTPTransport):
    """The real HTTP transport, counting the requests it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return super().handle_request(request)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'rg.db'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def ingest_token(url: str) -> str:
    db = open_database(url)
    try:
        return TokenService(db.uow()).create("app", Scope.INGEST, actor="t").secret
    finally:
        db.close()


def request_ids(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT request_id FROM interactions ORDER BY id"))
            return [str(r) for r in rows.scalars()]
    finally:
        engine.dispose()


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    with serve_api(sqlite_url, tmp_path) as url:
        yield url


def test_records_are_sent_in_batches_and_flushed(server: str, sqlite_url: str) -> None:
    transport = CountingTransport()
    rec = Recorder(
        server, ingest_token(sqlite_url), batch_size=200, flush_interval_s=60, transport=transport
    )
    try:
        ids = [rec.record(feature="chat", response=f"answer {i}") for i in range(450)]
        rid = rec.record(feature="chat", request_id="fixed", session_id="s")
        rec.feedback(request_id=rid, rating="up", comment="thanks")
        assert rec.flush(timeout=60)
        stats = rec.stats()
        assert (stats.sent, stats.dropped, stats.rejected, stats.queued) == (452, 0, 0, 0)
        assert transport.requests == 4  # 200 + 200 + 51 records, then the feedback
    finally:
        rec.close()
    assert sorted(request_ids(sqlite_url)) == sorted([*ids, "fixed"])


def test_the_servers_warnings_are_logged_once(
    server: str, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    rec = Recorder(server, ingest_token(sqlite_url), batch_size=10, flush_interval_s=60)
    try:
        for batch in range(3):
            for i in range(10):
                rec.record(feature="chta" if i % 2 else "chta2", response=f"{batch} {i}")
            assert rec.flush(timeout=60)
    finally:
        rec.close()
    warned = [r.getMessage() for r in caplog.records if "has no registered" in r.getMessage()]
    assert len(warned) == 2 and {"'chta'" in w for w in warned} == {True, False}
    assert len(request_ids(sqlite_url)) == 30  # stored all the same


def test_a_full_buffer_drops_the_oldest_and_counts_them(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there yet: the server is down
    token = ingest_token(sqlite_url)
    rec = Recorder(
        f"http://127.0.0.1:{port}",
        token,
        max_buffer=5,
        batch_size=100,  # never a full batch: nothing leaves the buffer before flush()
        flush_interval_s=3600,
        attempts=2,
        backoff_s=0.01,
    )
    try:
        for i in range(12):
            rec.record(feature="chat", request_id=f"r{i:02d}")
        assert rec.stats().dropped == 7
        assert not rec.flush(timeout=1.0)  # the server is down: not everything was sent
        stats = rec.stats()
        assert stats.failed_attempts >= 1 and stats.sent == 0
        assert stats.queued <= 5 and stats.dropped == 7
        with serve_api(sqlite_url, tmp_path, port=port):
            assert rec.flush(timeout=60)
    finally:
        rec.close()
    assert request_ids(sqlite_url) == [f"r{i:02d}" for i in range(7, 12)]


def test_refusals_are_not_retried(server: str) -> None:
    rec = Recorder(server, "rg_wrong", flush_interval_s=60, attempts=5, backoff_s=0.01)
    try:
        rec.record(feature="chat")
        assert rec.flush(timeout=30)
        stats = rec.stats()
        assert (stats.rejected, stats.sent, stats.failed_attempts) == (1, 0, 0)
    finally:
        rec.close()


def test_bad_fields_raise_at_the_call_and_queue_nothing(server: str) -> None:
    rec = Recorder(server, None, flush_interval_s=60)
    try:
        with pytest.raises(RecordError, match=r"records\[0\]\.latency_ms"):
            rec.record(feature="chat", latency_ms=-1)
        with pytest.raises(RecordError, match=r"feedback\[0\]\.rating"):
            rec.feedback(request_id="r", rating=0)
        assert rec.stats().queued == 0
    finally:
        rec.close()


def test_module_functions_use_the_environment(
    server: str, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import releasegate

    monkeypatch.setenv("RELEASEGATE_API_URL", server)
    monkeypatch.setenv("RELEASEGATE_API_TOKEN", ingest_token(sqlite_url))
    assert settings_from_env().api_url == server
    try:
        rid = releasegate.record("chat", response="hi", latency_ms=12.0)
        releasegate.feedback(request_id=rid, rating=5)
        assert rg_client.flush(timeout=30)
        stats = rg_client.stats()
        assert stats is not None and stats.sent == 2
    finally:
        assert rg_client.shutdown()
    assert rg_client.stats() is None
    assert request_ids(sqlite_url) == [rid]


def test_without_a_url_the_client_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from releasegate.errors import UsageError

    monkeypatch.delenv("RELEASEGATE_API_URL", raising=False)
    with pytest.raises(UsageError, match="RELEASEGATE_API_URL"):
        rg_client.configure()
