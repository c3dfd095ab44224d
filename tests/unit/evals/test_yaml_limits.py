"""The YAML loader's limits: real nesting depth and alias expansion, measured exactly.

Every document style users and scripts write (block, flow, JSON in a ``.yaml`` file)
loads with libyaml; documents nested deeper than the limit and alias bombs are refused
with one clear issue, in every style, by both ways of measuring depth (on the composed
graph, and on the parser's events for composers that do not stop deep input).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from releasegate import _yaml
from releasegate._yaml import load_yaml
from releasegate._yaml_limits import MAX_DEPTH, composer_bounds_nesting
from releasegate.errors import ConfigError

HAS_LIBYAML = hasattr(yaml, "CSafeLoader")


@pytest.fixture(params=["graph", "events"])
def strategy(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a test with depth measured on the composed graph, then on parser events."""
    monkeypatch.setattr(_yaml, "_PARSE_DEPTH_FIRST", request.param == "events")
    yield request.param


def _flow_seq(depth: int) -> str:
    return "[" * depth + "x" + "]" * depth


def _flow_map(depth: int) -> str:
    return "{k: " * depth + "x" + "}" * depth


def _json(depth: int) -> str:
    """What ``json.dumps`` writes for lists and objects alternating ``depth`` deep."""
    opens = "".join('{"k": ' if i % 2 else "[" for i in range(depth))
    closes = "".join("}" if i % 2 else "]" for i in reversed(range(depth)))
    return opens + '"x"' + closes


def _block_seq(depth: int) -> str:
    return "- " * depth + "x\n"


def _block_map(depth: int) -> str:
    return "".join(" " * i + "k:\n" for i in range(depth - 1)) + " " * (depth - 1) + "k: x\n"


def _block_then_flow(depth: int) -> str:
    half = depth // 2
    return "".join(" " * i + "k:\n" for i in range(half)) + " " * half + _flow_seq(depth - half)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


STYLES = [_flow_seq, _flow_map, _json, _block_seq, _block_map, _block_then_flow]


@pytest.mark.parametrize("make", STYLES, ids=lambda f: f.__name__.strip("_"))
def test_nesting_at_the_limit_loads(make: Any, strategy: str) -> None:
    doc = load_yaml(make(MAX_DEPTH), "deep.yaml")
    assert _depth(doc.data) == MAX_DEPTH


@pytest.mark.parametrize("make", STYLES, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("extra", [1, 2, 900, 5_000, 50_000])
def test_nesting_over_the_limit_is_one_clear_issue(make: Any, extra: int, strategy: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(make(MAX_DEPTH + extra), "deep.yaml")
    (issue,) = info.value.issues
    assert issue.file == "deep.yaml"
    assert f"nested more than {MAX_DEPTH} levels deep" in issue.message
    assert issue.line is not None and issue.line >= 1


@pytest.mark.parametrize("stack_kib", [0, 256, 1024, 8192])
def test_deep_documents_in_threads_with_small_stacks(stack_kib: int) -> None:
    # libyaml's composer recursion must never run deep on a small thread stack.
    import subprocess
    import sys

    code = (
        "import threading\n"
        f"threading.stack_size({stack_kib * 1024})\n"
        "from releasegate._yaml import load_yaml\n"
        "from releasegate.errors import ConfigError\n"
        "texts = ['[' * 999 + ']' * 999, '- ' * 999 + 'x', '{k: ' * 999 + 'x' + '}' * 999]\n"
        "def run():\n"
        "    for text in ['a: 1', *texts, *texts]:\n"
        "        try:\n"
        "            load_yaml(text, 'deep.yaml')\n"
        "        except ConfigError as exc:\n"
        "            print(exc.issues[0].message)\n"
        "t = threading.Thread(target=run)\n"
        "t.start()\n"
        "t.join()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("levels deep") == 6


def test_depth_stacked_through_aliases_is_measured(strategy: str) -> None:
    half = MAX_DEPTH // 2 + 1
    text = f"a: &a {_flow_seq(half)}\nb: {'[' * half}*a{']' * half}\n"
    with pytest.raises(ConfigError, match=f"nested more than {MAX_DEPTH} levels"):
        load_yaml(text, "alias.yaml")
    ok = f"a: &a {_flow_seq(10)}\nb: {'[' * 10}*a{']' * 10}\n"
    assert _depth(load_yaml(ok, "alias.yaml").data) == 21


def _bomb(width: int, levels: int, style: str) -> str:
    items = ", ".join(["x"] * width)
    lines = [f"a0: &a0 [{items}]"]
    for i in range(1, levels):
        refs = [f"*a{i - 1}"] * width
        if style == "flow":
            lines.append(f"a{i}: &a{i} [{', '.join(refs)}]")
        elif style == "json-like":
            pairs = ", ".join(f'"k{j}":{r}' for j, r in enumerate(refs))
            lines.append(f'"a{i}": &a{i} {{{pairs}}}')
        else:
            lines.append(f"a{i}: &a{i}\n" + "".join(f"  - {r}\n" for r in refs))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("style", ["flow", "json-like", "block"])
@pytest.mark.parametrize(("width", "levels"), [(10, 9), (2, 25), (1000, 3)])
def test_alias_bombs_are_refused(style: str, width: int, levels: int, strategy: str) -> None:
    with pytest.raises(ConfigError, match="expands to more than"):
        load_yaml(_bomb(width, levels, style), "bomb.yaml")


@pytest.mark.parametrize(
    "text", ["&a [*a]", "&a {k: *a}", "a: &a\n  - b: *a\n", "&a [[[[*a]]]]", '&a {"k":*a}']
)
def test_self_containing_alias_is_refused(text: str, strategy: str) -> None:
    with pytest.raises(ConfigError, match="recursive alias"):
        load_yaml(text, "cycle.yaml")


TRICKY = [
    "- " * 300 + "x",  # a plain scalar full of dashes, not nesting
    ": - ? " * 200,
    "[" * 2000,
    "{" * 500 + "}" * 3000,
    "]]]]]] [[[[[ " * 100,
    "a: b: c - ? : " * 100,
    "# [[[[[[[[[[ " * 100,
]


@pytest.mark.parametrize("scalar", TRICKY, ids=range(len(TRICKY)))
@pytest.mark.parametrize("dump", ["json", "flow", "block"])
def test_indicator_characters_inside_scalars_are_text(
    scalar: str, dump: str, strategy: str
) -> None:
    data = {"cases": [{"id": f"c{i}", "input": scalar, "tags": [scalar, "x"]} for i in range(50)]}
    if dump == "json":
        text = json.dumps(data)
    else:
        text = yaml.safe_dump(data, default_flow_style=dump == "flow", width=10**9)
    assert load_yaml(text, "t.yaml").data == data


def _machine_written() -> list[str]:
    cases = [
        {
            "id": f"c{i}",
            "input": f"Summarise ticket {i}: - ? : [x] {{y}} 'q' \"d\" *star &amp #",
            "assert": [
                {"type": "contains", "value": f"kettle number {i}"},
                {"type": "regex", "value": r"ticket \d+: [a-z]*"},
            ],
        }
        for i in range(500)
    ]
    return [
        json.dumps(cases),
        json.dumps({"cases": cases}, indent=2),
        yaml.safe_dump(cases, default_flow_style=True, width=10**9),
        yaml.safe_dump({"cases": cases}),
    ]


@pytest.mark.skipif(not HAS_LIBYAML, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("text", _machine_written(), ids=["json", "json-indent", "flow", "block"])
def test_machine_written_documents_take_the_libyaml_path(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert issubclass(_yaml._Loader, yaml.CSafeLoader)

    def pure_python(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the pure-Python YAML scanner was used")

    monkeypatch.setattr(yaml.scanner.Scanner, "fetch_more_tokens", pure_python)
    monkeypatch.setattr(yaml.parser.Parser, "parse_node", pure_python)
    if composer_bounds_nesting(_yaml._Loader):
        # no second pass over the text either: depth is read off the composed graph
        monkeypatch.setattr(_yaml, "check_event_depth", pure_python)
    doc = load_yaml(text, "m.yaml")
    expected = json.loads(text) if text.lstrip()[0] in "[{" and '"' in text[:3] else None
    if expected is not None:
        assert doc.data == expected
    assert len(doc.data if isinstance(doc.data, list) else doc.data["cases"]) == 500


def test_may_alias_pattern_finds_every_alias_position() -> None:
    texts = [
        "*a",
        "[*a]",
        "[x,*a]",
        "{k: *a}",
        '{"k":*a}',
        "k: *a",
        "- *a",
        "? *a",
        "k:\n\t*a",
        "[x, *a]",
    ]
    for text in texts:
        assert _yaml._MAY_ALIAS.search(text), text
    for text in ["regex: \\d*", "a**b", "x: a*b", '"k": "v*"']:
        assert not _yaml._MAY_ALIAS.search(text), text


_TEXT = st.text(
    alphabet=st.sampled_from([*"abcz019 -:?[]{},#&*!|>'\"%@`\\\t\n", "é", "☃"]), max_size=12
)
_LEAF = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | _TEXT
_DATA: st.SearchStrategy[Any] = st.deferred(
    lambda: _LEAF | st.lists(_DATA, max_size=4) | st.dictionaries(_TEXT, _DATA, max_size=4)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_DATA, dump=st.sampled_from(["json", "json-indent", "flow", "block"]))
def test_any_written_document_round_trips(data: Any, dump: str) -> None:
    if dump.startswith("json"):
        text = json.dumps(data, indent=2 if dump == "json-indent" else None)
    else:
        text = yaml.safe_dump(data, default_flow_style=dump == "flow", allow_unicode=True)
    assert load_yaml(text, "p.yaml").data == data


@settings(max_examples=60, deadline=None)
@given(depth=st.integers(1, MAX_DEPTH + 40), seed=st.randoms(use_true_random=False))
def test_depth_is_refused_exactly_past_the_limit(depth: int, seed: Any) -> None:
    value: Any = "leaf"
    for i in range(depth):
        value = [value, 1] if seed.random() < 0.5 else {f"k{i}": value, "n": 1}
    for text in (json.dumps(value), yaml.safe_dump(value), yaml.safe_dump(value, width=10**9)):
        if depth <= MAX_DEPTH:
            assert load_yaml(text, "d.yaml").data == value
        else:
            with pytest.raises(ConfigError, match="levels deep"):
                load_yaml(text, "d.yaml")


SAME_AS_PYYAML = [
    "a: 010\nb: 0x1F\nc: 1.10\nd: 1e3\ne: yes\nf: ~\ng: 2024-01-01\nh: 2024-01-01 10:00:00Z\n",
    "base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  x: 5\n",
    "s: !!set {a, b}\no: !!omap [{a: 1}, {b: 2}]\np: !!pairs [{a: 1}, {a: 2}]\n",
    "bin: !!binary aGVsbG8=\nstr: !!str 123\nint: !!int '7'\nfloat: !!float '1'\n",
    "1: one\ntrue: t\nnull: n\n2.5: f\n",
    '{"a": [1, 2.5, true, null, "x"], "b": {"c": -3}}',
    "- [a, b]\n- {k: v}\n- !!seq [x]\n- !!map {y: z}\n",
    "",
    "just text",
    # keys of different types or spellings are different keys, as in PyYAML
    '"1": a\n1: b\n',
    "1: a\n0x1: b\n",
    "a: 1\n'b': 2\n? c\n: 3\n",
]


@pytest.mark.parametrize("text", SAME_AS_PYYAML, ids=range(len(SAME_AS_PYYAML)))
def test_data_equals_pyyaml_safe_load(text: str) -> None:
    assert load_yaml(text, "s.yaml").data == yaml.load(text, Loader=yaml.SafeLoader)


_SCALARS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["010", "0x1F", "1.10", "1e3", "yes", "No", "~", "null", "2024-01-01", ""]),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
)
_KEYS = st.one_of(st.text(max_size=6), st.integers(-3, 3), st.booleans())
_TREES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(value=_TREES)
def test_generated_documents_equal_pyyaml_in_every_style(value: Any) -> None:
    """The direct builder (text scalars taken inline, text keys compared by lookup)
    gives PyYAML's data for documents written in block, flow and JSON style."""
    texts = [yaml.safe_dump(value), yaml.safe_dump(value, default_flow_style=True, width=10**9)]
    texts.append(json.dumps(value))
    for text in texts:
        try:  # the same parser, PyYAML's own constructor
            expected = yaml.load(text, Loader=_yaml._BaseLoader)
        except yaml.YAMLError:  # e.g. a JSON surrogate-pair escape, which libyaml refuses
            with pytest.raises(ConfigError):
                load_yaml(text, "g.yaml")
            continue
        assert load_yaml(text, "g.yaml").data == expected


@pytest.mark.parametrize(
    ("text", "line", "first"),
    [
        ('a: 1\n"a": 2\n', 2, 1),
        ("x: 0\n1: a\nb: 1\n1: c\n", 4, 2),
        ("- {k: 1, j: 2, 'k': 3}\n", 1, 1),
        ("m:\n  a: 1\n  b: 2\n  b: 3\n  a: 4\n", 4, 3),
    ],
)
def test_duplicate_key_names_its_line_and_the_first(text: str, line: int, first: int) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(text, "dup.yaml")
    (issue,) = info.value.issues
    assert issue.line == line
    assert f"(first defined at line {first})" in issue.message


def test_anchored_values_are_one_object() -> None:
    data = load_yaml("a: &x [1, {k: v}]\nb: *x\nc: [*x, *x]\n", "a.yaml").data
    assert data["a"] is data["b"] is data["c"][0] is data["c"][1]


@pytest.mark.parametrize(
    "text",
    ["a: 1\na: 2\n", '{"a": 1, "a": 2}', "- {x: 1, y: 2, x: 3}\n", "1: a\n1: b\n"],
)
def test_duplicate_keys_in_any_style_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="duplicate key"):
        load_yaml(text, "dup.yaml")


@pytest.mark.parametrize("text", ["? [a, b]\n: 1\n", "{[a]: 1}", "!!python/name:os.system x"])
def test_unconstructable_documents_are_one_issue(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(text, "bad.yaml")
    assert len(info.value.issues) == 1


def test_stack_check_leaves_the_thread_stack_size_alone() -> None:
    import threading

    from releasegate._yaml_limits import stack_is_roomy

    old = threading.stack_size(512 * 1024)
    try:
        stack_is_roomy()
        stack_is_roomy()
    finally:
        assert threading.stack_size(old) == 512 * 1024
