"""What of a gateway record goes to the stored interaction's metadata."""

from __future__ import annotations

import pytest

from releasegate.gateway._call import Call
from releasegate.gateway._to_record import to_interaction


@pytest.mark.parametrize(("estimated", "expected"), [(True, True), (False, None)])
def test_usage_estimated_reaches_the_metadata_only_when_true(
    estimated: bool, expected: bool | None
) -> None:
    call = Call(t0=0.0, wall=1_700_000_000.0, request_id="r1", clock=lambda: 0.5)
    call.feature, call.status = "chat", 200
    call.usage_estimated = estimated
    record = call.record()
    assert record["usage_estimated"] is expected
    meta = to_interaction(record)["metadata"]
    assert meta.get("usage_estimated") is expected
