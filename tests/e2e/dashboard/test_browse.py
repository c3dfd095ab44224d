"""Reading the dashboard in a real browser: sign-in, every page with data, charts drawn,
the explorer's pages, and hostile model output shown as text."""

from __future__ import annotations

import pytest

from tests.e2e.dashboard._seed import HOSTILE, N_INTERACTIONS
from tests.e2e.dashboard.conftest import Dashboard, Tab


def sign_in(tab: Tab, dash: Dashboard, secret: str) -> None:
    tab.page.goto(f"{dash.url}/login?token={secret}")
    assert tab.page.url == dash.url + "/"


def test_sign_in_form_refuses_bad_tokens_and_returns_to_the_asked_page(
    tab: Tab, dashboard: Dashboard
) -> None:
    page = tab.page
    page.goto(dashboard.url + "/features/search")
    assert "/login" in page.url  # not signed in: sent to the form
    tab.shot("login")
    for bad in ("rg_not-a-token", dashboard.tokens.ingest):  # unknown; ingest cannot read
        page.fill("#token", bad)
        page.click("button[type=submit]")
        assert page.get_by_role("alert").inner_text().startswith("Unknown or revoked token")
    page.fill("#token", dashboard.tokens.read)
    page.click("button[type=submit]")
    assert page.url == dashboard.url + "/features/search"
    cookie = next(c for c in page.context.cookies() if c["name"] == "releasegate_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert dashboard.tokens.read not in cookie["value"]
    assert not tab.dialogs  # (the refused sign-ins logged their 401s on the console)


def test_overview_lists_every_feature_and_alarms_stand_out(tab: Tab, dashboard: Dashboard) -> None:
    sign_in(tab, dashboard, dashboard.tokens.read)
    page = tab.page
    rows = page.locator("table.features tbody tr")
    assert rows.count() == 3
    alarm = page.locator("tr.alarm")
    assert alarm.count() == 1  # search: the analysis rolled its canary back
    assert "search" in alarm.inner_text() and "rollback" in alarm.inner_text()
    assert rows.first.locator("a.feature").inner_text() == "search"  # alarms come first
    chat = page.locator("tr", has_text="support-chat")
    assert "v1" in chat.inner_text() and "v2" in chat.inner_text() and "1 of 3" in chat.inner_text()
    assert "5.0%" in chat.inner_text()
    assert "Quality is not" in chat.locator(".reason").inner_text()
    assert page.get_by_role("alert").inner_text().startswith("1 feature needs attention")
    tab.shot("overview")
    assert not tab.dialogs and not tab.console_errors


def test_feature_page_shows_arms_charts_decisions_and_audit(tab: Tab, dashboard: Dashboard) -> None:
    sign_in(tab, dashboard, dashboard.tokens.read)
    page = tab.page
    page.click("a.feature:text-is('support-chat')")
    assert page.url.endswith("/features/support-chat")
    arms = page.locator("table.arms").inner_text().lower()
    assert "incumbent" in arms and "canary" in arms and "latency p50 / p95 / p99" in arms
    # the charts are drawn: one point per decision, bars per arm
    decisions = page.locator(".timeline > li")
    assert decisions.count() == 6
    assert page.locator("#quality-chart svg circle.point").count() == 6
    assert page.locator("#quality-chart svg path.band").count() == 1
    assert page.locator("#share-chart svg path.share-line").count() == 1
    assert page.locator("#latency-chart svg rect.bar.arm-canary").count() > 0
    assert page.locator("#latency-chart svg rect.bar.arm-incumbent").count() > 0
    checks = page.locator("table.checks").inner_text()
    assert "faithfulness" in checks and "relevance" in checks
    # a decision opens to its numbers
    first = decisions.first
    quality = first.locator("table.group", has=page.locator("th", has_text="quality"))
    assert not quality.is_visible()
    first.locator("summary").click()
    assert quality.is_visible()
    numbers = quality.locator("tbody td:first-child").all_inner_texts()
    assert {"diff", "lower", "upper", "margin", "alpha_advance"} <= set(numbers)
    audit = page.locator("table.audit").inner_text()
    assert "canary" in audit and "promote" in audit and "new tone" in audit
    tab.shot("feature-support-chat")  # with the latest decision open
    for chart in ("quality-chart", "share-chart", "latency-chart"):
        tab.shot_of(f"#{chart}", f"chart-{chart}")
    page.goto(dashboard.url + "/features/search")
    assert "rollback" in page.get_by_role("alert").inner_text()
    assert "releasegate-canary" in page.locator("table.audit").inner_text()
    tab.shot("feature-search")
    tab.shot_of("#quality-chart", "chart-quality-one-decision")
    page.goto(dashboard.url + "/features/summarize")  # no canary ever: no charts, no error
    assert page.locator("#quality-chart").count() == 0
    assert "better summaries" in page.locator("table.audit").inner_text()
    tab.shot("feature-summarize")
    page.goto(dashboard.url + "/features/no-such-feature")
    assert "has no deployments" in page.get_by_role("alert").inner_text()
    assert not tab.dialogs


def test_explorer_pages_and_filters(tab: Tab, dashboard: Dashboard) -> None:
    sign_in(tab, dashboard, dashboard.tokens.read)
    page = tab.page
    page.click("nav >> text=Interactions")
    rows = page.locator("table.interactions tbody tr")
    seen = []
    while True:
        seen += [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
        older = page.locator("a", has_text="Older")
        if older.count() == 0:
            break
        if len(seen) == 50:
            tab.shot("interactions")
        older.click()
    assert len(seen) == N_INTERACTIONS == len(set(seen))  # every row once, no gaps
    page.select_option("select[name=feature]", "support-chat")
    page.check("input[name=errors]")
    page.click("button:text('Filter')")
    assert rows.count() == 1 and "upstream timeout" in rows.first.inner_text()
    page.uncheck("input[name=errors]")
    page.check("input[name=fallbacks]")
    page.click("button:text('Filter')")
    assert rows.count() == 1 and "served by v1" in rows.first.inner_text()
    page.goto(dashboard.url + "/interactions?feature=support-chat&version=v2")
    assert rows.count() == N_INTERACTIONS // 5
    assert not tab.dialogs and not tab.console_errors


@pytest.mark.parametrize("request_id", ["req-0007", "req-0008"])
def test_hostile_output_renders_as_text(tab: Tab, dashboard: Dashboard, request_id: str) -> None:
    sign_in(tab, dashboard, dashboard.tokens.read)
    page = tab.page
    page.goto(dashboard.url + "/interactions?before=12")  # the oldest page: ids 1-11
    listed = page.locator("table.interactions").inner_text()
    assert HOSTILE[0] in listed and HOSTILE[1] in listed
    page.goto(f"{dashboard.url}/interactions/{request_id}")
    text = HOSTILE[int(request_id[-1]) - 7]
    assert page.locator("#response").inner_text() == text
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    assert "<b>help</b>" in page.locator(".message").nth(1).inner_text()
    if request_id == "req-0007":
        assert "<script>alert('comment')</script>" in page.locator("#feedback table").inner_text()
    page.wait_for_load_state("load")
    tab.shot(f"interaction-{request_id}")
    assert tab.dialogs == []
