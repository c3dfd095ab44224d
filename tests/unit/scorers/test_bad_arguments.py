"""Bad arguments fail at build time with a ConfigError naming the file and the check."""

from __future__ import annotations

from typing import Any

import pytest

from releasegate.errors import ConfigError

from ._support import build

BAD: list[tuple[dict[str, Any], str]] = [
    ({"type": "equals"}, "value must be a string, got nothing (is `value:` missing?)"),
    ({"type": "equals", "value": ["a"]}, "value must be a string"),
    ({"type": "equals", "value": "a", "case_sensitve": True}, "unknown option(s) case_sensitve"),
    ({"type": "equals", "value": "a", "strip": "yes"}, "option 'strip' must be true or false"),
    ({"type": "contains"}, "value must be a string, got nothing"),
    ({"type": "contains", "value": ""}, "value must not be empty"),
    ({"type": "contains", "value": ["a", "b"]}, "use contains-all or contains-any"),
    ({"type": "contains-all", "value": []}, "value must not be an empty list"),
    ({"type": "contains-all", "value": ["a", ""]}, "value[1] must not be empty"),
    ({"type": "contains-any", "value": ["a", None]}, "value[1] must be a string or a list"),
    ({"type": "contains-any", "value": {"a": 1}}, "must be a string or a list of strings"),
    ({"type": "not-contains", "value": True}, "got True (bool)"),
    (
        {"type": "icontains", "value": "a", "case_sensitive": True},
        "drop case_sensitive or use 'contains'",
    ),
    ({"type": "not-icontains", "value": "a", "case_sensitive": True}, "use 'not-contains'"),
    ({"type": "contains", "value": "a", "case_sensitive": 1}, "must be true or false"),
    ({"type": "regex", "value": "(unclosed"}, "invalid regular expression '(unclosed'"),
    ({"type": "regex", "value": "a", "flags": "iq"}, "unknown regex flag 'q'"),
    ({"type": "regex", "value": "a", "flags": 1}, "option 'flags' must be a string"),
    ({"type": "not-regex", "value": "[a-"}, "invalid regular expression"),
    ({"type": "starts-with", "value": ""}, "value must not be empty"),
    ({"type": "max-words", "value": -1}, "value must be >= 0, got -1"),
    ({"type": "max-words", "value": 2.5}, "value must be a whole number, got 2.5"),
    ({"type": "min-words", "value": "10"}, "value must be an integer, got '10' (str)"),
    ({"type": "max-chars"}, "value must be an integer, got nothing"),
    ({"type": "min-chars", "value": True}, "value must be an integer"),
    ({"type": "max-words", "value": 3, "strip": True}, "unknown option(s) strip (allowed: none)"),
    ({"type": "latency", "value": 0}, "must be > 0"),
    ({"type": "latency", "value": "fast"}, "must be a number"),
    ({"type": "latency", "value": float("inf")}, "must be a finite number"),
    ({"type": "cost", "value": -0.01}, "must be >= 0"),
    ({"type": "is-json", "value": {"type": "object"}}, "takes no value; to check a structure"),
    ({"type": "is-json", "allow_fenced": "true"}, "option 'allow_fenced' must be true or false"),
    ({"type": "json-schema"}, "needs a JSON Schema"),
    ({"type": "json-schema", "value": {"type": "foo"}}, "invalid JSON Schema at type"),
    ({"type": "json-schema", "value": {"minimum": "3"}}, "invalid JSON Schema at minimum"),
    ({"type": "json-schema", "value": [1]}, "schema must be a JSON Schema object"),
    ({"type": "json-schema", "value": "{not json"}, "schema string is not JSON"),
    ({"type": "json-schema", "value": {}, "schema": {}}, "not both"),
    ({"type": "is-refusal", "value": "x"}, "takes no value"),
    ({"type": "not-refusal", "window": -5}, "option 'window' must be >= 0"),
    ({"type": "not-refusal", "phrases": [""]}, "option 'phrases' must be a list"),
    ({"type": "not-refusal", "phrases": 3}, "option 'phrases' must be a list"),
    ({"type": "repetition", "value": 3}, "takes no value"),
    ({"type": "repetition", "n": 0}, "option 'n' must be >= 1"),
    ({"type": "repetition", "max_ratio": 1.5}, "option 'max_ratio' must be between 0.0 and 0.99"),
    ({"type": "loop", "max_repeats": 0}, "option 'max_repeats' must be >= 1"),
    ({"type": "no-repetition", "min_words": "3"}, "option 'min_words' must be an integer"),
]


@pytest.mark.parametrize(
    ("spec", "fragment"), BAD, ids=[f"{s['type']}-{i}" for i, (s, _) in enumerate(BAD)]
)
def test_bad_arguments_raise_config_error(spec: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        build(spec, where="evals/pr.yaml")
    message = str(info.value)
    assert message.startswith(f"evals/pr.yaml: check {spec['type']!r}: ")
    assert fragment in message
    assert info.value.exit_code == 2
    (issue,) = info.value.issues
    assert issue.file == "evals/pr.yaml"


def test_bookkeeping_keys_are_allowed_on_any_check() -> None:
    scorer = build({"type": "contains", "value": "x", "name": "mentions x", "description": "d"})
    assert scorer.name == "contains"
