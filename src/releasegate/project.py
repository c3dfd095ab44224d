"""A releasegate project: ``releasegate.yaml``, its directory, prompts and suites.

Paths in the config (datasets, the prompt directory, the cache) are relative to the
directory that holds the config file, so a project behaves the same from any working
directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from releasegate._yaml import (
    YamlDocument,
    did_you_mean,
    display_path,
    load_yaml_file,
    validation_issues,
)
from releasegate.config import ProjectConfig, SuiteConfig
from releasegate.datasets.dataset import Dataset, load_dataset
from releasegate.errors import ConfigError, Issue, UsageError
from releasegate.prompts import Prompt, load_prompts

__all__ = ["CONFIG_NAMES", "Project", "find_config", "load_project"]

#: File names looked up when the config is given as a directory (or not at all).
CONFIG_NAMES = ("releasegate.yaml", "releasegate.yml")


@dataclass
class Project:
    """A loaded project.

    Attributes:
        root: the directory holding the config file (absolute).
        config_path: the config file (absolute).
        config: the validated configuration.
        document: the parsed YAML, to point messages at a config line.
    """

    root: Path
    config_path: Path
    config: ProjectConfig
    document: YamlDocument | None = field(default=None, repr=False)
    _prompts: dict[str, Prompt] | None = field(default=None, init=False, repr=False)

    @property
    def config_file(self) -> str:
        """The config path as shown in messages."""
        return display_path(self.config_path)

    def line_of(self, *path: str | int) -> int | None:
        """Line in ``releasegate.yaml`` of a key path such as ``("suites", "pr")``."""
        return self.document.line_at(path) if self.document is not None else None

    def locate(self, issues: list[Issue]) -> list[Issue]:
        """``issues`` with the config file's lines filled in.

        Providers and embedders name the config field that is wrong
        (``providers.judge.api_key_env``) but cannot know its line; an issue about this
        config file that has a field and no line gets the line of that field (or of its
        nearest enclosing key), and the file as shown in messages.
        """
        own = {str(self.config_path), self.config_file}
        out: list[Issue] = []
        for issue in issues:
            if issue.file in own and issue.field and issue.line is None:
                issue = replace(
                    issue, file=self.config_file, line=self.line_of(*self._field_path(issue.field))
                )
            elif issue.file in own:
                issue = replace(issue, file=self.config_file)
            out.append(issue)
        return out

    def _field_path(self, dotted: str) -> tuple[str, ...]:
        """``providers.my.judge.headers`` -> ``("providers", "my.judge", "headers")``:
        provider and suite names may hold dots, so known names are matched first."""
        for section in ("providers", "suites"):
            prefix = section + "."
            if not dotted.startswith(prefix):
                continue
            rest = dotted[len(prefix) :]
            names: dict[str, Any] = getattr(self.config, section)
            for name in sorted(names, key=len, reverse=True):
                if rest == name:
                    return (section, name)
                if rest.startswith(name + "."):
                    return (section, name, *rest[len(name) + 1 :].split("."))
        return tuple(dotted.split("."))

    def resolve(self, rel: str) -> Path:
        """A path from the config, made absolute against the project root."""
        p = Path(rel).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def prompts_dir(self) -> Path:
        """The directory that holds prompt files."""
        return self.resolve(self.config.prompts)

    def prompts(self) -> dict[str, Prompt]:
        """Every prompt in the prompt directory, by name (loaded once, then cached).

        A missing prompt directory means no prompts; a bad prompt file raises.

        Raises:
            PromptError: with the issues of every bad prompt file.
        """
        if self._prompts is None:
            directory = self.prompts_dir
            self._prompts = load_prompts(directory) if directory.is_dir() else {}
        return self._prompts

    def prompt(self, name: str) -> Prompt:
        """The prompt called ``name``.

        Raises:
            UsageError: when no prompt has that name (the message lists the known ones).
        """
        known = self.prompts()
        if name not in known:
            where = display_path(self.prompts_dir)
            raise UsageError(f"unknown prompt {name!r} in {where}{did_you_mean(name, known)}")
        return known[name]

    def suite(self, name: str) -> SuiteConfig:
        """The suite called ``name``.

        Raises:
            UsageError: when there is no such suite (the message lists the known ones).
        """
        suites = self.config.suites
        if name not in suites:
            raise UsageError(
                f"unknown suite {name!r} in {self.config_file}{did_you_mean(name, suites)}"
            )
        return suites[name]

    def datasets(self, suite: str) -> list[Dataset]:
        """Load every dataset of a suite.

        Raises:
            UsageError: unknown suite.
            DatasetError: with the issues of every bad dataset file.
        """
        return [load_dataset(self.resolve(rel)) for rel in self.suite(suite).datasets]


def find_config(config: str | Path | None = None) -> Path:
    """The config file for ``config``: a file, a directory holding one, or the cwd.

    Raises:
        UsageError: when there is no config file, with a hint to run ``releasegate init``.
    """
    start = Path(config) if config is not None else Path.cwd()
    if config is None or start.is_dir():
        for name in CONFIG_NAMES:
            candidate = start / name
            if candidate.is_file():
                return candidate.resolve()
        raise UsageError(
            f"no {CONFIG_NAMES[0]} in {display_path(start) or '.'}; "
            "run `releasegate init` to create one, or pass --config PATH"
        )
    if not start.exists():
        raise UsageError(
            f"config file {display_path(start)} not found; "
            "run `releasegate init` to create one, or check --config"
        )
    return start.resolve()


def load_project(config: str | Path | None = None) -> Project:
    """Load and validate a project config.

    Args:
        config: the config file, a directory holding ``releasegate.yaml``, or ``None`` for
            ``./releasegate.yaml``.

    Raises:
        UsageError: the config file does not exist.
        ConfigError: the file is unreadable or invalid; each issue has file:line and the
            dotted field path (``suites.pr.gate.min_score``).
    """
    path = find_config(config)
    doc = load_yaml_file(path, ConfigError)
    shown = display_path(path)
    data: Any = doc.data
    if not isinstance(data, dict):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise ConfigError(
            Issue(
                file=shown,
                line=doc.line_at(()),
                message=f"the config must be a mapping with providers and suites; it is {kind}",
            )
        )
    try:
        project_config = ProjectConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            validation_issues(exc, file=shown, data=data, doc=doc, model=ProjectConfig)
        ) from None
    return Project(root=path.parent, config_path=path, config=project_config, document=doc)
