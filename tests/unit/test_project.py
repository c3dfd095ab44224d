"""Loading releasegate.yaml into a Project."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.errors import ConfigError, PromptError, UsageError
from releasegate.project import Project, find_config, load_project

CONFIG = """\
version: 1
providers:
  target:
    type: openai
    model: gpt-4o-2024-11-20
  judge:
    type: anthropic
    model: claude-3-5-sonnet-20241022
prompts: prompts/
suites:
  pr:
    dataset: data/pr.yaml
    prompt: support
    judge: judge
    gate:
      min_score: 0.8
  nightly:
    dataset: [data/pr.yaml, data/more.jsonl]
    prompt: support
"""

PROMPT = """\
name: support
version: 1.0.0
model: gpt-4o-2024-11-20
template: "Q: {{ input }}"
"""


def _project(tmp_path: Path, config: str = CONFIG) -> Path:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "support.yaml").write_text(PROMPT, encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pr.yaml").write_text("- {id: a, input: hi}\n", encoding="utf-8")
    (tmp_path / "data" / "more.jsonl").write_text('{"id": "b", "input": "yo"}\n')
    path = tmp_path / "releasegate.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def test_load_project_and_accessors(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path))
    assert isinstance(project, Project)
    assert project.root == tmp_path.resolve()
    assert project.config.suites["pr"].gate.min_score == 0.8
    assert project.resolve("data/pr.yaml") == tmp_path.resolve() / "data" / "pr.yaml"
    assert project.resolve(str(tmp_path / "x")) == tmp_path / "x"
    assert project.suite("pr").prompt == "support"
    assert project.prompt("support").version == "1.0.0"
    assert project.prompts() is project.prompts()  # loaded once
    assert [len(d) for d in project.datasets("nightly")] == [1, 1]
    assert project.line_of("suites", "pr", "gate", "min_score") == 16


def test_default_and_directory_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert load_project().config_path == path.resolve()
    assert load_project(tmp_path).config_path == path.resolve()
    assert find_config("releasegate.yaml") == path.resolve()


def test_missing_config_hints_at_init(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="releasegate init"):
        load_project()
    with pytest.raises(UsageError, match="releasegate init"):
        load_project(tmp_path / "other.yaml")


def test_unknown_suite_and_prompt_list_known(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path))
    with pytest.raises(UsageError, match="did you mean 'nightly'"):
        project.suite("nighty")
    with pytest.raises(UsageError, match=r"known: nightly, pr"):
        project.suite("zzz")
    with pytest.raises(UsageError, match="did you mean 'support'"):
        project.prompt("suport")


def test_bad_prompt_file_raises_prompt_error(tmp_path: Path) -> None:
    project = load_project(_project(tmp_path))
    (tmp_path / "prompts" / "broken.yaml").write_text("name: x\n", encoding="utf-8")
    with pytest.raises(PromptError, match=r"broken\.yaml"):
        project.prompts()


def test_missing_prompt_dir_means_no_prompts(tmp_path: Path) -> None:
    path = tmp_path / "releasegate.yaml"
    path.write_text("providers: {t: {type: python, function: app:run}}\n", encoding="utf-8")
    assert load_project(path).prompts() == {}


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (
            ("min_score: 0.8", "min_score: 1.5"),
            16,
            "suites.pr.gate.min_score: must be <= 1, got 1.5",
        ),
        (("    gate:", "    gaet:"), 15, "suites.pr.gaet: unknown field; did you mean 'gate'?"),
        (("version: 1", "version: 2"), 1, "version: must be 1, got 2"),
        (("  pr:\n    dataset: data/pr.yaml\n", "  pr:\n"), 11, "suites.pr.dataset: required"),
        (("prompts: prompts/", "promts: prompts/"), 9, "promts: unknown field; did you mean"),
    ],
)
def test_config_errors_have_line_and_dotted_path(
    tmp_path: Path, change: tuple[str, str], line: int, message: str
) -> None:
    path = _project(tmp_path, CONFIG.replace(*change))
    with pytest.raises(ConfigError) as info:
        load_project(path)
    issue = info.value.issues[0]
    assert issue.file.endswith("releasegate.yaml")
    assert issue.line == line
    assert issue.message.startswith(message)


def test_config_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "releasegate.yaml"
    for text in ("", "- a\n"):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match="must be a mapping"):
            load_project(path)


def test_reference_to_unknown_provider(tmp_path: Path) -> None:
    path = _project(tmp_path, CONFIG.replace("judge: judge", "judge: judje"))
    with pytest.raises(ConfigError, match="judge 'judje' is not a provider"):
        load_project(path)
