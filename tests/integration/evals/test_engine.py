"""The engine against a real OpenAI-protocol HTTP server on 127.0.0.1.

Runs go through the composition root (``releasegate.bootstrap.arun_eval``: adapters built
from the project config), or through the engine with adapters whose retry loop records
its waits instead of sleeping.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from releasegate.bootstrap import arun_eval, eval_adapters
from releasegate.evals import runner
from releasegate.evals.runner import EvalOptions
from releasegate.results.report import EvalReport
from tests.support.openai_server import FakeOpenAIServer
from tests.support.project import make_project


class _Waits:
    """The retry loop's sleep: records each wait (seconds), never waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


async def _run_recording(cfg: Path, waits: _Waits, **options: Any) -> EvalReport:
    """Run suite ``pr`` with providers whose retries record their waits in ``waits``."""
    adapters = eval_adapters(sleep=waits)
    return await runner.arun_eval(cfg, "pr", EvalOptions(**options), adapters=adapters)


async def test_run_scores_every_case_and_passes(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cfg = make_project(tmp_path, base_url=openai_server.base_url, n_cases=6)
    report = await arun_eval(cfg, "pr")
    assert report.status == "complete"
    assert report.summary.n_cases == 6
    assert openai_server.count == 6
    assert [c.id for c in report.cases] == [f"c{i:02d}" for i in range(6)]
    assert all(c.passed and c.score == 1.0 for c in report.cases)
    assert report.gate is not None and report.gate.passed
    assert report.identity.prompt_name == "echo"
    assert report.identity.model == "gpt-4o-2024-11-20"
    assert report.identity.params["temperature"] == 0
    assert report.identity.prompt_hash and report.identity.dataset_hash
    # The rendered prompt reached the server: system message and template.
    body = openai_server.requests[0].body
    assert body["messages"][0] == {"role": "system", "content": "Repeat the question."}
    assert body["messages"][1]["content"].startswith("Q: what is needle-")
    assert report.summary.by_tag["even"].n == 3


async def test_429_with_retry_after_then_success(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cfg = make_project(tmp_path, base_url=openai_server.base_url, n_cases=1)
    # Retry-After: 0, so the retry is immediate; the waits themselves (Retry-After
    # honoured and capped, backoff) are asserted in tests/unit/providers/test_managed_retries.py.
    openai_server.fail_next(429, retry_after=0)
    report = await arun_eval(cfg, "pr")
    assert openai_server.count == 2  # one refusal, one retry
    assert report.cases[0].error is None
    assert report.cases[0].passed


async def test_500s_are_retried_then_give_up(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cfg = make_project(
        tmp_path,
        base_url=openai_server.base_url,
        n_cases=1,
        provider={"max_retries": 2},
    )
    openai_server.fail_next(500, times=2)
    waits = _Waits()
    ok = await _run_recording(cfg, waits, use_cache=False)
    assert ok.cases[0].error is None and openai_server.count == 3
    assert len(waits.waits) == 2  # a backoff before each retry (values: unit tests)

    openai_server.reset()
    openai_server.fail_next(500, times=10)
    waits = _Waits()
    failed = await _run_recording(cfg, waits, use_cache=False)
    assert openai_server.count == 3  # first try + 2 retries, then the case errors
    assert len(waits.waits) == 2
    assert failed.cases[0].error is not None
    assert "500" in failed.cases[0].error
    assert failed.status == "failed"  # every case errored


async def test_timeout_is_retried(openai_server: FakeOpenAIServer, tmp_path: Path) -> None:
    cfg = make_project(
        tmp_path, base_url=openai_server.base_url, n_cases=1, provider={"timeout_s": 0.5}
    )
    openai_server.hang_next(3)
    waits = _Waits()
    report = await _run_recording(cfg, waits)
    assert report.cases[0].error is None
    assert openai_server.count == 2
    assert len(waits.waits) == 1  # one backoff, recorded instead of slept


async def test_non_retryable_error_is_not_retried(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cfg = make_project(tmp_path, base_url=openai_server.base_url, n_cases=2)
    openai_server.fail_next(401)
    report = await arun_eval(cfg, "pr")
    assert openai_server.count == 2
    errored = [c for c in report.cases if c.error]
    assert len(errored) == 1 and errored[0].score == 0.0 and not errored[0].passed
    assert report.summary.n_errors == 1
    assert report.status == "complete"


async def test_cache_hit_makes_no_upstream_call(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cfg = make_project(tmp_path, base_url=openai_server.base_url, n_cases=4)
    first = await arun_eval(cfg, "pr")
    assert openai_server.count == 4 and first.summary.n_cached == 0
    second = await arun_eval(cfg, "pr")
    assert openai_server.count == 4  # nothing new upstream
    assert second.summary.n_cached == 4
    assert [c.output for c in second.cases] == [c.output for c in first.cases]
    third = await arun_eval(cfg, "pr", use_cache=False)
    assert openai_server.count == 8 and third.summary.n_cached == 0


async def test_cache_key_changes_with_params(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cfg = make_project(tmp_path, base_url=openai_server.base_url, n_cases=2)
    await arun_eval(cfg, "pr")
    cfg2 = make_project(
        tmp_path, base_url=openai_server.base_url, n_cases=2, provider={"params": {"seed": 7}}
    )
    await arun_eval(cfg2, "pr")
    assert openai_server.count == 4


async def test_repeat_runs_each_case_k_times(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cfg = make_project(tmp_path, base_url=openai_server.base_url, n_cases=3)
    report = await arun_eval(cfg, "pr", repeat=3)
    assert openai_server.count == 9
    assert report.summary.n_cases == 3 and report.summary.n_results == 9
    assert sorted({c.repeat for c in report.cases}) == [0, 1, 2]
    assert report.identity.repeat == 3
    again = await arun_eval(cfg, "pr", repeat=3)
    assert openai_server.count == 9 and again.summary.n_cached == 9


async def test_budget_stops_cleanly_and_reports_what_ran(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cfg = make_project(
        tmp_path,
        base_url=openai_server.base_url,
        n_cases=30,
        provider={"concurrency": 1},
        pricing={"gpt-4o-2024-11-20": {"input_per_mtok": 1_000_000, "output_per_mtok": 0}},
    )
    # Each call costs about $10 at these prices (~10 prompt tokens), so $25 allows 3 calls.
    report = await arun_eval(cfg, "pr", max_cost_usd=25.0, use_cache=False)
    assert report.status == "stopped"
    assert report.stop_reason and "budget" in report.stop_reason
    assert 1 <= len(report.cases) < 30
    assert openai_server.count == len(report.cases)
    assert all(c.error is None for c in report.cases)


async def test_options_object_and_tag_filter(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    cfg = make_project(tmp_path, base_url=openai_server.base_url, n_cases=6)
    report = await arun_eval(cfg, "pr", EvalOptions(filter_tags=["odd"]))
    assert {c.id for c in report.cases} == {"c01", "c03", "c05"}


async def test_template_error_at_run_time_is_a_config_error(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    from releasegate.errors import ConfigError

    cases = [
        {"id": f"c{i}", "input": f"q{i}", "assert": [{"type": "contains", "value": "q"}]}
        for i in range(5)
    ]
    cfg = make_project(tmp_path, base_url=openai_server.base_url, cases=cases)
    prompt = tmp_path / "prompts" / "echo.yaml"
    prompt.write_text(prompt.read_text().replace("Q: {{ input }}", "Q: {{ missing_var }}"))
    with pytest.raises(ConfigError) as info:
        await arun_eval(cfg, "pr")
    assert "missing_var" in str(info.value)


async def test_provider_config_error_stops_before_any_call(
    openai_server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from releasegate.errors import ConfigError

    monkeypatch.delenv("RG_TEST_MISSING_KEY", raising=False)
    cfg = make_project(
        tmp_path, base_url=openai_server.base_url, provider={"api_key_env": "RG_TEST_MISSING_KEY"}
    )
    with pytest.raises(ConfigError) as info:
        await arun_eval(cfg, "pr")
    assert "RG_TEST_MISSING_KEY" in str(info.value)
    assert openai_server.count == 0


async def test_gc_paused_while_cases_run_and_restored_after(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    import gc

    cfg = make_project(tmp_path, base_url=openai_server.base_url, n_cases=3)
    seen: list[bool] = []

    def progress(done: int, total: int) -> None:
        seen.append(gc.isenabled())

    assert gc.isenabled()
    await arun_eval(cfg, "pr", progress=progress, use_cache=False)
    assert seen == [False, False, False]
    assert gc.isenabled()

    seen.clear()
    await arun_eval(cfg, "pr", progress=progress, use_cache=False, pause_gc=False)
    assert seen == [True, True, True]

    gc.disable()  # a caller that manages GC itself keeps it off
    try:
        await arun_eval(cfg, "pr", progress=progress, use_cache=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


async def test_gc_comes_back_after_an_interrupted_run(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    import asyncio
    import gc

    cfg = make_project(tmp_path, base_url=openai_server.base_url, n_cases=4)
    openai_server.hang_next(30, times=4)
    task = asyncio.ensure_future(arun_eval(cfg, "pr", use_cache=False))
    for _ in range(1000):  # until the first call is in flight
        if openai_server.count >= 1:
            break
        await asyncio.sleep(0.01)
    assert not gc.isenabled()
    task.cancel()
    report = await task
    assert report.status == "interrupted"
    assert gc.isenabled()


def test_equal_checks_share_one_scorer_and_distinct_ones_do_not() -> None:
    from releasegate.datasets.case import Case
    from releasegate.evals._scoring import CaseScorer
    from releasegate.scorers.spec import AssertSpec

    scorer = CaseScorer()
    case = Case(id="a", input="x")
    one = scorer.scorer_for(AssertSpec(type="max-words", value=5), case)
    assert scorer.scorer_for(AssertSpec(type="max-words", value=5), case) is one
    assert scorer.scorer_for(AssertSpec(type="max-words", value=6), case) is not one
    assert scorer.scorer_for(AssertSpec(type="max-words", value=5.0), case) is not one
    assert scorer.scorer_for(AssertSpec(type="max-words", value=5, threshold=0.5), case) is not one
    schema = {"type": "object", "required": ["a"]}
    js = scorer.scorer_for(AssertSpec(type="json-schema", value=schema), case)
    assert scorer.scorer_for(AssertSpec(type="json-schema", value=dict(schema)), case) is js
    ci = scorer.scorer_for(AssertSpec(type="contains", value="A", case_sensitive=False), case)
    assert scorer.scorer_for(AssertSpec(type="contains", value="A"), case) is not ci


async def test_a_broken_check_stops_the_run_before_any_call(
    openai_server: FakeOpenAIServer, tmp_path: Path
) -> None:
    from releasegate.errors import ConfigError

    cases = [
        {"id": "ok", "input": "what is needle-1?", "assert": [{"type": "contains", "value": "x"}]},
        {
            "id": "bad",
            "input": "what is needle-2?",
            "assert": [
                {"type": "contains", "value": "y"},
                {"type": "regex", "value": "(unclosed"},
            ],
        },
        {"id": "worse", "input": "q", "assert": [{"type": "no-such-check"}]},
    ]
    cfg = make_project(tmp_path, base_url=openai_server.base_url, cases=cases)
    with pytest.raises(ConfigError) as info:
        await arun_eval(cfg, "pr")
    issues = {(i.case_id, i.field) for i in info.value.issues}
    assert issues == {("bad", "assert[1]"), ("worse", "assert[0]")}
    assert all(i.file.endswith("cases.yaml") and i.line for i in info.value.issues)
    assert openai_server.count == 0
