"""Validate a whole project before anything runs: ``releasegate validate``.

Checks, collecting every problem across every file instead of stopping at the first:
the config; every prompt file; every dataset of every suite; that every suite's
target, judge and embedder build and that every check of every case builds against
them — with the very adapters and functions ``eval`` uses
(:func:`releasegate.evals._build.open_suite`), short of calling anything; that every
suite's prompt exists and renders for every case
of its datasets (so a missing template variable is caught before paying for a run);
and that every model name is pinned (see :mod:`releasegate.evals._lint`).

An API key variable that is not set is a warning, not an error: CI usually validates
without secrets. ``eval`` would stop on it, and the warning says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from releasegate import settings as _settings
from releasegate._yaml import did_you_mean, display_path
from releasegate.datasets.case import expand_turns
from releasegate.datasets.dataset import Dataset, scan_dataset
from releasegate.errors import ConfigError, Issue, PromptError
from releasegate.evals._build import SuiteParts, open_suite
from releasegate.evals._credentials import key_vars, placeholder_keys
from releasegate.evals._lint import lint_model_name
from releasegate.evals._render import render_case
from releasegate.evals._scoring import CaseScorer
from releasegate.evals._tool_lint import tool_check_issues
from releasegate.evals.wiring import EvalAdapters
from releasegate.project import Project, load_project
from releasegate.prompts import Prompt, scan_prompts

__all__ = ["has_errors", "validate_project"]

# One template mistake usually breaks every case; show a few, then count the rest.
_MAX_RENDER_ISSUES = 10


def has_errors(issues: list[Issue]) -> bool:
    """Whether any issue is an error (warnings alone do not fail validation)."""
    return any(i.severity == "error" for i in issues)


def validate_project(
    project_path: str | Path | None,
    *,
    adapters: EvalAdapters[Any],
    allow_unpinned: bool = False,
) -> list[Issue]:
    """Every problem in a project, in a stable order.

    Args:
        project_path: the config file, a directory holding it, or ``None`` for the cwd.
        adapters: builds the suites' providers as ``eval`` does
            (:func:`releasegate.bootstrap.eval_adapters`); nothing is called.
        allow_unpinned: report floating model aliases as warnings instead of errors.

    Returns:
        The issues found; the project is valid when none has severity ``"error"``.

    Raises:
        UsageError: when there is no config file at all.
    """
    try:
        project = load_project(project_path)
    except ConfigError as exc:
        return list(exc.issues)  # without a valid config nothing else can be located
    return _Validator(project, adapters, allow_unpinned).run()


class _Validator:
    def __init__(self, project: Project, adapters: EvalAdapters[Any], allow_unpinned: bool) -> None:
        self.project = project
        self.adapters = adapters
        self.severity = "warning" if allow_unpinned else "error"
        self.issues: list[Issue] = []
        self._seen: set[Issue] = set()
        self.datasets: dict[Path, Dataset | None] = {}
        self.rendered: set[tuple[Path, str]] = set()

    def run(self) -> list[Issue]:
        self._lint_providers()
        prompts = self._prompts()
        asyncio.run(self._suites(prompts))
        return self.issues

    def _add_one(self, issue: Issue) -> None:
        self._add([issue])

    def _add(self, issues: Iterable[Issue]) -> None:
        """Record issues once (a dataset or provider shared by suites is seen again)."""
        for issue in issues:
            if issue not in self._seen:
                self._seen.add(issue)
                self.issues.append(issue)

    async def _suites(self, prompts: dict[str, Prompt]) -> None:
        for name in self.project.config.suites:
            parts = await self._open(name)
            try:
                self._suite(name, prompts, parts.scorer if parts is not None else None)
            finally:
                if parts is not None:
                    await parts.aclose()

    async def _open(self, name: str) -> SuiteParts | None:
        """Build the suite as ``eval`` does; ``None`` (with the errors recorded) when
        it cannot be built. A missing API key variable becomes a warning, and the rest
        of the suite is still built (with a placeholder key) to find other problems."""
        try:
            return await open_suite(self.adapters, self.project, name)
        except ConfigError as exc:
            first = list(exc.issues)
        suite = self.project.config.suites[name]
        providers = self.project.config.providers
        roles = [r for r in (suite.target, suite.judge, suite.embedder) if r is not None]
        env = _settings.current().environ
        unset = [
            (var, role)
            for role in dict.fromkeys(roles)
            for var in key_vars(providers[role])
            if not env.get(var)
        ]
        if unset:
            with placeholder_keys(var for var, _ in unset):
                try:
                    parts: SuiteParts | None = await open_suite(self.adapters, self.project, name)
                    retry: list[Issue] = []
                except ConfigError as exc:
                    parts, retry = None, list(exc.issues)
            if retry != first:  # a missing key was (one of) the problems
                for var, role in unset:
                    if await self._needed(name, var, [v for v, _ in unset], retry):
                        self._key_warning(role, var)
                self._add(retry)
                return parts
        self._add(first)
        return None

    async def _needed(self, name: str, var: str, unset: list[str], retry: list[Issue]) -> bool:
        """Whether the suite builds differently without ``var`` (so it needs it)."""
        with placeholder_keys(v for v in unset if v != var):
            try:
                parts = await open_suite(self.adapters, self.project, name)
            except ConfigError as exc:
                return list(exc.issues) != retry
        await parts.aclose()
        return False

    def _key_warning(self, provider: str, var: str) -> None:
        cfg = self.project.config.providers[provider]
        option = (
            "api_key_env"
            if var == cfg.api_key_env
            else "headers"
            if any(var in v for v in cfg.headers.values())
            else None
        )
        key: tuple[str, ...] = ("providers", provider) + ((option,) if option else ())
        field = ".".join(key)
        self._add(
            [
                Issue(
                    file=self.project.config_file,
                    line=self.project.line_of(*key),
                    field=field,
                    message=f"environment variable {var} is not set: provider {provider!r} "
                    "reads its credentials from it, so eval would stop here; "
                    "set it where eval runs",
                    severity="warning",
                )
            ]
        )

    def _pin(self, model: str, file: str, line: int | None, field: str) -> None:
        message = lint_model_name(model)
        if message is not None:
            if self.severity == "warning":
                message += " (allowed by --allow-unpinned)"
            else:
                message += "; or pass --allow-unpinned"
            self._add_one(
                Issue(file=file, line=line, field=field, message=message, severity=self.severity)
            )

    def _lint_providers(self) -> None:
        used = {
            r
            for suite in self.project.config.suites.values()
            for r in (suite.target, suite.judge, suite.embedder)
        }
        known = self.adapters.known_provider_types()
        for name, provider in self.project.config.providers.items():
            # Providers of suites are built below, as eval builds them; one no suite uses
            # (a judge for `judge calibrate`) is at least checked for a known type.
            if name not in used and provider.type not in known:
                self._add_one(
                    Issue(
                        file=self.project.config_file,
                        line=self.project.line_of("providers", name),
                        field=f"providers.{name}",
                        message=f"provider {name!r} (type {provider.type!r}): unknown provider "
                        f"type{did_you_mean(provider.type, known)}",
                    )
                )
            if provider.model:
                line = self.project.line_of("providers", name, "model")
                self._pin(provider.model, self.project.config_file, line, f"providers.{name}.model")

    def _prompts(self) -> dict[str, Prompt]:
        directory = self.project.prompts_dir
        used = any(s.prompt for s in self.project.config.suites.values())
        if not directory.is_dir():
            if used:
                self._add_one(
                    Issue(
                        file=self.project.config_file,
                        line=self.project.line_of("prompts"),
                        field="prompts",
                        message=f"prompt directory {display_path(directory)} not found",
                    )
                )
            return {}
        prompts, issues = scan_prompts(directory)
        self._add(issues)
        for prompt in prompts.values():
            self._pin(prompt.model, prompt.path or prompt.name, prompt.line_of("model"), "model")
        return prompts

    def _suite(self, name: str, prompts: dict[str, Prompt], scorer: CaseScorer | None) -> None:
        suite = self.project.config.suites[name]
        prompt: Prompt | None = None
        if suite.prompt is not None:
            prompt = prompts.get(suite.prompt)
            if prompt is None:
                where = display_path(self.project.prompts_dir)
                self._add_one(
                    Issue(
                        file=self.project.config_file,
                        line=self.project.line_of("suites", name, "prompt"),
                        field=f"suites.{name}.prompt",
                        message=f"suite {name!r}: no prompt named {suite.prompt!r} in "
                        f"{where}{did_you_mean(suite.prompt, prompts)}",
                    )
                )
        for index, rel in enumerate(suite.datasets):
            dataset = self._dataset(name, index, rel)
            if dataset is not None and scorer is not None:
                # The suite's own judge and embedder: a check builds here iff it builds
                # in eval. (When the suite's providers do not build, the errors above
                # say why, and its checks are built once they do.)
                self._add(scorer.prepare(expand_turns(dataset.cases), file=dataset.path))
            if dataset is not None and prompt is not None:
                self._render(dataset, prompt)
            if dataset is not None and (prompt is not None or suite.prompt is None):
                self._add(tool_check_issues(expand_turns(dataset.cases), prompt, file=dataset.path))

    def _dataset(self, suite: str, index: int, rel: str) -> Dataset | None:
        path = self.project.resolve(rel).resolve()
        if path in self.datasets:
            return self.datasets[path]  # shared by several suites: check it once
        dataset: Dataset | None = None
        if not path.is_file():
            key: tuple[str | int, ...] = ("suites", suite, "dataset")
            if isinstance(self.project.config.suites[suite].dataset, list):
                key = (*key, index)
            what = "is not a file" if path.exists() else "not found"
            self._add_one(
                Issue(
                    file=self.project.config_file,
                    line=self.project.line_of(*key),
                    field=f"suites.{suite}.dataset",
                    message=f"suite {suite!r}: dataset {rel!r} {what}",
                )
            )
        else:
            # Keep the valid cases of a partly invalid file: their checks and template
            # variables are still worth checking in the same pass.
            dataset, issues = scan_dataset(path)
            self._add(issues)
        self.datasets[path] = dataset
        return dataset

    def _render(self, dataset: Dataset, prompt: Prompt) -> None:
        key = (Path(dataset.path), prompt.name)
        if key in self.rendered:
            return
        self.rendered.add(key)
        try:
            prompt.compile()
        except PromptError:
            return  # already reported when the prompt file was loaded
        failed = 0
        for case in dataset.cases:
            try:
                for one in case.turn_cases() or [case]:
                    render_case(prompt, one)
            except PromptError as exc:
                failed += 1
                if failed <= _MAX_RENDER_ISSUES:
                    self._add(exc.issues)
        if failed > _MAX_RENDER_ISSUES:
            self._add_one(
                Issue(
                    file=dataset.path,
                    message=f"prompt {prompt.name!r}: {failed - _MAX_RENDER_ISSUES} more "
                    f"cases fail to render ({failed} of {len(dataset.cases)} in total)",
                )
            )
