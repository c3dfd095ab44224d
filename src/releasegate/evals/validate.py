"""Validate a whole project before anything runs: ``releasegate validate``.

Checks, collecting every problem across every file instead of stopping at the first:
the config; every prompt file; every dataset of every suite; that every check of every
case builds; that every suite's prompt exists and renders for every case of its
datasets (so a missing template variable is caught before paying for a run); and that
every model name is pinned (see :mod:`releasegate.evals.lint`).
"""

from __future__ import annotations

from pathlib import Path

from releasegate._yaml import did_you_mean, display_path
from releasegate.errors import ConfigError, Issue, PromptError
from releasegate.evals.dataset import Dataset, check_asserts, scan_dataset
from releasegate.evals.lint import lint_model_name
from releasegate.evals.prompts import Prompt, scan_prompts
from releasegate.project import Project, load_project

__all__ = ["has_errors", "validate_project"]

# One template mistake usually breaks every case; show a few, then count the rest.
_MAX_RENDER_ISSUES = 10


def has_errors(issues: list[Issue]) -> bool:
    """Whether any issue is an error (warnings alone do not fail validation)."""
    return any(i.severity == "error" for i in issues)


def validate_project(
    project_path: str | Path | None, *, allow_unpinned: bool = False
) -> list[Issue]:
    """Every problem in a project, in a stable order.

    Args:
        project_path: the config file, a directory holding it, or ``None`` for the cwd.
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
    return _Validator(project, allow_unpinned).run()


class _Validator:
    def __init__(self, project: Project, allow_unpinned: bool) -> None:
        self.project = project
        self.severity = "warning" if allow_unpinned else "error"
        self.issues: list[Issue] = []
        self.datasets: dict[Path, Dataset | None] = {}
        self.rendered: set[tuple[Path, str]] = set()

    def run(self) -> list[Issue]:
        self._lint_providers()
        prompts = self._prompts()
        for name in self.project.config.suites:
            self._suite(name, prompts)
        return self.issues

    def _pin(self, model: str, file: str, line: int | None, field: str) -> None:
        message = lint_model_name(model)
        if message is not None:
            if self.severity == "warning":
                message += " (allowed by --allow-unpinned)"
            else:
                message += "; or pass --allow-unpinned"
            self.issues.append(
                Issue(file=file, line=line, field=field, message=message, severity=self.severity)
            )

    def _lint_providers(self) -> None:
        for name, provider in self.project.config.providers.items():
            if provider.model:
                line = self.project.line_of("providers", name, "model")
                self._pin(provider.model, self.project.config_file, line, f"providers.{name}.model")

    def _prompts(self) -> dict[str, Prompt]:
        directory = self.project.prompts_dir
        used = any(s.prompt for s in self.project.config.suites.values())
        if not directory.is_dir():
            if used:
                self.issues.append(
                    Issue(
                        file=self.project.config_file,
                        line=self.project.line_of("prompts"),
                        field="prompts",
                        message=f"prompt directory {display_path(directory)} not found",
                    )
                )
            return {}
        prompts, issues = scan_prompts(directory)
        self.issues.extend(issues)
        for prompt in prompts.values():
            self._pin(prompt.model, prompt.path or prompt.name, prompt.line_of("model"), "model")
        return prompts

    def _suite(self, name: str, prompts: dict[str, Prompt]) -> None:
        suite = self.project.config.suites[name]
        prompt: Prompt | None = None
        if suite.prompt is not None:
            prompt = prompts.get(suite.prompt)
            if prompt is None:
                where = display_path(self.project.prompts_dir)
                self.issues.append(
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
            if dataset is not None and prompt is not None:
                self._render(dataset, prompt)

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
            self.issues.append(
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
            self.issues.extend(issues)
            if dataset is not None:
                self.issues.extend(check_asserts(dataset))
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
                prompt.render(case)
            except PromptError as exc:
                failed += 1
                if failed <= _MAX_RENDER_ISSUES:
                    self.issues.extend(exc.issues)
        if failed > _MAX_RENDER_ISSUES:
            self.issues.append(
                Issue(
                    file=dataset.path,
                    message=f"prompt {prompt.name!r}: {failed - _MAX_RENDER_ISSUES} more "
                    f"cases fail to render ({failed} of {len(dataset.cases)} in total)",
                )
            )
