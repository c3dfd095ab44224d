"""The eval reports pages, the overview's backlog and breaker panel, the explorer's
score and feedback filters, one interaction's scores, and the recent rates per version:
in process on the in-memory store, every text escaped."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from releasegate.bootstrap import ControlPlaneParts
from releasegate.canary.analysis import analyze_canary
from releasegate.canary.observations import ArmStats, Observation
from releasegate.canary.policy import CanaryPolicy
from releasegate.canary.records import StoredDecision
from releasegate.dashboard import create_dashboard
from releasegate.dashboard.explorer import parse_filters
from releasegate.dashboard.health import StaticUpstreamHealth, StoreUpstreamHealth, UpstreamRow
from releasegate.dashboard.views import quality_series
from releasegate.deploy.tokens import Scope
from releasegate.ports import FeedbackEntry, Interaction, StoredScore
from releasegate.stats.sequential import diff_bound
from tests.support.control import T0
from tests.support.eval_reports import report_pair

XSS = "<script>alert(1)</script>"
TOOL_CALLS: list[Any] = [
    {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": XSS}},
    {"id": "call_2", "type": "function"},  # malformed: shown as recorded
]
TOOLS = [{"type": "function", "function": {"name": "lookup"}}]


def _signed_in(parts: ControlPlaneParts, **kwargs: object) -> TestClient:
    client = TestClient(create_dashboard(parts, **kwargs), base_url="http://127.0.0.1")  # type: ignore[arg-type]
    name = f"viewer{len(parts.tokens().list())}"
    secret = parts.tokens().create(name, Scope.READ, actor="admin").secret
    client.get(f"/login?token={secret}")
    return client


def _record(parts: ControlPlaneParts) -> None:
    with parts.uow_factory() as uow:
        rows = [
            Interaction(
                request_id=f"req-{i}",
                feature="chat",
                arm="incumbent",
                version="v1",
                at=T0 + timedelta(seconds=i),
                content_hash=hashlib.sha256(str(i).encode()).hexdigest(),
                response=XSS if i == 3 else (None if i == 4 else f"answer {i}"),
                error="upstream 503" if i == 2 else None,
                fallback_depth=1 if i == 1 else 0,
                prompt_tokens=100,
                completion_tokens=20,
                cost_usd=0.002,
                score_due=True,
                tool_calls=TOOL_CALLS if i == 4 else None,
                tools=TOOLS if i == 4 else None,
            )
            for i in range(6)
        ]
        uow.interactions.add_many(rows)
        for r in rows[:4]:
            assert r.id is not None
            low = r.request_id == "req-3"
            uow.scores.add(StoredScore(r.id, "overall", 0.2 if low else 0.9, "measured", T0))
            reason = f"claim not in context {XSS}" if low else "supported"
            uow.scores.add(
                StoredScore(r.id, "faithfulness", 0.1 if low else 1.0, "measured", T0, reason)
            )
        fb = uow.feedback.add(
            FeedbackEntry(rating=0.0, scale="thumbs", at=T0, request_id="req-3", comment=XSS)
        )
        assert fb.id is not None and rows[3].id is not None
        uow.feedback.join(fb.id, rows[3].id)
        uow.commit()


def test_eval_reports_list_and_report_with_its_baseline_diff(parts: ControlPlaneParts) -> None:
    base, head = report_pair(bad_output=XSS)
    with parts.uow_factory() as uow:
        uow.eval_reports.add(base)
        uow.eval_reports.add(head)
        uow.commit()
    client = _signed_in(parts)
    html = client.get("/evals").text
    assert "Suite" in html and "support" in html and "gate failed" in html
    assert html.index("run-head") < html.index("run-base")  # newest first
    page = client.get("/evals/run-head")
    assert page.status_code == 200
    text = page.text
    assert "Against the baseline" in text and "run-base" in text and "Newly failing" in text
    assert "case-1" in text and "The answer contradicts the reference." in text
    assert XSS not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert client.get("/evals/nope").status_code == 404
    assert "not compared" in client.get("/evals/run-base").text
    assert "run-base" not in client.get("/evals?prompt=other").text


def test_overview_shows_backlog_and_breakers_with_alarms_first(parts: ControlPlaneParts) -> None:
    _record(parts)
    rows = [
        UpstreamRow("openai", "closed", 0.01, 0.0, T0, "gw-1"),
        UpstreamRow(f"vllm{XSS}", "open", 0.6, 12.0, T0, "gw-2"),
    ]
    client = _signed_in(parts, health=StaticUpstreamHealth(rows))
    html = client.get("/").text
    assert "Scoring backlog" in html and "1 upstream failing" in html
    assert XSS not in html and "breaker open" in html
    assert "12 s" in html
    none = _signed_in(parts).get("/").text
    assert "No gateway has published breaker states" in none


def test_explorer_filters_and_one_interaction_with_scores(parts: ControlPlaneParts) -> None:
    _record(parts)
    client = _signed_in(parts)
    html = client.get("/interactions?check=faithfulness&score_max=0.5").text
    assert "req-3" in html and "req-0" not in html
    html = client.get("/interactions?feedback=negative").text
    assert "req-3" in html and "req-1" not in html
    html = client.get("/interactions?score_min=2&feedback=bogus&check=a%20b").text
    assert "Ignored:" in html and "between 0 and 1" in html
    page = client.get("/interactions/req-3").text
    assert "faithfulness" in page and "claim not in context" in page
    assert XSS not in page
    assert "not scored yet" in client.get("/interactions/req-5").text
    page = client.get("/interactions/req-4").text
    assert 'id="tool-calls"' in page and "lookup(&lt;script&gt;" in page and XSS not in page
    assert "No text: the answer called tools." in page
    assert "[call_1]" in page and "&#34;call_2&#34;" in page and "Tools offered: lookup" in page
    assert 'id="tool-calls"' not in client.get("/interactions/req-0").text


def test_parse_filters_round_trip() -> None:
    f, problems = parse_filters({"check": "faithfulness", "score_min": "0.25", "feedback": "any"})
    assert not problems and f.more is not None and f.more.score_check == "faithfulness"
    again, _ = parse_filters(f.query())
    assert again == f
    assert parse_filters({"score_max": "0.5"})[0].more.score_check == "overall"  # type: ignore[union-attr]
    assert parse_filters({})[0].more is None


def test_feature_page_rates_per_version(parts: ControlPlaneParts) -> None:
    _record(parts)
    html = _signed_in(parts).get("/features/chat").text
    assert "Recent traffic per version" in html
    # 6 requests of v1: one error, one fallback; faithfulness fails on 1 of 4 checked
    assert "16.67%" in html and "25.0%" in html and "(1 of 4)" in html
    assert "100 / 20" in html and "$0.002000" in html


def test_the_band_drawn_is_the_anytime_valid_one_the_decision_used() -> None:
    """The chart reads the decision's stored bounds; they are the confidence-sequence
    bounds (not the fixed-sample ones the decision also records)."""
    policy = CanaryPolicy(min_samples=5)
    inc = ArmStats.from_observations([Observation(score=0.8 + 0.01 * (i % 5)) for i in range(40)])
    can = ArmStats.from_observations([Observation(score=0.78 + 0.01 * (i % 5)) for i in range(40)])
    result = analyze_canary(inc, can, policy)
    # stored as the canary service stores it
    stored = StoredDecision(1, T0, result.action, 0, result.reasons, dict(result.stats))
    (point,) = quality_series([stored])
    sums = lambda s: (s.scored, s.score_sum, s.score_sumsq)  # noqa: E731
    cs = diff_bound(
        sums(can), sums(inc), alpha=policy.alpha, n_star=policy.n_star, prior_var=policy.prior_var
    )
    assert point.lower == pytest.approx(cs.lower)
    assert point.lower != pytest.approx(stored.stats["quality.fixed_lower"])
    assert point.lower < stored.stats["quality.fixed_lower"]  # wider: valid under peeking


def test_store_breaker_states_are_read_newest_per_upstream(parts: ControlPlaneParts) -> None:
    """The rows gateway processes publish: the newest of each upstream within the last
    ``max_age_s`` seconds; nothing published: an empty list (the page says so)."""
    from releasegate.ports import UpstreamHealth

    source = StoreUpstreamHealth(parts.read_uow_factory, parts.clock, max_age_s=30)
    assert source.upstream_health() == []
    now = parts.clock.now()

    def row(upstream: str, instance: str, state: str, age_s: float) -> UpstreamHealth:
        at = now - timedelta(seconds=age_s)
        return UpstreamHealth(upstream, instance, state, 0.5, 10, 9.0, True, at)

    with parts.uow_factory() as uow:
        uow.upstream_health.put(
            [
                row("vllm", "gw-1", "closed", 20),
                row("vllm", "gw-2", "open", 2),
                row("azure", "gw-1", "half_open", 5),
                row("old", "gw-9", "open", 300),  # a process that stopped publishing
            ]
        )
        uow.commit()
    rows = source.upstream_health()
    assert [(r.upstream, r.state, r.instance) for r in rows] == [
        ("azure", "half_open", "gw-1"),
        ("vllm", "open", "gw-2"),
    ]
    assert rows[1].retry_after_s == 9.0 and rows[1].failure_rate == 0.5


def test_eval_report_shows_conversations_tool_calls_and_turn_changes_escaped(
    parts: ControlPlaneParts,
) -> None:
    from releasegate.evals.comparison import compare_reports
    from releasegate.results.report import CaseResult, TurnResult
    from tests.support.eval_reports import eval_report

    call = {"id": "c1", "type": "function", "function": {"name": "refund", "arguments": XSS}}
    base = eval_report("run-base", started_at="2030-05-01T12:00:00+00:00")
    head = eval_report("run-head", started_at="2030-05-02T12:00:00+00:00", bad=frozenset({1}))

    def turns(*scores: float) -> list[TurnResult]:
        return [
            TurnResult(
                index=i, input=f"{XSS} turn {i}", output=f"reply {i}", score=s, passed=s > 0.5
            )
            for i, s in enumerate(scores)
        ]

    def with_convo(
        cases: list[CaseResult], n_turns: tuple[float, ...], failing: dict[str, Any]
    ) -> list[CaseResult]:
        out = []
        for c in cases:
            update: dict[str, Any] = {"turns": turns(*n_turns)} if c.id == "case-2" else {}
            if c.id == "case-1":
                update.update(failing)
            out.append(c.model_copy(update=update))
        return out

    base = base.model_copy(update={"cases": with_convo(base.cases, (1.0, 1.0), {})})
    messages = [
        {"role": "user", "content": XSS},
        {"role": "assistant", "content": None, "tool_calls": [call]},
    ]
    head = head.model_copy(
        update={
            "cases": with_convo(
                head.cases, (1.0, 0.0, 1.0), {"messages": messages, "tool_calls": [call]}
            )
        }
    )
    comparison = compare_reports(base, head)
    head = head.model_copy(update={"comparison": comparison.model_dump(mode="json")})
    with parts.uow_factory() as uow:
        uow.eval_reports.add(base)
        uow.eval_reports.add(head)
        uow.commit()
    text = _signed_in(parts).get("/evals/run-head").text
    assert "Conversation and tool calls" in text and "Multi-turn cases whose turns changed" in text
    assert "[user] &lt;script&gt;" in text and "refund(&lt;script&gt;" in text
    assert "2 → 3" in text and "[assistant 1] reply 1" in text
    assert '2 <span class="muted small">(not in baseline)</span>' in text
    assert "[user] &lt;script&gt;alert(1)&lt;/script&gt; turn 2" in text
    assert XSS not in text
