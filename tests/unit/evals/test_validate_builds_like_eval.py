"""validate builds what eval builds: the same providers, judge, embedder and checks.

Every project below is run through both ``validate_project`` and ``run_eval``: a
project validate accepts is one eval can start, a config eval refuses is refused by
validate with the same message, and each config error names its file and line.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from releasegate.bootstrap import eval_adapters, run_eval
from releasegate.errors import ConfigError, Issue
from releasegate.evals.validate import has_errors, validate_project

SCRIPTED = "{type: scripted, model: s-2024-01-01, default: 'Score: 0.9'}"

CASES = """\
- id: a
  input: What is the refund window?
  reference: Thirty days.
  expected_behavior: States the refund window.
  assert:
    - {type: llm-judge, value: Says thirty days}
    - {type: similar, value: Thirty days., threshold: 0.1}
- id: b
  input: Hello
  assert: [{type: contains, value: Hello}]
"""


def validate(path: Path | str | None, *, allow_unpinned: bool = False) -> list[Issue]:
    """``validate_project`` with the adapters ``releasegate validate`` uses."""
    return validate_project(path, adapters=eval_adapters(), allow_unpinned=allow_unpinned)


def _project(
    tmp_path: Path,
    *,
    providers: str,
    suite: str = "target: target\n    judge: judge\n    embedder: emb",
    cases: str = CASES,
) -> Path:
    config = (
        "providers:\n"
        + textwrap.indent(textwrap.dedent(providers).strip("\n"), "  ")
        + "\nsuites:\n  pr:\n    dataset: data.yaml\n    "
        + suite
        + "\ncache: {enabled: false}\n"
    )
    (tmp_path / "releasegate.yaml").write_text(config, encoding="utf-8")
    (tmp_path / "data.yaml").write_text(cases, encoding="utf-8")
    return tmp_path / "releasegate.yaml"


def _line_of(config: Path, text: str) -> int:
    for number, line in enumerate(config.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} not in {config}")


def _eval_issues(config: Path) -> list[Issue]:
    with pytest.raises(ConfigError) as info:
        run_eval(config, "pr", use_cache=False)
    return list(info.value.issues)


GOOD = f"""\
target: {SCRIPTED}
judge: {SCRIPTED}
emb: {{type: local}}
"""


@pytest.mark.slow  # loads the local embedding model
def test_suite_with_judge_and_embedder_checks_validates_and_runs(tmp_path: Path) -> None:
    config = _project(tmp_path, providers=GOOD)
    assert validate(config) == []
    pytest.importorskip("sentence_transformers")  # the local embedder's extra
    report = run_eval(config, "pr", use_cache=False)
    assert [c.id for c in report.cases] == ["a", "b"]
    checks = {c.type: c for c in report.cases[0].checks}
    assert checks["llm-judge"].status == "measured"
    assert checks["similar"].status == "measured"


# (provider entry that eval refuses, text expected in the message, key whose line is named)
BROKEN_PROVIDERS = [
    ("{type: opnai, model: m-2024-01-01}", "unknown provider type 'opnai'", "target:"),
    ("{type: openai, model: gpt-4o-2024-11-20, colour: red}", "colour", "target:"),
    ("{type: anthropic, model: claude-3-5-sonnet-20241022, colour: red}", "colour", "target:"),
    ("{type: python}", "function", "target:"),
    ("{type: python, function: 'no_such_module_xyz:fn'}", "no_such_module_xyz", "target:"),
    ("{type: http}", "url", "target:"),
    ("{type: http, url: 'ftp://example.invalid/x'}", "must start with http", "target:"),
    ("{type: scripted, responses: {a: []}}", "empty list", "target:"),
    ("{type: scripted, nonsense: 1}", "nonsense", "target:"),
    ("{type: replay, file: missing.jsonl}", "does not exist", "target:"),
    ("{type: local, gguf: missing.gguf}", "GGUF file not found", "target:"),
]


@pytest.mark.parametrize(("entry", "expected", "key"), BROKEN_PROVIDERS)
def test_a_target_eval_cannot_build_fails_validation_with_its_line(
    tmp_path: Path, entry: str, expected: str, key: str
) -> None:
    if "anthropic" in entry:
        pytest.importorskip("anthropic")  # without the SDK the error is the install hint
    providers = f"target: {entry}\njudge: {SCRIPTED}\nemb: {{type: local}}\n"
    config = _project(tmp_path, providers=providers)
    issues = validate(config)
    errors = [i for i in issues if i.severity == "error"]
    assert errors, issues
    assert any(expected in i.message for i in errors), errors
    assert all(i.file == "releasegate.yaml" or i.file.endswith("releasegate.yaml") for i in errors)
    assert _line_of(config, key) in {i.line for i in errors}
    # eval refuses the same config with the same issues
    assert set(_eval_issues(config)) <= set(errors)


@pytest.mark.parametrize(
    ("role", "entry", "expected"),
    [
        ("judge", "{type: opnai}", "unknown provider type 'opnai'"),
        ("judge", "{type: scripted, default: 3}", "default"),
        ("emb", "{type: sentence-bert}", "unknown embedder type"),
        ("emb", "{type: openai, base_url: 'http://127.0.0.1:9/v1'}", "set `model`"),
        ("emb", "{type: local, path: no/such/dir}", "model directory not found"),
    ],
)
def test_a_judge_or_embedder_eval_cannot_build_fails_validation(
    tmp_path: Path, role: str, entry: str, expected: str
) -> None:
    entries = {"target": SCRIPTED, "judge": SCRIPTED, "emb": "{type: local}", role: entry}
    config = _project(tmp_path, providers="".join(f"{k}: {v}\n" for k, v in entries.items()))
    errors = [i for i in validate(config) if i.severity == "error"]
    assert any(expected in i.message for i in errors), errors
    assert _line_of(config, f"{role}:") in {i.line for i in errors}
    assert set(_eval_issues(config)) <= set(errors)


@pytest.mark.parametrize(
    ("suite", "cases", "expected"),
    [
        ("target: target\n    embedder: emb", CASES, "needs a judge"),
        ("target: target\n    judge: judge", CASES, "embedder"),
        (
            "target: target\n    judge: judge\n    embedder: emb",
            "- id: a\n  input: x\n  assert: [{type: containz, value: x}]\n",
            "containz",
        ),
        (
            "target: target\n    judge: judge\n    embedder: emb",
            "- id: a\n  input: x\n  assert: [{type: regex, value: '('}]\n",
            "regex",
        ),
    ],
    ids=["judge-missing", "embedder-missing", "unknown-check", "bad-check-argument"],
)
def test_checks_that_eval_cannot_build_fail_validation_at_the_case(
    tmp_path: Path, suite: str, cases: str, expected: str
) -> None:
    config = _project(tmp_path, providers=GOOD, suite=suite, cases=cases)
    errors = [i for i in validate(config) if i.severity == "error"]
    assert any(expected in i.message and i.case_id == "a" for i in errors), errors
    assert all(i.line is not None for i in errors)
    assert set(_eval_issues(config)) <= set(errors)


@pytest.mark.parametrize(
    ("entry", "var"),
    [
        (
            "{type: openai, model: gpt-4o-2024-11-20, api_key_env: RG_TEST_UNSET_KEY}",
            "RG_TEST_UNSET_KEY",
        ),
        ("{type: openai, model: gpt-4o-2024-11-20}", "OPENAI_API_KEY"),
        ("{type: anthropic, model: claude-3-5-sonnet-20241022}", "ANTHROPIC_API_KEY"),
        (
            "{type: http, url: 'http://127.0.0.1:9/chat', "
            "headers: {Authorization: 'Bearer {{ env.RG_TEST_UNSET_KEY }}'}}",
            "RG_TEST_UNSET_KEY",
        ),
        (
            "{type: http, url: 'http://127.0.0.1:9/chat', "
            "headers: {X-Key: '{{ env[\"RG_TEST_UNSET_KEY\"] }}'}}",
            "RG_TEST_UNSET_KEY",
        ),
    ],
)
def test_missing_api_key_is_a_warning_that_says_eval_would_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry: str, var: str
) -> None:
    if "anthropic" in entry:
        pytest.importorskip("anthropic")
    for name in ("RG_TEST_UNSET_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    providers = f"target: {entry}\njudge: {SCRIPTED}\nemb: {{type: local}}\n"
    config = _project(tmp_path, providers=providers)
    issues = validate(config)
    assert not has_errors(issues), issues
    (warning,) = issues
    assert warning.severity == "warning"
    assert var in warning.message and "eval would stop" in warning.message
    assert warning.line is not None
    # ... and eval does stop on it, naming the variable and the line
    (eval_issue,) = _eval_issues(config)
    assert var in eval_issue.message
    assert eval_issue.line == _line_of(config, "target:")
    # the placeholder used while validating is gone again
    import os

    assert var not in os.environ


def test_missing_key_does_not_hide_another_error_in_the_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RG_TEST_UNSET_KEY", raising=False)
    providers = (
        "target: {type: openai, model: gpt-4o-2024-11-20, api_key_env: RG_TEST_UNSET_KEY}\n"
        "judge: {type: opnai}\n"
        "emb: {type: local}\n"
    )
    config = _project(tmp_path, providers=providers)
    issues = validate(config)
    assert [i.severity for i in issues] == ["warning", "error"]
    assert "RG_TEST_UNSET_KEY" in issues[0].message
    assert "opnai" in issues[1].message and issues[1].line == _line_of(config, "judge:")


def test_issues_of_a_provider_shared_by_suites_are_reported_once(tmp_path: Path) -> None:
    config = _project(
        tmp_path, providers=f"target: {{type: opnai}}\njudge: {SCRIPTED}\nemb: {{type: local}}\n"
    )
    text = config.read_text().replace(
        "cache:", "  nightly:\n    dataset: data.yaml\n    judge: judge\n    embedder: emb\ncache:"
    )
    config.write_text(text)
    errors = [i for i in validate(config) if i.severity == "error"]
    assert len([i for i in errors if "opnai" in i.message]) == 1


def test_a_provider_no_suite_uses_is_checked_for_a_known_type(tmp_path: Path) -> None:
    config = _project(tmp_path, providers=GOOD + "spare: {type: antropic}\n")
    (issue,) = validate(config)
    assert issue.severity == "error"
    assert "unknown provider type; did you mean 'anthropic'?" in issue.message
    assert issue.line == _line_of(config, "spare:")


def test_only_the_keys_a_suite_needs_are_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("anthropic")
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    providers = (
        # a local OpenAI-compatible server needs no key; the anthropic judge does
        "target: {type: openai, model: m-2024-01-01, base_url: 'http://127.0.0.1:9/v1'}\n"
        "judge: {type: anthropic, model: claude-3-5-sonnet-20241022}\n"
        "emb: {type: local}\n"
    )
    config = _project(tmp_path, providers=providers)
    issues = validate(config)
    assert [(i.severity, i.field) for i in issues] == [("warning", "providers.judge")]
    assert "ANTHROPIC_API_KEY" in issues[0].message
    assert issues[0].line == _line_of(config, "judge:")
