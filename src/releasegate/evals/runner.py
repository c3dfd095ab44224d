"""The asynchronous evaluation engine.

``arun_eval`` loads a suite, renders each case through the suite's prompt, calls the
target built by the run's :class:`~releasegate.evals.wiring.EvalAdapters` (whose call
policies apply the cache, budget, concurrency, rate limit and retries), scores every
output with the case's checks, and returns an
:class:`~releasegate.results.report.EvalReport` with the gate applied. The adapters come
from the composition root: ``releasegate.run_eval`` / ``releasegate.arun_eval``
(:mod:`releasegate.bootstrap`) build them from the project config.

It stops cleanly on a spent budget (``status="stopped"``) and on Ctrl-C
(``status="interrupted"``), reporting what ran in both cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from releasegate.datasets.case import Case, expand_turns
from releasegate.datasets.dataset import Dataset, load_dataset
from releasegate.errors import BudgetExceeded, ConfigError, ProviderError, UsageError
from releasegate.evals._build import open_suite
from releasegate.evals._pins import explain_unserved_model
from releasegate.evals._render import render_case
from releasegate.evals._tool_lint import tool_check_issues
from releasegate.evals._tool_rounds import run_exchange
from releasegate.evals._turns import run_turns
from releasegate.evals.gate import apply_gate, repeat_rules
from releasegate.evals.wiring import Closeable, EvalAdapters
from releasegate.llm import ChatRequest, ChatResponse
from releasegate.project import Project, load_project
from releasegate.prompts import Prompt
from releasegate.results.report import CaseResult, EvalReport, Identity
from releasegate.results.summary import summarize

__all__ = ["EvalOptions", "arun_eval", "run_eval"]

ProgressCallback = Callable[[int, int], None]

#: While cases run, the cyclic garbage collector runs by hand every this many cases.
GC_EVERY_CASES = 1000


@dataclass
class EvalOptions:
    """Knobs of one run; ``None`` means "use the suite's config"."""

    repeat: int | None = None
    max_cost_usd: float | None = None
    max_tokens: int | None = None
    use_cache: bool = True
    cache_path: str | None = None
    concurrency: int | None = None
    prompt_override: Prompt | None = None
    progress: ProgressCallback | None = None
    handle_sigint: bool = False
    filter_tags: list[str] = field(default_factory=list)
    #: pause the cyclic garbage collector while cases run (see docs/engine.md)
    pause_gc: bool = True


@dataclass
class _Run:
    """Mutable state of one run."""

    results: list[CaseResult] = field(default_factory=list)
    stop_reason: str | None = None
    interrupted: bool = False
    done: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def _tool_version() -> str:
    from releasegate._version import __version__

    return __version__


def _dataset_hash(datasets: list[Dataset]) -> str:
    h = hashlib.sha256()
    for d in datasets:
        h.update(d.content_hash.encode())
    return h.hexdigest()


class _Engine:
    def __init__(
        self,
        project: Project,
        suite_name: str,
        options: EvalOptions,
        adapters: EvalAdapters[Any],
    ) -> None:
        self.project = project
        self.adapters = adapters
        self.suite_name = suite_name
        self.suite = project.suite(suite_name)
        self.options = options
        self.repeat = options.repeat or self.suite.repeat
        self.prompt = options.prompt_override or (
            project.prompt(self.suite.prompt) if self.suite.prompt else None
        )
        self.datasets = [load_dataset(project.resolve(p)) for p in self.suite.datasets]
        cases = [c for d in self.datasets for c in d.cases]
        if options.filter_tags:
            wanted = set(options.filter_tags)
            cases = [c for c in cases if wanted.intersection(c.tags)]
        self.cases = cases
        self.target_cfg = project.config.providers[self.suite.target]
        self.model = (self.prompt.model if self.prompt else None) or self.target_cfg.model or ""
        params: dict[str, Any] = dict(self.target_cfg.params)
        if self.prompt:
            params.update(self.prompt.params)
        params.setdefault("temperature", 0.0)  # deterministic by default
        self.params = params
        # python and http targets may use the case's template variables directly;
        # chat endpoints only ever see the rendered messages.
        self.wants_vars = self.target_cfg.type in {"python", "http"}
        self.cache: Closeable | None = None
        self._closing = contextlib.AsyncExitStack()

    async def open(self) -> None:
        """Open the cache and build the suite's providers (through the adapters) and
        scorer, the way ``releasegate validate`` builds them (:func:`open_suite`). On
        failure whatever was opened is closed before the error propagates."""
        try:
            cache = None
            if self.options.use_cache:
                cache = self.adapters.open_cache(self.project, self.options.cache_path)
            self.cache = cache
            if cache is not None:
                self._closing.callback(cache.close)  # last out: after the providers
            parts = await open_suite(
                self.adapters,
                self.project,
                self.suite_name,
                cache=cache,
                max_cost_usd=self.options.max_cost_usd,
                max_tokens=self.options.max_tokens,
                concurrency=self.options.concurrency,
            )
            self._closing.push_async_callback(parts.aclose)
        except BaseException:
            await self._closing.aclose()
            raise
        self.target = parts.target
        self.judge = parts.judge
        self.embedder = parts.embedder
        self.scorer = parts.scorer

    def prepare_checks(self) -> None:
        """Build every case's scorers now: a broken check is a config error (exit 2)
        before any call, and scoring on the hot path only looks scorers up. A
        ``tool-call`` check naming a function the prompt does not declare is one too."""
        issues = self.scorer.prepare(expand_turns(self.cases))
        for d in self.datasets:
            found = tool_check_issues(expand_turns(d.cases), self.prompt, file=d.path)
            issues += [i for i in found if i.severity == "error"]
        if issues:
            raise ConfigError(issues)

    def identity(self) -> Identity:
        return Identity(
            suite=self.suite_name,
            prompt_name=self.prompt.name if self.prompt else None,
            prompt_version=self.prompt.version if self.prompt else None,
            prompt_hash=self.prompt.content_hash if self.prompt else None,
            model=self.model or None,
            params=self.params,
            provider=self.target_cfg.type,
            base_url=self.target_cfg.base_url,
            datasets=[d.path for d in self.datasets],
            dataset_hash=_dataset_hash(self.datasets),
            judge_model=self.judge.model if self.judge else None,
            repeat=self.repeat,
            case_threshold=self.suite.gate.case_threshold,
            tool_version=_tool_version(),
        )

    def _request(self, case: Case, repeat: int, messages: list[dict[str, Any]]) -> ChatRequest:
        return ChatRequest(
            messages=tuple(messages),
            model=self.model,
            params=self.params,
            case_id=case.id,
            repeat=repeat,
            vars=case.template_vars() if self.wants_vars else {},
            tools=self.prompt.tool_schemas() if self.prompt else None,
            tool_choice=self.prompt.tool_choice_value() if self.prompt else None,
        )

    async def _send(self, request: ChatRequest) -> ChatResponse | str:
        try:
            return await self.target.complete(request)
        except ProviderError as exc:
            pinned = self.prompt.path if self.prompt and self.prompt.model else None
            return explain_unserved_model(
                exc, model=self.model, pinned_in=pinned, target=self.suite.target
            )

    async def run_case(self, case: Case, repeat: int) -> CaseResult:
        if case.turns:
            return await run_turns(
                case,
                repeat,
                prompt=self.prompt,
                scorer=self.scorer,
                make_request=lambda turn, msgs: self._request(turn, repeat, msgs),
                send=self._send,
            )
        request = self._request(case, repeat, render_case(self.prompt, case))
        exchange = await run_exchange(
            request,
            self._send,
            results=case.tool_results,
            max_rounds=case.max_tool_rounds,
            where=f"case {case.id!r}",
        )
        # A case with history or tool rounds keeps the whole conversation it sent.
        rounds = len(exchange.sent) > len(request.messages)
        sent = exchange.sent if case.messages or rounds else None
        answer = exchange.answer()
        if exchange.error is not None or answer is None:
            result = self.scorer.errored(case, repeat, exchange.error or "no answer", messages=sent)
            if answer is None:
                return result
            return result.model_copy(
                update={
                    "tool_calls": list(answer.tool_calls) or None,
                    "prompt_tokens": answer.usage.prompt_tokens,
                    "completion_tokens": answer.usage.completion_tokens,
                    "cost_usd": answer.cost_usd or 0.0,
                    "latency_ms": answer.latency_ms,
                }
            )
        return await self.scorer.score(
            case, repeat, answer, tools=request.tools or (), messages=sent
        )

    def workers(self) -> int:
        """Cases in progress at once: twice the target's slots (plus the judge's), so
        that a prepared request waits at the semaphore whenever an answer is being scored;
        the providers' semaphores still bound the calls in flight."""
        target = self.options.concurrency or self.target_cfg.concurrency
        judge = 0
        if self.suite.judge:
            judge = (
                self.options.concurrency
                or self.project.config.providers[self.suite.judge].concurrency
            )
        return max(1, 2 * target + judge)

    async def run(self, state: _Run) -> None:
        total = len(self.cases) * self.repeat
        # One shared iterator feeds a fixed pool of workers, so a case's prompt is
        # rendered just before its call, not 2,000 renders ahead of the first answer.
        jobs = iter([(case, r) for case in self.cases for r in range(self.repeat)])
        stop = asyncio.Event()

        async def worker() -> None:
            for case, repeat in jobs:
                if stop.is_set():
                    return
                try:
                    result = await self.run_case(case, repeat)
                except BudgetExceeded as exc:
                    if state.stop_reason is None:
                        state.stop_reason = str(exc)
                    stop.set()
                    return
                state.results.append(result)
                state.done += 1
                if paused and state.done % GC_EVERY_CASES == 0:
                    gc.collect(1)
                if self.options.progress is not None:
                    self.options.progress(state.done, total)

        paused = self.options.pause_gc and gc.isenabled()
        tasks = [asyncio.ensure_future(worker()) for _ in range(min(self.workers(), total))]
        try:
            with _gc_paused(paused):
                await asyncio.gather(*tasks)
        except BaseException as exc:
            # Ctrl-C, or an error no case can recover from (a template that fails to
            # render): stop the other workers before the providers are closed.
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if not isinstance(exc, asyncio.CancelledError):
                raise
            state.interrupted = True

    async def aclose(self) -> None:
        """Close the providers, then the cache (writing its pending answers); each
        one is closed even when closing another fails."""
        await self._closing.aclose()


@contextlib.contextmanager
def _gc_paused(enabled: bool) -> Iterator[None]:
    """Automatic cyclic GC off while cases run, young generations collected by hand.

    The engine's per-case objects (results, responses) form almost no reference cycles
    (a 2,000-case run leaves a few hundred cyclic objects), yet the automatic collector
    traverses every new result again and again as it is promoted: about a quarter of
    the engine's CPU per case, measured in ``benchmarks/eval_throughput``. Reference
    counting still frees everything else at once.
    """
    if not enabled:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextlib.contextmanager
def _sigint_cancels(task: asyncio.Task[Any], enabled: bool) -> Iterator[None]:
    """First Ctrl-C cancels the run (partial report); the default handler comes back
    afterwards so that a second Ctrl-C still stops a hung process."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, task.cancel)
    except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix loops
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def arun_eval(
    project: Project | str | Path | None,
    suite: str,
    options: EvalOptions | None = None,
    *,
    adapters: EvalAdapters[Any],
    **kwargs: Any,
) -> EvalReport:
    """Run one suite and return its report.

    Args:
        project: a loaded :class:`Project`, or the path of ``releasegate.yaml``
            (``None``: ``./releasegate.yaml``).
        suite: the suite name in the config.
        options: run options; keyword arguments are accepted as a shortcut
            (``arun_eval("releasegate.yaml", "pr", adapters=a, repeat=3)``).
        adapters: builds the response cache and the suite's providers
            (:func:`releasegate.bootstrap.eval_adapters`).

    Returns:
        The report, with ``status`` "complete", "stopped" (budget), "interrupted"
        (Ctrl-C) or "failed" (every case errored), and the gate applied.
    """
    if options is None:
        options = EvalOptions(**kwargs)
    elif kwargs:
        raise UsageError("pass either options or keyword arguments, not both")
    proj = project if isinstance(project, Project) else load_project(project)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    engine = _Engine(proj, suite, options, adapters)
    await engine.open()
    try:
        engine.prepare_checks()
    except BaseException:
        await engine.aclose()
        raise
    state = _Run()
    t_calls = time.perf_counter()
    state.timings["setup_s"] = t_calls - t0
    try:
        runner = asyncio.ensure_future(engine.run(state))
        with _sigint_cancels(runner, options.handle_sigint):
            try:
                await runner
            except asyncio.CancelledError:
                state.interrupted = True
    finally:
        state.timings["cases_s"] = time.perf_counter() - t_calls
        await engine.aclose()
    report = _build_report(engine, state, started, time.perf_counter() - t0)
    report.timings = {k: round(v, 4) for k, v in state.timings.items()}
    return report


def _build_report(engine: _Engine, state: _Run, started: datetime, elapsed: float) -> EvalReport:
    results = sorted(state.results, key=lambda r: (r.id, r.repeat))
    summary = summarize(results)
    status = "complete"
    reason = state.stop_reason
    if state.interrupted:
        status, reason = "interrupted", "interrupted by the user (Ctrl-C)"
    elif state.stop_reason is not None:
        status = "stopped"
    elif results and summary.n_errors == len(results):
        status, reason = "failed", "every case errored; first error: " + str(results[0].error)
    elif not results:
        status, reason = "failed", "no case ran"
    report = EvalReport(
        run_id=uuid.uuid4().hex,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        duration_s=round(elapsed, 3),
        identity=engine.identity(),
        summary=summary,
        gate=None,
        status=status,
        stop_reason=reason,
        cases=results,
    )
    extra, warnings = repeat_rules(report, engine.suite.gate, engine.repeat)
    report.gate = apply_gate(summary, engine.suite.gate, extra_rules=extra, warnings=warnings)
    return report


def run_eval(
    project: Project | str | Path | None,
    suite: str,
    options: EvalOptions | None = None,
    *,
    adapters: EvalAdapters[Any],
    **kwargs: Any,
) -> EvalReport:
    """Synchronous wrapper of :func:`arun_eval` (runs its own event loop)."""
    out: list[EvalReport] = []

    async def main() -> None:
        # The main task returns None: on exit asyncio.run reprs its SIGINT handler, which
        # holds the task, and the repr of a finished task includes its (large) result.
        out.append(await arun_eval(project, suite, options, adapters=adapters, **kwargs))

    asyncio.run(main())
    return out[0]
