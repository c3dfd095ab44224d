from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from releasegate.providers.jsonpath import JsonPathError, extract, parse_path

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


_keys = st.text(
    alphabet=st.characters(blacklist_characters="\"'", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=8,
)


@given(st.lists(st.one_of(_keys, st.integers(-50, 50)), min_size=1, max_size=6))
def test_bracket_form_round_trips(parts: list[str | int]) -> None:
    path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f'["{p}"]' for p in parts)
    assert parse_path(path) == tuple(parts)


@given(st.recursive(st.text(max_size=5), lambda c: st.dictionaries(_keys, c, max_size=3)))
def test_extract_finds_every_leaf_of_nested_dicts(doc: object) -> None:
    def leaves(node: object, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], object]]:
        if isinstance(node, dict):
            return [x for k, v in node.items() for x in leaves(v, (*prefix, k))]
        return [(prefix, node)]

    for parts, value in leaves(doc, ()):
        if parts:
            assert extract(doc, parts) == value
