from __future__ import annotations

import pytest

from releasegate.providers.jsonpath import JsonPathError, extract, parse_path

pytestmark = pytest.mark.unit

DOC = {
    "choices": [{"message": {"content": "hi"}}],
    "answer": "42",
    "a.b": {"0": "zero-key"},
    "items": [1, 2, 3],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("choices.0.message.content", "hi"),
        ("$.choices[0].message.content", "hi"),
        ('$["choices"][0]["message"]["content"]', "hi"),
        ("$.answer", "42"),
        ("answer", "42"),
        ("$['a.b'].0", "zero-key"),
        ("items[-1]", 3),
        ("items.1", 2),
    ],
)
def test_extract(path: str, expected: object) -> None:
    assert extract(DOC, path) == expected


@pytest.mark.parametrize("path", ["", "$", "a..b", "a.", "a[x]", "a[0]b"])
def test_malformed_paths(path: str) -> None:
    with pytest.raises(JsonPathError):
        parse_path(path)


def test_parse_path_types() -> None:
    assert parse_path("$.a[2].b.-1") == ("a", 2, "b", -1)


def test_missing_key_names_where_and_what_is_there() -> None:
    with pytest.raises(JsonPathError, match=r"no key 'content' at \$\.choices\[0\]\.message"):
        extract({"choices": [{"message": {"text": "x"}}]}, "choices.0.message.content")
    with pytest.raises(JsonPathError, match="out of range"):
        extract(DOC, "items.5")
    with pytest.raises(JsonPathError, match="is a list"):
        extract(DOC, "items.first")
    with pytest.raises(JsonPathError, match="cannot take"):
        extract(DOC, "answer.x")
