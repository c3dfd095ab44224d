"""Recording and feedback services on the in-memory unit of work: validation of a
whole batch, idempotency by request id, conflicts, arms, redaction, late feedback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from releasegate.control.deployments import DeploymentService
from releasegate.online import FeedbackService, RecordError, RecordingService, TooLarge
from releasegate.online.limits import MAX_BATCH_RECORDS
from releasegate.store.memory import InMemoryUnitOfWork, MemoryData

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def rec(request_id: str, **extra: Any) -> dict[str, Any]:
    return {"feature": "chat", "request_id": request_id, "response": "hi", **extra}


@pytest.fixture
def data() -> MemoryData:
    return MemoryData()


def recording(data: MemoryData) -> RecordingService:
    return RecordingService(InMemoryUnitOfWork(data), clock=lambda: T0)


def feedback(data: MemoryData) -> FeedbackService:
    return FeedbackService(InMemoryUnitOfWork(data), clock=lambda: T0)


BAD = [
    ("feature", {"feature": "_tokens"}, "reserved"),
    ("feature", {"feature": "a b"}, "starting with a letter or digit"),
    ("request_id", {"request_id": "x" * 65}, "at most 64"),
    ("request_id", {"request_id": "a b"}, "visible ASCII"),
    ("request_id", {"request_id": ""}, "at least 1"),
    ("latency_ms", {"latency_ms": -1}, "greater than or equal to 0"),
    ("ttft_ms", {"ttft_ms": "soon"}, "valid number"),
    ("cost_usd", {"cost_usd": float("inf")}, "finite"),
    ("prompt_tokens", {"prompt_tokens": 1.5}, "valid integer"),
    ("fallback_depth", {"fallback_depth": 99}, "less than or equal to 20"),
    ("shadow", {"shadow": "yes"}, "valid boolean"),
    ("arm", {"arm": "blue"}, "'incumbent', 'canary' or 'fallback'"),
    ("at", {"at": "2025-03-01T12:00:00"}, "timezone"),
    ("response", {"response": "a\x00b"}, "NUL"),
    ("prompt[0].role", {"prompt": [{"content": "x"}]}, "required"),
    ("prompt[0].content", {"prompt": [{"role": "user", "content": 5}]}, "string, a list"),
    ("context[1]", {"context": ["ok", "x" * 50_001]}, "at most 50000"),
    ("metadata.k", {"metadata": {"k": [1]}}, "metadata values"),
    ("colour", {"colour": "red"}, "Extra inputs"),
]


@pytest.mark.parametrize(("field", "change", "reason"), BAD, ids=[b[0] for b in BAD])
def test_each_bad_field_refuses_the_whole_batch_naming_it(
    data: MemoryData, field: str, change: dict[str, Any], reason: str
) -> None:
    batch = [rec("ok-1"), {**rec("bad"), **change}, rec("ok-2")]
    with pytest.raises(RecordError) as caught:
        recording(data).record_json({"records": batch})
    where = [p.where for p in caught.value.problems]
    assert f"records[1].{field}" in where, where
    assert reason in str(caught.value)
    assert not data.interactions  # nothing half-written


def test_too_many_records_is_too_large_and_writes_nothing(data: MemoryData) -> None:
    batch = [rec(f"r{i}") for i in range(MAX_BATCH_RECORDS + 1)]
    with pytest.raises(TooLarge, match=f"the limit is {MAX_BATCH_RECORDS}"):
        recording(data).record_json({"records": batch})
    assert not data.interactions


@pytest.mark.parametrize("body", [[], {"records": {}}, {"records": [], "more": 1}, "x"])
def test_a_body_of_the_wrong_shape_is_refused(data: MemoryData, body: Any) -> None:
    with pytest.raises(RecordError):
        recording(data).record_json(body)


def test_a_retried_batch_never_duplicates(data: MemoryData) -> None:
    batch = {"records": [rec("a", at=T0.isoformat()), rec("b")]}
    first = recording(data).record_json(batch)
    again = recording(data).record_json(batch)
    assert (first.created, first.duplicates) == (2, 0)
    assert (again.created, again.duplicates, again.conflicts) == (0, 2, [])
    assert sorted(i.request_id for i in data.interactions.values()) == ["a", "b"]


def test_a_conflicting_resend_is_reported_and_the_stored_record_kept(data: MemoryData) -> None:
    recording(data).record_json({"records": [rec("a", response="first")]})
    result = recording(data).record_json({"records": [rec("a", response="second"), rec("c")]})
    assert result.created == 1
    assert [(c.index, c.request_id) for c in result.conflicts] == [(0, "a")]
    assert "different content" in result.conflicts[0].reason
    stored = {i.request_id: i for i in data.interactions.values()}
    assert stored["a"].response == "first"


def test_the_same_request_id_twice_in_one_batch(data: MemoryData) -> None:
    result = recording(data).record_json(
        {"records": [rec("a"), rec("a"), rec("a", response="other")]}
    )
    assert (result.created, result.duplicates, len(result.conflicts)) == (1, 1, 1)


def test_text_fields_are_redacted_before_they_are_stored(data: MemoryData) -> None:
    recording(data).record_json(
        {
            "records": [
                rec(
                    "a",
                    prompt=[{"role": "user", "content": "I am bob@example.com"}],
                    response="call 555-123-4567",
                    context=["card 4111 1111 1111 1111"],
                    error="for bob@example.com",
                    metadata={"email": "bob@example.com", "n": 3},
                )
            ]
        }
    )
    (stored,) = data.interactions.values()
    assert stored.prompt == [{"role": "user", "content": "I am [EMAIL]"}]
    assert stored.response == "call [PHONE]"
    assert stored.context == ["card [CARD]"]
    assert stored.error == "for [EMAIL]"
    assert stored.metadata == {"email": "[EMAIL]", "n": 3}


def test_assigned_deployment_and_arm(data: MemoryData) -> None:
    svc = DeploymentService(InMemoryUnitOfWork(data))
    for v in ("v1", "v2"):
        svc.register("chat", v, prompt=f"p@{v}", model="m", actor="t")
        svc.approve("chat", v, actor="t")
    svc.promote("chat", "v1", actor="t")
    svc.canary("chat", "v2", actor="t", share=0.1)
    recording(data).record_json(
        {
            "records": [
                rec("a", version="v2"),
                rec("b", version="v1"),
                rec("c", version="v2", served_version="v1", fallback_depth=1, arm="canary"),
                rec("d", version="v9"),
            ]
        }
    )
    stored = {i.request_id: i for i in data.interactions.values()}
    ids = {d.version: d.id for d in data.deployments.values()}
    assert (stored["a"].arm, stored["a"].deployment_id) == ("canary", ids["v2"])
    assert (stored["b"].arm, stored["b"].deployment_id) == ("incumbent", ids["v1"])
    # A fallback still counts for the arm its unit was assigned to.
    assert (stored["c"].arm, stored["c"].deployment_id) == ("canary", ids["v2"])
    assert stored["c"].fallback_used and stored["c"].served_version == "v1"
    assert stored["d"].deployment_id is None
    assert stored["a"].at == T0  # no time given: the server's


def test_feedback_before_its_interaction_is_kept_and_joined(data: MemoryData) -> None:
    out = feedback(data).give_json({"request_id": "late", "rating": "down", "comment": "me@x.io"})
    assert [o.status for o in out] == ["pending"]
    result = recording(data).record_json({"records": [rec("late", served_version="v3")]})
    assert result.feedback_joined == 1
    (fb,) = InMemoryUnitOfWork(data).__enter__().feedback.for_request("late")
    assert fb.interaction_id is not None and fb.served_version == "v3"
    assert fb.negative and fb.comment == "[EMAIL]"


def test_feedback_after_its_interaction_joins_at_once(data: MemoryData) -> None:
    recording(data).record_json({"records": [rec("r1", version="v1")]})
    out = feedback(data).give_json({"feedback": [{"request_id": "r1", "rating": 5}]})
    assert [(o.status, o.served_version) for o in out] == [("joined", "v1")]


def test_feedback_by_session_joins_the_latest_interaction_before_it(data: MemoryData) -> None:
    times = {"s1": T0, "s2": T0 + timedelta(minutes=1), "s3": T0 + timedelta(minutes=5)}
    recording(data).record_json(
        {
            "records": [
                rec(r, session_id="sess", served_version=r, at=t.isoformat())
                for r, t in times.items()
            ]
        }
    )
    at = (T0 + timedelta(minutes=2)).isoformat()
    out = feedback(data).give_json({"session_id": "sess", "rating": 2, "at": at})
    assert out[0].served_version == "s2"


def test_session_feedback_before_the_session_joins_when_it_arrives(data: MemoryData) -> None:
    feedback(data).give_json({"session_id": "new", "rating": "up"})
    result = recording(data).record_json({"records": [rec("x", session_id="new")]})
    assert result.feedback_joined == 1


def test_feedback_keys_are_idempotent_and_bad_feedback_is_refused(data: MemoryData) -> None:
    item = {"request_id": "r", "rating": "up", "key": "k1"}
    assert feedback(data).give_json(item)[0].status == "pending"
    assert feedback(data).give_json(item)[0].status == "duplicate"
    assert len(data.feedback) == 1
    for bad, where in [
        ({"rating": "up"}, "feedback[0]"),
        ({"request_id": "r", "rating": 6}, "feedback[0].rating"),
        ({"request_id": "r", "rating": True}, "feedback[0].rating"),
        ({"request_id": "r", "rating": "up", "comment": "x" * 4001}, "feedback[0].comment"),
    ]:
        with pytest.raises(RecordError) as caught:
            feedback(data).give_json(bad)
        assert caught.value.problems[0].where == where
    assert len(data.feedback) == 1


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([rec("a", version="v1"), rec("b")], []),
        ([rec("a", feature="chta", version="v1")], ["feature 'chta' has no registered"]),
        ([rec("a", feature="chta"), rec("b", feature="chta")], ["feature 'chta' has no"]),
        ([rec("a", version="v9"), rec("b", version="v9")], ["version 'v9' is not registered"]),
        (
            [rec("a", version="v9"), rec("b", feature="x1", version="v1"), rec("c")],
            ["version 'v9' is not registered", "feature 'x1' has no registered"],
        ),
    ],
)
def test_records_for_an_unregistered_feature_or_version_are_stored_with_a_warning(
    data: MemoryData, records: list[dict[str, Any]], expected: list[str]
) -> None:
    """Nothing is lost (a feature may be registered later), but a typo is named once."""
    svc = DeploymentService(InMemoryUnitOfWork(data))
    svc.register("chat", "v1", prompt="p@v1", model="m", actor="t")
    result = recording(data).record_json({"records": records})
    assert result.created == len(records)
    assert len(result.warnings) == len(expected)
    for warning, start in zip(result.warnings, expected, strict=True):
        assert start in warning and "stored" in warning
    assert result.to_json()["warnings"] == result.warnings


# Records of several shapes: non-ASCII text, an integer beyond 64 bits (orjson cannot
# encode it: the json path), nested metadata, tool calls, floats with exponents.
HASHED = [
    rec("h1", response="héllo — 你好 🙂"),
    rec("h2", metadata={"big": str(2**70), "n": 2**70 // 2**10}),
    rec("h3", prompt=[{"role": "user", "content": "hi"}], latency_ms=1e-7, cost_usd=1e16),
    rec("h4", tool_calls=[{"id": "c1", "type": "function", "function": {"name": "f"}}]),
    rec("h5", context=["a", "null", "NaN"], error="boom"),
]


@pytest.mark.parametrize("record", HASHED, ids=[r["request_id"] for r in HASHED])
def test_the_content_hash_ignores_key_order_and_tells_content_apart(
    data: MemoryData, record: dict[str, Any]
) -> None:
    from releasegate.online.recording import content_hash

    shuffled = dict(reversed(list(record.items())))
    assert content_hash(record) == content_hash(shuffled)
    assert content_hash(record) != content_hash({**record, "response": "other"})
    first = recording(data).record_json({"records": [record]})
    again = recording(data).record_json({"records": [shuffled]})
    assert (first.created, again.duplicates, again.conflicts) == (1, 1, [])


@pytest.mark.parametrize("record", HASHED, ids=[r["request_id"] for r in HASHED])
def test_a_retry_of_a_record_stored_with_the_earlier_hash_is_a_duplicate(
    data: MemoryData, record: dict[str, Any]
) -> None:
    from releasegate.online.recording import content_hash, legacy_content_hash

    recording(data).record_json({"records": [record]})
    (stored,) = data.interactions.values()
    new_hash = stored.content_hash
    # As a record stored before the hash changed carries it.
    stored.content_hash = legacy_content_hash(_stored_form(record))
    assert stored.content_hash != new_hash == content_hash(_stored_form(record))
    again = recording(data).record_json({"records": [record]})
    assert (again.created, again.duplicates, again.conflicts) == (0, 1, [])
    changed = recording(data).record_json({"records": [{**record, "response": "changed"}]})
    assert [c.request_id for c in changed.conflicts] == [record["request_id"]]


def _stored_form(record: dict[str, Any]) -> dict[str, Any]:
    # What the service hashes: the record's JSON form with the defaults filled in.
    from releasegate.online.records import parse_records

    (parsed,) = parse_records({"records": [record]})
    return parsed.model_dump(mode="json", exclude_none=True, exclude={"at"})
