"""The dashboard's eval reports, scoring backlog, breaker panel, recent rates per
version, explorer filters on scores and feedback, and one interaction's scores, in a
real browser. Eval reports are stored by the real ``releasegate eval --store``."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
import yaml

from releasegate.bootstrap import ControlPlaneParts
from releasegate.dashboard import create_dashboard
from releasegate.dashboard.health import StaticUpstreamHealth, UpstreamRow
from releasegate.store.database import open_database
from tests.e2e.dashboard._seed import HOSTILE, N_INTERACTIONS, N_SCORED
from tests.e2e.dashboard.conftest import Dashboard, Tab
from tests.e2e.dashboard.test_browse import sign_in
from tests.e2e.deploy._cli import CLI, free_port


def _project(root: Path) -> Path:
    """A suite of 12 cases on a scripted target; prompt 1.1.0 ("Question: ...") breaks
    three cases, one of them with markup as its answer."""
    (root / "prompts").mkdir(parents=True)
    cases = [
        {"id": f"c{i}", "input": f"token-{i}", "tags": ["core" if i % 2 else "edge"],
         "assert": [{"type": "contains", "value": f"token-{i}"}]}
        for i in range(12)
    ]  # fmt: skip
    (root / "cases.yaml").write_text(yaml.safe_dump(cases))
    config = {
        "version": 1,
        "providers": {
            "target": {
                "type": "scripted",
                "model": "gpt-4o-2024-11-20",
                "rules": [
                    {"match": "^Question: token-3$", "output": HOSTILE[1]},
                    {"match": "^Question: token-(5|7)$", "output": "no idea"},
                ],
            }
        },
        "prompts": "prompts/",
        "suites": {"pr": {"dataset": "cases.yaml", "prompt": "qa", "gate": {"min_pass_rate": 0.9}}},
    }
    path = root / "releasegate.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _prompt(root: Path, template: str, version: str) -> None:
    prompt = {"name": "qa", "version": version, "model": "gpt-4o-2024-11-20", "template": template}
    (root / "prompts" / "qa.yaml").write_text(yaml.safe_dump(prompt))


def _eval(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (this thread runs the browser's event loop)."""
    return subprocess.run([*CLI, "eval", *args], capture_output=True, text=True, timeout=300)


def test_eval_reports_stored_by_eval_and_browsed(
    tab: Tab, dashboard: Dashboard, tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    config = _project(root)
    _prompt(root, "Q: {{ input }}", "1.0.0")
    base = tmp_path / "base.json"
    r = _eval("-c", str(config), "-s", "pr", "-q", "-o", str(base),
               "--store", "--db", dashboard.db_url)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "stored in sqlite:///" in r.stderr
    _prompt(root, "Question: {{ input }}", "1.1.0")
    r = _eval("-c", str(config), "-s", "pr", "-q", "--baseline", str(base),
               "--store", "--db", dashboard.db_url)  # fmt: skip
    assert r.returncode == 1, r.stderr  # the gate failed, and the report is kept anyway
    r = _eval("-c", str(config), "-s", "pr", "--db", dashboard.db_url)
    assert r.returncode == 2 and "add --store" in r.stderr

    sign_in(tab, dashboard, dashboard.tokens.read)
    page = tab.page
    page.click("nav >> text=Eval reports")
    runs = page.locator("table.runs tbody tr")
    assert runs.count() == 2
    assert "1.1.0" in runs.first.inner_text() and "gate failed" in runs.first.inner_text()
    assert "1.0.0" in runs.nth(1).inner_text() and "not compared" in runs.nth(1).inner_text()
    tab.shot("evals")
    runs.first.locator("a").first.click()
    assert "/evals/" in page.url
    assert page.locator(".flash").first.inner_text().startswith("FAIL")
    baseline = page.locator("#baseline").inner_text()
    assert "Newly failing" in baseline and "c3" in baseline and "c5" in baseline
    assert "Mean score" in baseline and "interval" in baseline
    failing = page.locator("#failing details.case")
    assert failing.count() == 3
    assert page.locator("#failing pre.output").first.inner_text() in (HOSTILE[1], "no idea")
    assert HOSTILE[1] in page.locator("#failing").inner_text()  # shown as text
    assert page.locator("main script").count() == 0
    assert "contains" in page.locator("#failing table").first.inner_text()
    tab.shot("eval-report")
    assert not tab.dialogs and not tab.console_errors


def test_overview_shows_the_scoring_backlog(tab: Tab, dashboard: Dashboard) -> None:
    sign_in(tab, dashboard, dashboard.tokens.read)
    row = tab.page.locator("tr", has_text="support-chat")
    assert str(N_INTERACTIONS - N_SCORED) in row.locator("td.backlog").inner_text()
    assert "oldest" in row.locator("td.backlog").inner_text()
    assert "none" in tab.page.locator("tr", has_text="summarize").locator("td.backlog").inner_text()
    assert "No gateway has published breaker states" in tab.page.locator("#upstreams").inner_text()


@contextmanager
def _serve(parts: ControlPlaneParts, rows: list[UpstreamRow]) -> Iterator[str]:
    """The dashboard with a breaker-state source, on a real uvicorn in a thread."""
    port = free_port()
    app = create_dashboard(parts, health=StaticUpstreamHealth(rows))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(url + "/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_open_breakers_stand_out_on_the_overview(tab: Tab, dashboard: Dashboard) -> None:
    now = datetime.now(UTC)
    rows = [
        UpstreamRow("openai", "closed", 0.004, 0.0, now - timedelta(seconds=3), "gw-a:812"),
        UpstreamRow("vllm-eu", "open", 0.62, 27.0, now - timedelta(seconds=2), "gw-b:77"),
        UpstreamRow("anthropic", "half_open", 0.3, 0.0, now - timedelta(seconds=4), "gw-a:812"),
    ]
    database = open_database(dashboard.db_url)
    try:
        with _serve(ControlPlaneParts.on_database(database), rows) as url:
            served = Dashboard(url, dashboard.tokens, dashboard.db_url)
            sign_in(tab, served, dashboard.tokens.read)
            page = tab.page
            alerts = page.get_by_role("alert").all_inner_texts()
            assert any(a.startswith("2 upstreams failing") for a in alerts)
            table = page.locator("table.upstreams tbody tr")
            assert table.count() == 3
            assert page.locator("table.upstreams tr.alarm").count() == 1  # open: red
            assert page.locator("table.upstreams tr.warn").count() == 1  # half-open: amber
            assert "27 s" in page.locator("tr", has_text="vllm-eu").inner_text()
            tab.shot("overview-breakers")
    finally:
        database.close()


def test_feature_page_rates_per_version(tab: Tab, dashboard: Dashboard) -> None:
    sign_in(tab, dashboard, dashboard.tokens.read)
    page = tab.page
    page.goto(dashboard.url + "/features/support-chat")
    rates = page.locator("#rates table tbody tr")
    assert rates.count() == 2  # v2 (canary) and v1
    v1 = page.locator("#rates tr", has_text="v1").inner_text()
    assert "hallucination proxy" in page.locator("#rates thead").inner_text().lower()
    assert "of" in v1 and "$0.000500" in v1
    tab.shot_of("#rates", "feature-rates")
    assert not tab.dialogs


def test_explorer_filters_on_scores_and_feedback(tab: Tab, dashboard: Dashboard) -> None:
    sign_in(tab, dashboard, dashboard.tokens.read)
    page = tab.page
    page.click("nav >> text=Interactions")
    page.fill("input[name=check]", "faithfulness")
    page.fill("input[name=score_max]", "0.5")
    page.click("button:text('Filter')")
    rows = page.locator("table.interactions tbody tr")
    unfaithful = [n for n in range(N_SCORED) if n % 9 == 0]
    assert rows.count() == len(unfaithful)
    assert "faithfulness" in page.url and "score_max=0.5" in page.url
    tab.shot("interactions-filtered")
    page.goto(dashboard.url + "/interactions?feedback=negative")
    assert rows.count() == 2  # thumbs down on req-0007, 2 of 5 on req-0040
    page.goto(dashboard.url + "/interactions?score_min=x")
    assert "Ignored: score 'x' is not a number" in page.get_by_role("alert").inner_text()
    assert not tab.dialogs and not tab.console_errors


def test_one_interaction_with_its_scores_and_reasons(tab: Tab, dashboard: Dashboard) -> None:
    sign_in(tab, dashboard, dashboard.tokens.read)
    page = tab.page
    page.goto(dashboard.url + "/interactions/req-0009")
    scores = page.locator("#scores table").inner_text()
    assert "faithfulness" in scores and "router has a reset button" in scores
    assert page.locator("#scores tr.low").count() == 1
    tab.shot("interaction-scores")
    page.goto(dashboard.url + "/interactions/req-0008")
    assert HOSTILE[1] in page.locator("#scores").inner_text()
    assert page.locator("main script").count() == 0
    page.goto(dashboard.url + f"/interactions/req-{N_INTERACTIONS - 1:04d}")
    assert "not scored yet" in page.locator("#scores").inner_text()
    assert not tab.dialogs
