"""Prompt files: loading, validation, hashes and sandboxed rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.datasets.case import Case
from releasegate.errors import PromptError
from releasegate.prompts import Prompt, load_prompt, load_prompts, scan_prompts

GOOD = """\
name: support
version: 1.2.0
model: gpt-4o-2024-11-20
params: {temperature: 0, max_tokens: 200}
system: You are terse.
template: |
  Context: {{ context }}
  Question: {{ input }}
"""


def _write(tmp_path: Path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_and_render(tmp_path: Path) -> None:
    prompt = load_prompt(_write(tmp_path, GOOD))
    assert (prompt.name, prompt.version, prompt.model) == ("support", "1.2.0", "gpt-4o-2024-11-20")
    assert prompt.params == {"temperature": 0, "max_tokens": 200}
    assert prompt.ref == "support@1.2.0"
    assert prompt.path is not None and prompt.path.endswith("p.yaml")
    assert prompt.line_of("model") == 3
    messages = prompt.render({"input": "Where is my order?", "context": "Order 7 shipped."})
    assert messages == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Context: Order 7 shipped.\nQuestion: Where is my order?"},
    ]


def test_render_without_system_and_with_template_vars() -> None:
    prompt = Prompt(name="p", version="0.1.0", model="m-q8_0", template="{{ city }}/{{ n + 1 }}")
    assert prompt.render({"city": "Oslo", "n": 2}) == [{"role": "user", "content": "Oslo/3"}]


def test_render_takes_a_case_s_template_vars() -> None:
    prompt = Prompt(name="p", version="0.1.0", model="m-q8_0", template="{{ city }}/{{ n + 1 }}")
    case = Case(id="x", input={"city": "Oslo"}, vars={"n": 2})
    assert prompt.render(case.template_vars()) == [{"role": "user", "content": "Oslo/3"}]


def test_hashes_separate_text_and_config() -> None:
    base = Prompt(name="p", version="1.0.0", model="m-2024-01-01", template="T {{ input }}")
    text_change = base.model_copy(update={"template": "U {{ input }}"})
    model_change = base.model_copy(update={"model": "m-2024-06-01"})
    version_change = base.model_copy(update={"version": "1.0.1"})
    assert len(base.content_hash) == 64
    assert text_change.text_hash != base.text_hash
    assert text_change.config_hash == base.config_hash
    assert model_change.config_hash != base.config_hash
    assert model_change.text_hash == base.text_hash
    assert version_change.content_hash != base.content_hash
    assert version_change.text_hash == base.text_hash == version_change.text_hash
    # Key order and formatting of params do not change the hash.
    a = base.model_copy(update={"params": {"a": 1, "b": 2}})
    b = base.model_copy(update={"params": {"b": 2, "a": 1}})
    assert a.content_hash == b.content_hash
    # The file path is not part of the identity.
    assert base.model_copy(update={"path": "x.yaml"}).content_hash == base.content_hash


def test_undefined_variable_names_prompt_file_and_variable(tmp_path: Path) -> None:
    prompt = load_prompt(_write(tmp_path, GOOD.replace("{{ context }}", "{{ customer }}")))
    with pytest.raises(PromptError) as info:
        prompt.render({"input": "hi", "context": "c"})
    (issue,) = info.value.issues
    assert issue.file == prompt.path and issue.case_id is None
    assert "'support'" in issue.message
    assert "'customer' is undefined" in issue.message
    assert "(variables provided: context, input)" in issue.message


def test_template_syntax_error_points_at_file_line(tmp_path: Path) -> None:
    text = GOOD.replace("Question: {{ input }}", "Question: {{ input }\n  {% if x %}")
    with pytest.raises(PromptError) as info:
        load_prompt(_write(tmp_path, text))
    (issue,) = info.value.issues
    assert "template syntax error at template line 2" in issue.message
    assert issue.line == 8  # the template starts on line 7 of the file


def test_sandbox_blocks_python_internals() -> None:
    prompt = Prompt(
        name="p",
        version="1.0.0",
        model="m-q8_0",
        template="{{ input.__class__.__mro__[1].__subclasses__() }}",
    )
    with pytest.raises(PromptError, match="failed to render"):
        prompt.render({"input": "hi"})


def test_no_html_autoescape() -> None:
    prompt = Prompt(name="p", version="1.0.0", model="m-q8_0", template="{{ input }}")
    assert prompt.render({"input": "<b>&</b>"})[-1]["content"] == "<b>&</b>"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("version: 1.2.0", "version: 1.2"), "version: must be a semantic version"),
        (("version: 1.2.0", "version: 01.2.0"), "version: must be a semantic version"),
        (("name: support", "name: bad name"), "name: must start with a letter or digit"),
        (("model: gpt-4o-2024-11-20", "model: ''"), "model: must not be empty"),
        (("system:", "sytem:"), "sytem: unknown field; did you mean 'system'?"),
        (("name: support\n", ""), "name: required field is missing"),
        (("params: {temperature: 0, max_tokens: 200}", "params: [1]"), "params: must be a"),
    ],
)
def test_invalid_prompt_fields(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    with pytest.raises(PromptError) as info:
        load_prompt(_write(tmp_path, GOOD.replace(*change)))
    assert any(expected in i.message for i in info.value.issues), info.value.issues
    assert all(i.line is not None for i in info.value.issues)


def test_semver_accepts_prerelease_and_build() -> None:
    for version in ("0.0.1", "1.0.0-rc.1", "2.3.4+build.5", "1.0.0-alpha-1"):
        assert Prompt(name="p", version=version, model="m", template="t").version == version


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_prompt_file_must_be_a_mapping(tmp_path: Path, text: str) -> None:
    with pytest.raises(PromptError, match="must be a mapping"):
        load_prompt(_write(tmp_path, text))


def test_load_prompts_directory_and_duplicates(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "a.yaml")
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub", GOOD.replace("name: support", "name: other"), "b.yml")
    _write(tmp_path, "not a prompt", "notes.txt")
    prompts = load_prompts(tmp_path)
    assert sorted(prompts) == ["other", "support"]

    _write(tmp_path, GOOD.replace("1.2.0", "1.3.0"), "c.yaml")
    with pytest.raises(PromptError) as info:
        load_prompts(tmp_path)
    (issue,) = info.value.issues
    assert "duplicate prompt name 'support'" in issue.message
    assert issue.file.endswith("c.yaml") and "a.yaml" in issue.message


def test_scan_prompts_collects_all_bad_files(tmp_path: Path) -> None:
    _write(tmp_path, GOOD, "ok.yaml")
    _write(tmp_path, "name: [", "broken.yaml")
    _write(tmp_path, GOOD.replace("1.2.0", "x").replace("support", "s2"), "badver.yaml")
    prompts, issues = scan_prompts(tmp_path)
    assert list(prompts) == ["support"]
    assert sorted(Path(i.file).name for i in issues) == ["badver.yaml", "broken.yaml"]
    _, missing = scan_prompts(tmp_path / "nope")
    assert "not found" in missing[0].message


def test_copies_with_changes_do_not_reuse_stale_caches() -> None:
    base = Prompt(name="p", version="1.0.0", model="m-2024-01-01", template="A {{ input }}")
    case = {"input": "hi"}
    assert base.render(case)[-1]["content"] == "A hi"
    before = (base.content_hash, base.text_hash, base.config_hash)
    changed = base.model_copy(update={"template": "B {{ input }}", "model": "m-2024-02-01"})
    assert changed.render(case)[-1]["content"] == "B hi"
    assert changed.content_hash != before[0]
    assert changed.text_hash != before[1]
    assert changed.config_hash != before[2]
    assert base.render(case)[-1]["content"] == "A hi"


def test_template_is_compiled_once() -> None:
    prompt = Prompt(name="p", version="1.0.0", model="m", template="{{ input }}")
    assert prompt.compile() is prompt.compile()


def test_rendering_many_cases_reuses_the_compiled_template() -> None:
    # What keeps 2,000-case runs fast: one compile, then cheap renders.
    prompt = Prompt(name="p", version="1.0.0", model="m", template="Q: {{ input }}")
    template = prompt.compile()
    cases = [Case(id=str(i), input=f"question {i}") for i in range(2000)]
    outputs = [prompt.render(c.template_vars())[-1]["content"] for c in cases]
    assert prompt.compile() is template
    assert outputs[1999] == "Q: question 1999"
