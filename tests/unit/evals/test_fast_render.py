"""The direct renderer of text-and-variable templates renders exactly what Jinja does."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from releasegate.errors import PromptError
from releasegate.prompts import Prompt
from releasegate.prompts._fast_render import simple_renderer
from releasegate.prompts._prompt import _ENV

NAMES = ("input", "context", "question", "x")

# Literal text without Jinja's delimiters: everything else is fair (newlines at the end,
# leading/trailing spaces, braces on their own, unicode).
_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12
).filter(lambda t: "{{" not in t and "{%" not in t and "{#" not in t and not t.endswith("{"))
_var = st.sampled_from(NAMES).map(lambda n: "{{ " + n + " }}")
_value = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.none(),
    st.booleans(),
)


@given(
    parts=st.lists(st.one_of(_text, _var), min_size=1, max_size=8),
    values=st.fixed_dictionaries({n: _value for n in NAMES}),
)
@settings(max_examples=300, deadline=None)
def test_same_text_as_jinja(parts: list[str], values: dict[str, Any]) -> None:
    source = "".join(parts)
    direct = simple_renderer(_ENV, source)
    assert direct is not None, source
    assert direct(values) == _ENV.from_string(source).render(values)


@pytest.mark.parametrize(
    "source",
    [
        "{{ input }}",
        "Question: {{ input }}\n",
        "{{input}}{{ input }}",
        "{{- input -}} ",
        "  {{ input }}  \n\n",
        "{# a note #}{{ input }}",
        "{% raw %}{{ not a variable }}{% endraw %} {{ input }}",
        "",
        "plain text only",
    ],
)
def test_text_and_names_take_the_direct_path(source: str) -> None:
    direct = simple_renderer(_ENV, source)
    assert direct is not None
    values = {"input": "héllo {{ x }}\n"}
    assert direct(values) == _ENV.from_string(source).render(values)


@pytest.mark.parametrize(
    "source",
    [
        "{{ input | upper }}",
        "{{ input.strip() }}",
        "{{ input ~ '!' }}",
        "{% if input %}{{ input }}{% endif %}",
        "{% for x in input %}{{ x }}{% endfor %}",
        "{{ 'literal' }}",
        "{{ input[0] }}",
        "{% set y = 1 %}{{ y }}",
    ],
)
def test_anything_else_keeps_jinja(source: str) -> None:
    assert simple_renderer(_ENV, source) is None


def test_other_environments_keep_jinja() -> None:
    assert simple_renderer(jinja2.Environment(autoescape=True), "{{ input }}") is None
    assert simple_renderer(jinja2.Environment(finalize=str), "{{ input }}") is None


def _prompt(template: str) -> Prompt:
    return Prompt(name="p", version="1.0.0", model="m", template=template)


def test_a_missing_variable_is_still_jinjas_error() -> None:
    prompt = _prompt("Q: {{ input }} C: {{ context }}")
    with pytest.raises(PromptError, match=r"undefined template variable.*context"):
        prompt.render_text({"input": "hi"})
    assert prompt.render_text({"input": "hi", "context": "c"}) == "Q: hi C: c"


def test_a_jinja_global_resolves_as_in_jinja() -> None:
    prompt = _prompt("{{ range }}")
    assert prompt.render_text({}) == _ENV.from_string("{{ range }}").render({})
    assert prompt.render_text({"range": "mine"}) == "mine"


def test_a_value_whose_str_fails_is_a_prompt_error() -> None:
    class Bad:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    with pytest.raises(PromptError, match="template failed to render"):
        _prompt("{{ input }}").render_text({"input": Bad()})


def test_a_changed_template_is_not_rendered_from_the_old_cache() -> None:
    prompt = _prompt("A {{ input }}")
    assert prompt.render_text({"input": "x"}) == "A x"
    copy = prompt.model_copy(update={"template": "B {{ input }}"})
    assert copy.render_text({"input": "x"}) == "B x"
    assert prompt.render_text({"input": "x"}) == "A x"
