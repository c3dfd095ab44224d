"""An interaction's tool calls and the tools offered, stored in SQLite and PostgreSQL,
and the migration that adds their columns."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from releasegate.online import RecordingService
from releasegate.online.scoring import interaction_sample
from releasegate.store import create_engine, downgrade, upgrade
from releasegate.store.database import open_database

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Find an order ✓",
            "parameters": {"type": "object", "properties": {"id": {"type": "integer"}}},
        },
    }
]
CALLS: list[Any] = [
    {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"id": 7}'}},
    {"id": "call_2", "type": "function"},  # malformed: kept as received
    "not even an object",
]


def test_tool_calls_and_tools_round_trip(database_url: str) -> None:
    db = open_database(database_url)
    records = [
        {"feature": "chat", "request_id": "calls", "tool_calls": CALLS, "tools": TOOLS},
        {"feature": "chat", "request_id": "both", "response": "Sure.", "tool_calls": CALLS[:1]},
        {"feature": "chat", "request_id": "text", "response": "Hello"},
    ]
    RecordingService(db.uow(), clock=lambda: T0).record_json({"records": records})
    with db.uow(write=False) as uow:
        stored = uow.interactions.by_request_ids(["calls", "both", "text"])
    assert stored["calls"].tool_calls == CALLS and stored["calls"].tools == TOOLS
    assert stored["calls"].response is None
    assert stored["both"].tool_calls == CALLS[:1] and stored["both"].tools is None
    assert stored["text"].tool_calls is None and stored["text"].tools is None
    sample = interaction_sample(stored["calls"])
    assert sample.tool_calls == tuple(CALLS) and sample.tools == tuple(TOOLS)
    assert sample.output == ""
    # A retried batch is a duplicate (same content), a changed call a conflict.
    again = RecordingService(db.uow(), clock=lambda: T0).record_json({"records": records})
    assert again.duplicates == 3
    changed = [{**records[1], "tool_calls": CALLS[:2]}]
    result = RecordingService(db.uow(), clock=lambda: T0).record_json({"records": changed})
    assert [c.request_id for c in result.conflicts] == ["both"]
    db.close()


def test_migration_adds_and_removes_the_columns(database_url: str) -> None:
    engine = create_engine(database_url)
    legacy = json.dumps({"tool_calls": CALLS[:1]})
    try:
        downgrade(engine, "0008_prompt_snapshot")
        cols = {c["name"] for c in sa.inspect(engine).get_columns("interactions")}
        assert "tool_calls" not in cols and "tools" not in cols
        with engine.begin() as conn:  # a row written by a gateway of that time
            conn.execute(
                sa.text(
                    "INSERT INTO interactions (request_id, feature, arm, response, created_at) "
                    "VALUES ('old', 'chat', 'incumbent', :response, :at)"
                ),
                {"response": legacy, "at": T0.replace(tzinfo=None)},
            )
        upgrade(engine)
        cols = {c["name"] for c in sa.inspect(engine).get_columns("interactions")}
        assert {"tool_calls", "tools"} <= cols
    finally:
        engine.dispose()
    db = open_database(database_url)
    try:
        with db.uow(write=False) as uow:
            old = uow.interactions.by_request_ids(["old"])["old"]
        assert old.tool_calls is None and old.tools is None
        sample = interaction_sample(old)
        assert (sample.output, sample.tool_calls) == ("", tuple(CALLS[:1]))
    finally:
        db.close()


ODD_CALLS: list[Any] = [
    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}, "n": 2**70},
    {"id": "c2", "text": "héllo — 你好 🙂", "floats": [1e16, 1e-7, -0.0], "deep": [[{}]]},
    {"id": "c3", "null": None, "word": "null", "int": 2**63 - 1},
]


def test_json_columns_round_trip_every_shape(database_url: str) -> None:
    db = open_database(database_url)
    records = [
        {"feature": "chat", "request_id": f"odd-{i}", "tool_calls": [c]}
        for i, c in enumerate(ODD_CALLS)
    ]
    records.append(
        {
            "feature": "chat",
            "request_id": "all",
            "tool_calls": ODD_CALLS,
            "prompt": [{"role": "user", "content": "ça va ✓"}],
        }
    )
    RecordingService(db.uow(), clock=lambda: T0).record_json({"records": records})
    with db.uow(write=False) as uow:
        stored = uow.interactions.by_request_ids([r["request_id"] for r in records])
    for i, call in enumerate(ODD_CALLS):
        assert stored[f"odd-{i}"].tool_calls == [call]
    assert stored["all"].tool_calls == ODD_CALLS
    assert stored["all"].prompt == [{"role": "user", "content": "ça va ✓"}]
    # A retried batch is all duplicates (the content hash is stable across shapes).
    again = RecordingService(db.uow(), clock=lambda: T0).record_json({"records": records})
    assert (again.created, again.duplicates, again.conflicts) == (0, len(records), [])
    if database_url.startswith("sqlite"):
        # Written by orjson: UTF-8 text, no \u escapes, no spaces.
        with create_engine(database_url).connect() as conn:
            raw = conn.execute(
                sa.text("SELECT prompt FROM interactions WHERE request_id = 'all'")
            ).scalar_one()
        assert raw == '[{"role":"user","content":"ça va ✓"}]'
    db.close()
