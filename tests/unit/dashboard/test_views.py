"""View functions over the in-memory store: overview, feature page, explorer pages."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from releasegate.bootstrap import ControlPlaneParts
from releasegate.dashboard import explorer, views
from releasegate.ports import Interaction
from tests.support.control import T0


def test_overview_puts_alarms_first_and_names_them(parts: ControlPlaneParts) -> None:
    rows = views.overview(parts)
    assert [r.feature for r in rows] == ["chat", "docs"]
    chat, docs = rows
    assert chat.alarm == "sample-ratio mismatch"  # the SRM failure, not just "hold"
    assert chat.canary is not None and chat.canary.version == "v2" and chat.stage == "1 of 4"
    assert chat.last is not None and chat.last.action == "hold"
    assert docs.alarm is None and docs.canary is None and docs.active == "v1"


def test_alarm_of_each_kind() -> None:
    from tests.unit.dashboard.conftest import decision

    assert views.alarm_of(None) is None
    assert views.alarm_of(decision(1, 0, "continue", 0.0)) is None
    for action in ("rollback", "hold", "alert"):
        assert views.alarm_of(decision(1, 0, action, 0.0)) == action


def test_feature_page_numbers_come_from_the_stats_and_decisions(parts: ControlPlaneParts) -> None:
    page = views.feature_page(parts, "chat")
    assert page.running and page.stage == "1 of 4" and not page.last_stage
    inc, can = page.arms
    assert (inc.arm, inc.version, can.arm, can.version) == ("incumbent", "v1", "canary", "v2")
    assert inc.requests == 10 and inc.mean_score == pytest.approx(0.8)
    assert can.latency_p50 is not None and 100.0 < can.latency_p50 < 112.0
    assert [c.check for c in page.checks] == ["faithfulness"]
    assert page.checks[0].arms["canary"][0] == 10
    assert [q.action for q in page.quality] == ["continue", "hold"]  # oldest first
    assert page.quality[1].lower == -0.07 and page.quality[1].margin == -0.02
    assert [d.action for d in page.decisions] == ["hold", "continue"]  # newest first
    assert page.audit[0].action == "canary" and page.audit[0].reason == "try v2"
    assert page.alarm == "sample-ratio mismatch"


def test_feature_page_without_a_canary(parts: ControlPlaneParts) -> None:
    page = views.feature_page(parts, "docs")
    assert not page.running and page.canary is None and page.arms == [] and page.quality == []


def _add(parts: ControlPlaneParts, n: int) -> None:
    records = [
        Interaction(
            request_id=f"r{i}",
            feature="chat" if i % 2 else "docs",
            arm="canary" if i % 3 == 0 else "incumbent",
            at=T0 + timedelta(seconds=i),
            content_hash=hashlib.sha256(str(i).encode()).hexdigest(),
            version="v2" if i % 3 == 0 else "v1",
            error="boom" if i % 7 == 0 else None,
            fallback_depth=1 if i % 11 == 0 else 0,
        )
        for i in range(n)
    ]
    with parts.uow_factory() as uow:
        uow.interactions.add_many(records)
        uow.commit()


def test_explorer_pages_cover_every_match_once(parts: ControlPlaneParts) -> None:
    _add(parts, 95)
    filters = explorer.Filters(feature="chat")
    seen: list[str] = []
    before = None
    while True:
        page = explorer.page(parts, filters, before=before, size=10)
        seen += [i.request_id for i in page.rows]
        if page.next_before is None:
            break
        before = page.next_before
    want = [f"r{i}" for i in range(94, -1, -1) if i % 2]
    assert seen == want
    assert page.versions == ["v1", "v2"] and page.features == ["chat", "docs"]


def test_explorer_filters(parts: ControlPlaneParts) -> None:
    _add(parts, 40)
    errors = explorer.page(parts, explorer.Filters(errors=True)).rows
    assert sorted(i.request_id for i in errors) == sorted(f"r{i}" for i in range(0, 40, 7))
    fb = explorer.page(parts, explorer.Filters(fallbacks=True, version="v2")).rows
    assert [i.request_id for i in fb] == ["r33", "r0"]
    assert explorer.interaction(parts, "r5") is not None
    assert explorer.interaction(parts, "nope") is None


def test_share_series_follows_the_audit_log(parts: ControlPlaneParts) -> None:
    clock = parts.clock
    clock.advance(minutes=30)  # type: ignore[attr-defined]
    svc = parts.deployments()
    svc.advance("chat", "v2", actor="t")
    clock.advance(minutes=30)  # type: ignore[attr-defined]
    page = views.feature_page(parts, "chat")
    shares = [v for _, v in page.shares]
    assert shares == [0.05, 0.25, 0.25]  # start, advance, now
    assert page.shares[-1][0] == clock.now()
    svc.rollback("chat", actor="t", reason="r")
    ended = views.feature_page(parts, "chat").shares
    assert [v for _, v in ended] == [0.05, 0.25, 0.0]
    assert views.feature_page(parts, "docs").shares == []
