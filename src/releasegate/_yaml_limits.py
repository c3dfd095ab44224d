"""Limits that keep hostile YAML from crashing or stalling the loader.

Two kinds of document are refused:

* **Deep nesting**: lists and mappings nested more than :data:`MAX_DEPTH` levels inside
  each other. PyYAML's composers recurse once per level (libyaml's in C, where running
  out of stack kills the interpreter), and so does much of what later walks the data.
* **Alias bombs**: a few lines whose aliases expand to more than
  :data:`MAX_EXPANDED_NODES` values ("billion laughs"), and aliases that contain
  themselves.

Depth is measured exactly, never estimated from the text: on the composed node graph when
the composer is safe on any input (libyaml 0.2.6 and later stop at 1,000 levels with a
scanner error before their recursion can exhaust the stack), else on the parser's event
stream before composing (the parsers are state machines, safe at any depth). Either way
ordinary documents of any style (block, flow, JSON) are composed by libyaml.
"""

from __future__ import annotations

import platform
import threading
from typing import Any

import yaml

__all__ = [
    "LIBYAML_DEPTH_MESSAGE",
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "TooDeep",
    "check_alias_graph",
    "check_event_depth",
    "check_tree_depth",
    "composer_bounds_nesting",
    "stack_is_roomy",
]

MAX_DEPTH = 100
"""Most lists/mappings a document may nest inside each other (the top level counts 1)."""

MAX_EXPANDED_NODES = 1_000_000
"""Most values a document may expand to through aliases."""

# libyaml's own limit (0.2.6+): its scanner refuses the 1,001st nested level with this text.
LIBYAML_DEPTH_MESSAGE = "exceeded maximum nesting depth"


class TooDeep(ValueError):
    """A document nests deeper than :data:`MAX_DEPTH`.

    Attributes:
        line: 1-based line of the first value beyond the limit (``None`` if unknown).
    """

    def __init__(self, line: int | None) -> None:
        super().__init__(
            f"lists and mappings are nested more than {MAX_DEPTH} levels deep; "
            "refusing to load the document"
        )
        self.line = line


def composer_bounds_nesting(loader_cls: type[Any]) -> bool:
    """Whether ``loader_cls`` composes any input without exhausting the C stack.

    True for libyaml 0.2.6 and later, whose scanner stops at 1,000 nested levels; False
    for older libyaml (which recurses without bound) and for the pure-Python loader
    (whose recursion ends in a :class:`RecursionError` at a depth that depends on the
    caller's stack).
    """
    try:
        from yaml import _yaml
    except ImportError:  # pragma: no cover - PyYAML without libyaml
        return False
    if not issubclass(loader_cls, _yaml.CParser):
        return False
    version: tuple[int, int, int] = _yaml.get_version()
    return version >= (0, 2, 6)


# libyaml's composer took well under 1 MiB of C stack for its 1,000 levels (it crashed
# with a 256 KiB thread stack); ask for 4 MiB before trusting it without a depth check.
_ROOMY_STACK = 4 * 1024 * 1024
_GLIBC = platform.libc_ver()[0] == "glibc"


def stack_is_roomy() -> bool:
    """Whether the calling thread's C stack holds libyaml's deepest composition.

    The main thread's stack is the process's stack limit; another thread's is the size
    set with :func:`threading.stack_size`, else the C library's default (the stack
    limit with glibc; as little as 128 KiB elsewhere). Unknown means no.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return False
    configured = threading.stack_size()  # reading it resets it to 0: put it back
    threading.stack_size(configured)
    if threading.current_thread() is not threading.main_thread():
        if configured:
            return configured >= _ROOMY_STACK
        if not _GLIBC:
            return False
    soft, _ = resource.getrlimit(resource.RLIMIT_STACK)
    return soft == resource.RLIM_INFINITY or soft >= _ROOMY_STACK


_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)


def check_event_depth(loader: Any) -> None:
    """Parse (without composing) and raise :class:`TooDeep` past :data:`MAX_DEPTH`.

    ``loader`` is a fresh loader over the text; it is consumed. Syntax errors surface as
    the parser's own :class:`yaml.YAMLError`.
    """
    depth = 0
    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise TooDeep(mark.line + 1 if mark is not None else None)
        elif isinstance(event, _CLOSE):
            depth -= 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_tree_depth(root: yaml.Node) -> None:
    """Raise :class:`TooDeep` if a tree (a graph without aliases) nests past the limit.

    Iterative, and visits collections only.
    """
    if isinstance(root, yaml.ScalarNode):
        return
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    scalar = yaml.ScalarNode
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TooDeep(node.start_mark.line + 1)
        below = depth + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if type(key) is not scalar:
                    stack.append((key, below))
                if type(value) is not scalar:
                    stack.append((value, below))
        else:
            stack.extend((n, below) for n in node.value if type(n) is not scalar)


def check_alias_graph(root: yaml.Node) -> None:
    """Expanded size and height of a graph with aliases, each node sized once.

    Post-order and iterative, so time is linear in distinct nodes whatever the aliases
    expand to. Raises :class:`ValueError` for a bomb or a self-containing alias and
    :class:`TooDeep` when aliases stack values deeper than the limit.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id -> (expanded values, nested levels)
    path: set[int] = set()  # nodes whose subtree is being sized: the current ancestors
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            path.discard(key)
            children = [sizes[id(c)] for c in _children(node)]
            size = 1 + sum(s for s, _ in children)
            height = (
                0
                if isinstance(node, yaml.ScalarNode)
                else 1 + max((h for _, h in children), default=0)
            )
            if size > MAX_EXPANDED_NODES:
                raise ValueError(
                    f"document expands to more than {MAX_EXPANDED_NODES:,} values "
                    "through aliases; refusing to load it"
                )
            if height > MAX_DEPTH:
                raise TooDeep(node.start_mark.line + 1)
            sizes[key] = (size, height)
            continue
        if key in sizes:
            continue
        if key in path:
            raise ValueError(
                f"line {node.start_mark.line + 1}: recursive alias "
                "(a value that contains itself) is not supported"
            )
        path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node))
