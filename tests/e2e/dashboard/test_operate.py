"""Operating a rollout from the browser: confirmation, the change through the control
plane, the audit log; read tokens and forged forms are refused."""

from __future__ import annotations

from releasegate.bootstrap import open_control
from releasegate.deploy.status import Status
from tests.e2e.dashboard.conftest import Dashboard, Tab
from tests.e2e.dashboard.test_browse import sign_in


def test_rollback_button_rolls_back_and_the_audit_log_shows_it(
    tab: Tab, dashboard: Dashboard
) -> None:
    sign_in(tab, dashboard, dashboard.tokens.operate)
    page = tab.page
    page.goto(dashboard.url + "/features/support-chat")
    tab.shot("feature-operate")
    page.click("a.button:text('Roll back v2')")
    assert "/confirm/rollback" in page.url
    tab.shot("confirm-rollback")
    page.fill("#reason", "answers got rude <b>really</b>")
    page.click("button:text('Yes, roll back')")
    assert page.url.startswith(dashboard.url + "/features/support-chat?done=")
    assert "Done: Roll back" in page.get_by_role("status").inner_text()
    top = page.locator("table.audit tbody tr").first
    assert "rollback" in top.inner_text()
    assert "answers got rude <b>really</b>" in top.inner_text()
    assert "token:oncall (dashboard)" in top.inner_text()
    tab.shot("after-rollback")
    with open_control(dashboard.db_url) as parts:
        state = parts.deployments().status("support-chat")
    assert state.canary is None and state.active is not None and state.active.version == "v1"
    assert parts.deployments().get("support-chat", "v2").status is Status.ROLLED_BACK
    assert not tab.dialogs and not tab.console_errors


def test_approve_pause_and_resume(tab: Tab, dashboard: Dashboard) -> None:
    sign_in(tab, dashboard, dashboard.tokens.operate)
    page = tab.page
    page.goto(dashboard.url + "/features/support-chat")
    page.click("a.button:text('Approve next stage')")
    page.click("button:text('Yes, approve next stage')")
    summary = page.locator(".summary").inner_text()
    assert "25.0%" in summary and "stage 2 of 3" in summary
    page.click("a.button:text('Pause')")
    page.click("button:text('Yes, pause')")
    assert "paused" in page.locator(".summary").inner_text()
    page.click("a.button:text('Resume v2')")
    page.click("button:text('Yes, resume')")
    audit = page.locator("table.audit tbody tr")
    assert [audit.nth(i).locator("td").nth(1).inner_text() for i in range(3)] == [
        "resume",
        "pause",
        "advance",
    ]


def test_a_refused_change_is_explained_on_the_confirmation_page(
    tab: Tab, dashboard: Dashboard
) -> None:
    sign_in(tab, dashboard, dashboard.tokens.operate)
    page = tab.page
    # summarize has no canary and v1 (superseded) to restore: roll back v2 works once,
    # then there is nothing left to restore
    for _ in range(2):
        page.goto(dashboard.url + "/features/summarize")
        page.click("a.button:has-text('Roll back')")
        page.fill("#reason", "testing")
        page.click("button:text('Yes, roll back')")
    assert "/features/summarize/rollback" in page.url
    assert "no previous good version" in page.get_by_role("alert").inner_text()
    assert "the version it replaced becomes active again" in page.locator("main").inner_text()
    tab.shot("refused-rollback")


def test_read_token_sees_no_buttons_and_forged_posts_are_refused(
    tab: Tab, dashboard: Dashboard
) -> None:
    sign_in(tab, dashboard, dashboard.tokens.read)
    page = tab.page
    page.goto(dashboard.url + "/features/support-chat")
    assert page.locator("section.operate").count() == 0
    assert page.locator("a.button", has_text="Roll back").count() == 0
    tab.shot("feature-read-scope")
    response = page.goto(dashboard.url + "/features/support-chat/confirm/rollback?version=v2")
    assert response is not None and response.status == 403
    form = {"version": "v2", "reason": "forged"}
    target = dashboard.url + "/features/support-chat/rollback"
    # a read token, even with its own valid CSRF token, cannot operate
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    refused = page.request.post(target, form={**form, "csrf": csrf or ""})
    assert refused.status == 403 and "operate scope" in refused.text()
    # an operate session: no CSRF token, a wrong one, or another site's origin -> refused
    sign_in(tab, dashboard, dashboard.tokens.operate)
    assert page.request.post(target, form=form).status == 403
    assert page.request.post(target, form={**form, "csrf": "x" * 43}).status == 403
    page.goto(dashboard.url + "/features/support-chat")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    evil = {"Origin": "http://evil.example"}
    assert page.request.post(target, form={**form, "csrf": csrf or ""}, headers=evil).status == 403
    # without a session cookie at all (what a cross-site form gets under SameSite=Strict)
    page.context.clear_cookies()
    assert page.request.post(target, form={**form, "csrf": csrf or ""}).status == 401
    with open_control(dashboard.db_url) as parts:
        state = parts.deployments().status("support-chat")
    assert state.canary is not None and state.canary.status is Status.CANARY  # untouched
