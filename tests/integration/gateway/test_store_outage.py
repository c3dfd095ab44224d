"""The deployment store unreachable: a feature routed before keeps its routing; one never
routed by this gateway gets 503 `routing_unavailable` (not a bare 500), with its record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from releasegate.ports import UnitOfWork


def _down() -> UnitOfWork:
    raise ConnectionError("connection refused (the store is down)")


@pytest.mark.parametrize("units", [["u1"], ["u1", "u2", "u3"]])
async def test_a_feature_never_routed_gets_503_with_retry_after(
    make_rig: Callable[..., Any], units: list[str]
) -> None:
    rig = await make_rig()
    rig.router._uow_factory = _down
    for unit in units:
        res = await rig.chat(headers={"X-Releasegate-Unit": unit})
        assert res.status_code == 503, res.text
        assert res.json()["error"]["code"] == "routing_unavailable"
        assert "deployment store cannot be read" in res.json()["error"]["message"]
        assert res.headers["retry-after"] == "1"
        assert res.headers["x-request-id"]
    records = rig.recorder.records
    assert len(records) == len(units)
    assert all(r["error_stage"] == "route" and r["status"] == 503 for r in records)


async def test_a_feature_routed_before_keeps_its_routing(make_rig: Callable[..., Any]) -> None:
    rig = await make_rig(canary_share=0.5)
    before = {}
    for unit in ("a", "b", "c", "d"):
        res = await rig.chat(headers={"X-Releasegate-Unit": unit})
        before[unit] = res.headers["x-releasegate-version"]
    rig.router._uow_factory = _down
    for unit in ("a", "b", "c", "d"):
        res = await rig.chat(headers={"X-Releasegate-Unit": unit})
        assert res.status_code == 200, res.text
        assert res.headers["x-releasegate-version"] == before[unit]
