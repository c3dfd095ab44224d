"""Reading user files: safe YAML that remembers where every value came from.

PyYAML's ``safe_load`` returns plain data and forgets positions, and it silently keeps
the last of two duplicate keys. Users need errors that point at a line, so this module
composes the node graph itself, records the line of every mapping key and sequence item
under its *path* (``("suites", "pr", "gate", "min_score")`` or ``("cases", 7)``), refuses
duplicate keys, and converts pydantic validation errors into :class:`Issue` objects that
carry that line and a dotted field path.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from releasegate._yaml_limits import (
    LIBYAML_DEPTH_MESSAGE,
    MAX_DEPTH,
    TooDeep,
    check_alias_graph,
    check_event_depth,
    check_tree_depth,
    composer_bounds_nesting,
    stack_is_roomy,
)
from releasegate.errors import ConfigError, Issue

__all__ = [
    "PathPart",
    "YamlDocument",
    "did_you_mean",
    "display_path",
    "format_loc",
    "load_yaml",
    "load_yaml_file",
    "read_user_bytes",
    "read_user_file",
    "validation_issues",
]

PathPart = str | int

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALAR = yaml.ScalarNode

# Whether an alias (``*name``) may occur: a ``*`` where a node can start. Over-matching
# only costs the slower alias-aware graph check; every real alias is matched.
_MAY_ALIAS = re.compile(r"(?:^|[\s\[{,:])\*")


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first_line: int) -> None:
        super().__init__(key)
        self.key = key
        self.line = line
        self.first_line = first_line


def _checked_mapping(
    loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    # Compare scalar keys by resolved tag and source text: exact for the string keys that
    # matter (field names, ids) and much cheaper than constructing every key twice.
    seen: dict[tuple[str, str], int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *base` merges; an explicit key may override a merged one
        key = (key_node.tag, key_node.value)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise _DuplicateKey(key_node.value, line, seen[key])
        seen[key] = line
    return dict(loader.construct_mapping(node, deep=deep))


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """libyaml's safe loader (PyYAML's pure-Python one when libyaml is missing)."""


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _checked_mapping)
# Composing is recursive; when the composer does not stop deep input by itself, the
# (iterative) parser measures the depth first.
_PARSE_DEPTH_FIRST = not composer_bounds_nesting(_Loader)

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"


class _Unusual(Exception):
    """A node the direct builder leaves to PyYAML's constructor (merge keys, sets, ...)."""


def _build(loader: yaml.SafeLoader, node: yaml.Node, shared: dict[int, Any], depth: int = 1) -> Any:
    """Construct plain lists, dicts and scalars straight from the node graph.

    The result equals PyYAML's safe constructor's (same scalar constructors, same
    duplicate-key rule as :func:`_checked_mapping`, one object per anchored node) at a
    fraction of its bookkeeping. ``depth`` is the nesting level of ``node`` (the root
    collection is 1); past :data:`MAX_DEPTH` the recursion stops with :class:`TooDeep`.
    Aliases must have been checked first (no cycles, no bombs).

    Raises:
        TooDeep: a collection nested deeper than :data:`MAX_DEPTH`.
        _Unusual: for merge keys, collection keys and non-default collection tags.
        _DuplicateKey: a mapping repeats a key.
    """
    kind = node.__class__
    if kind is yaml.ScalarNode:
        return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    done = shared.get(id(node))
    if done is not None:
        return done
    if depth > MAX_DEPTH:
        raise TooDeep(node.start_mark.line + 1)
    below = depth + 1
    # Plain text scalars (most keys and values) are taken inline, without a call.
    if kind is yaml.SequenceNode and node.tag == _SEQ:
        out: Any = [
            item.value
            if item.__class__ is _SCALAR and item.tag == _STR
            else _build(loader, item, shared, below)
            for item in node.value
        ]
    elif kind is yaml.MappingNode and node.tag == _MAP:
        out = {}
        other_keys: set[tuple[str, str]] = set()
        for key_node, value_node in node.value:
            if key_node.__class__ is not _SCALAR or key_node.tag == _MERGE:
                raise _Unusual
            if key_node.tag == _STR:
                # A text key equals only a text key with the same source text: the
                # same rule as comparing (tag, text), at the cost of one lookup.
                key = key_node.value
                if key in out:
                    raise _duplicate(node, key_node)
            else:
                seen = (key_node.tag, key_node.value)
                if seen in other_keys:
                    raise _duplicate(node, key_node)
                other_keys.add(seen)
                key = loader.construct_object(key_node, deep=True)
            if value_node.__class__ is _SCALAR and value_node.tag == _STR:
                out[key] = value_node.value
            else:
                out[key] = _build(loader, value_node, shared, below)
    else:
        raise _Unusual
    shared[id(node)] = out
    return out


def _duplicate(mapping: yaml.Node, key_node: yaml.Node) -> _DuplicateKey:
    """The error for ``key_node``, which repeats an earlier key of ``mapping``."""
    first = next(
        k
        for k, _ in mapping.value
        if k.__class__ is _SCALAR and (k.tag, k.value) == (key_node.tag, key_node.value)
    )
    return _DuplicateKey(key_node.value, key_node.start_mark.line + 1, first.start_mark.line + 1)


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as users should see it in messages: relative to the working directory
    when it lies below it, else as given."""
    p = Path(path)
    if p.is_absolute():
        try:
            return str(p.relative_to(Path.cwd()))
        except ValueError:
            return str(p)
    return str(p)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` when a close match exists, else ``" (known: a, b)"``."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (known: {', '.join(names) or 'none'})"


def read_user_bytes(
    path: str | os.PathLike[str], error: type[ConfigError] = ConfigError
) -> tuple[bytes, str]:
    """Read a UTF-8 text file written by a user: its raw bytes and its decoded text.

    Missing files, directories, unreadable files, binary files (NUL bytes) and bytes that
    are not UTF-8 all raise ``error`` with one clear issue instead of a traceback. A UTF-8
    byte-order mark is accepted and dropped from the text.
    """
    p = Path(path)
    shown = display_path(p)
    try:
        if p.is_dir():
            raise error(Issue(file=shown, message="is a directory, expected a file"))
        data = p.read_bytes()
    except FileNotFoundError:
        raise error(Issue(file=shown, message="file not found")) from None
    except OSError as exc:
        raise error(Issue(file=shown, message=f"cannot read file: {exc.strerror or exc}")) from None
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise error(
            Issue(file=shown, line=line, message="binary file (contains NUL bytes), expected text")
        )
    try:
        return data, data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            Issue(
                file=shown,
                line=line,
                message=f"not valid UTF-8 text (bad byte 0x{data[exc.start]:02x} "
                f"at offset {exc.start}); save the file as UTF-8",
            )
        ) from None


def read_user_file(path: str | os.PathLike[str], error: type[ConfigError] = ConfigError) -> str:
    """The decoded text of a user's file (see :func:`read_user_bytes`)."""
    return read_user_bytes(path, error)[1]


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML document that can say on which line any value was written.

    Lines are looked up on demand by walking the composed node graph along a path, so
    loading pays nothing for them.

    Attributes:
        data: the constructed Python data (dicts, lists, scalars).
        file: the file name used in messages.
        root: the root node of the composed document (``None`` when empty).
    """

    data: Any
    file: str
    root: yaml.Node | None = field(default=None, repr=False)

    def _walk(self, path: Iterable[Any]) -> tuple[yaml.Node | None, int | None, bool]:
        """Follow ``path``: the last node reached, its line, and whether all of it matched."""
        node = self.root
        if node is None:
            return None, None, False
        line = node.start_mark.line + 1
        for part in path:
            if isinstance(node, yaml.MappingNode):
                text = str(part) if not isinstance(part, bool) else str(part).lower()
                # Last match: after a ``<<`` merge the mapping lists the merged keys
                # first and the keys that override them after (the data takes the last).
                for key_node, value_node in reversed(node.value):
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == text:
                        node, line = value_node, key_node.start_mark.line + 1
                        break
                else:
                    return node, line, False
            elif (
                isinstance(node, yaml.SequenceNode)
                and isinstance(part, int)
                and 0 <= part < len(node.value)
            ):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return node, line, False
        return node, line, True

    def line_at(self, path: Iterable[Any]) -> int | None:
        """Line (1-based) of the deepest prefix of ``path`` present in the document.

        A path into a mapping points at the key's line; into a sequence, at the item.
        Parts that are not in the document (a pydantic union tag, a missing key) are
        skipped over by taking the longest known prefix.
        """
        return self._walk(path)[1]

    def node_at(self, path: Iterable[Any]) -> yaml.Node | None:
        """The YAML node holding the value at exactly ``path``, if there is one."""
        node, _, complete = self._walk(path)
        return node if complete else None

    def source_text(self, path: Iterable[Any]) -> str | None:
        """The text the user wrote for the scalar at exactly ``path``, before YAML typed it.

        ``010``, ``0x1F``, ``1.10``, ``1e3``, ``yes``, ``~`` and ``2024-01-01`` come back
        as written (YAML would have made them 8, 31, 1.1, 1000.0, True, None and a date);
        a quoted scalar comes back as its string value. Values that must stay text, such
        as case ids, are read with this.

        Returns:
            The scalar's text, or ``None`` when ``path`` is absent or does not hold a
            scalar (a list, a mapping, or a key brought in by a ``<<`` merge).
        """
        node = self.node_at(path)
        return node.value if isinstance(node, yaml.ScalarNode) else None


def load_yaml(text: str, file: str, error: type[ConfigError] = ConfigError) -> YamlDocument:
    """Parse one YAML document from ``text``; raise ``error`` with file:line:column.

    Args:
        text: the document.
        file: the name shown in messages.
        error: the :class:`ConfigError` subclass to raise (dataset, prompt or config).
    """
    loader = _Loader(text)
    try:
        if _PARSE_DEPTH_FIRST or not stack_is_roomy():
            check_event_depth(_Loader(text))
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(data=None, file=file)
        if "*" in text and _MAY_ALIAS.search(text) is not None:
            check_alias_graph(node)  # cycles, bombs, depth through aliases
        try:
            data = _build(loader, node, {})  # measures depth on the way
        except _Unusual:
            check_tree_depth(node)
            data = loader.construct_document(node)
    except _DuplicateKey as exc:
        raise error(
            Issue(
                file=file,
                line=exc.line,
                message=f"duplicate key {exc.key!r} (first defined at line {exc.first_line})",
            )
        ) from None
    except TooDeep as exc:
        raise error(Issue(file=file, line=exc.line, message=f"invalid YAML: {exc}")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.problem == LIBYAML_DEPTH_MESSAGE:  # libyaml's own limit, above ours
            at = mark.line + 1 if mark is not None else None
            raise error(Issue(file=file, line=at, message=f"invalid YAML: {TooDeep(at)}")) from None
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem and exc.context not in problem:
            problem = f"{exc.context}: {problem}"
        if mark is not None:
            message = f"invalid YAML at column {mark.column + 1}: {problem}"
            line: int | None = mark.line + 1
        else:
            message, line = f"invalid YAML: {problem}", None
        raise error(Issue(file=file, line=line, message=message)) from None
    except yaml.reader.ReaderError as exc:  # a forbidden character; carries no mark
        bad_line = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "?")
        raise error(
            Issue(
                file=file,
                line=bad_line,
                message=f"invalid YAML: character U+{code:04X} is not allowed ({exc.reason})",
            )
        ) from None
    except yaml.YAMLError as exc:
        raise error(Issue(file=file, message=f"invalid YAML: {exc}")) from None
    except RecursionError:  # a caller already deep in its own stack
        raise error(Issue(file=file, message=f"invalid YAML: {TooDeep(None)}")) from None
    except ValueError as exc:
        raise error(Issue(file=file, message=f"invalid YAML: {exc}")) from None
    finally:
        loader.dispose()
    return YamlDocument(data=data, file=file, root=node)


def load_yaml_file(
    path: str | os.PathLike[str], error: type[ConfigError] = ConfigError
) -> YamlDocument:
    """Read and parse a YAML file (see :func:`read_user_file` and :func:`load_yaml`)."""
    text = read_user_file(path, error)
    return load_yaml(text, display_path(path), error)


# --- pydantic errors -> issues -------------------------------------------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_loc(loc: Sequence[Any]) -> str:
    """``("suites", "pr", "gate", 0)`` -> ``suites.pr.gate[0]`` (odd keys are quoted)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and _IDENT.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def _clean_loc(loc: Sequence[Any], data: Any, error_type: str) -> tuple[Any, ...]:
    """Drop pydantic's union-member tags (``'str'``, ``'list[str]'``) from a location.

    A part that is not present in the data is such a tag, except the last part of a
    ``missing`` error, which names the absent key.
    """
    kept: list[Any] = []
    current = data
    for i, part in enumerate(loc):
        if (isinstance(current, Mapping) and part in current) or (
            isinstance(current, list | tuple)
            and isinstance(part, int)
            and -len(current) <= part < len(current)
        ):
            kept.append(part)
            current = current[part]
        elif i == len(loc) - 1 and error_type in ("missing", "extra_forbidden"):
            kept.append(part)
        elif isinstance(part, int) or not isinstance(current, Mapping):
            continue  # a union tag on a scalar/list, or an index we cannot follow
        elif isinstance(part, str) and ("[" in part or part in _TYPE_TAGS):
            continue
        else:
            kept.append(part)
            current = None
    return tuple(kept)


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "tuple", "none"})

_COMPARE = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("<=", "le"),
    "less_than": ("<", "lt"),
}


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _model_at(model: type[BaseModel] | None, loc: Sequence[Any]) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at ``loc``, if we can tell."""
    import typing

    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = current.model_fields
            by_alias = {(f.alias or n): f for n, f in fields.items()}
            info = by_alias.get(part) if isinstance(part, str) else None
            if info is None:
                return None
            current = info.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin in (dict, Mapping) and len(args) == 2:
            current = args[1]
        elif origin in (list, tuple, Sequence) and args:
            current = args[0]
        else:
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            if len(models) != 1:
                return None
            current = models[0]
            if isinstance(part, str) and part in current.model_fields:
                current = current.model_fields[part].annotation
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _known_keys(model: type[BaseModel]) -> list[str]:
    return sorted((f.alias or n) for n, f in model.model_fields.items() if not f.exclude)


def _message(
    err: ErrorDetails, model: type[BaseModel] | None, loc: tuple[Any, ...]
) -> tuple[str, str]:
    """What is wrong, and a ``", got X"`` suffix (empty when the value is not shown)."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required field is missing", ""
    if kind == "extra_forbidden":
        msg = "unknown field"
        parent = _model_at(model, loc[:-1]) if model is not None else None
        if parent is not None and loc:
            known = _known_keys(parent)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1)
            if close:
                msg += f"; did you mean {close[0]!r}?"
            else:
                msg += f" (allowed: {', '.join(known)})"
        return msg, ""
    got = f", got {_short(err.get('input'))}"
    if kind in _COMPARE:
        symbol, key = _COMPARE[kind]
        bound = ctx.get(key)
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)  # "must be >= 0", not ">= 0.0"
        return f"must be {symbol} {bound}", got
    if kind == "value_error":
        text = str(ctx.get("error", err["msg"]))
        # Our validators put the offending value in their own message when it helps.
        return text.removeprefix("Value error, "), ""
    msg = err["msg"]
    if msg.startswith("Input should be "):
        msg = "must be " + msg.removeprefix("Input should be ")
    return msg, got


def validation_issues(
    exc: ValidationError,
    *,
    file: str,
    data: Any,
    doc: YamlDocument | None = None,
    base: Sequence[Any] = (),
    line: int | None = None,
    case_id: str | None = None,
    model: type[BaseModel] | None = None,
    loc_to_path: Callable[[tuple[Any, ...]], Sequence[Any]] | None = None,
) -> list[Issue]:
    """Turn a pydantic :class:`ValidationError` into issues with lines and field paths.

    Args:
        exc: the validation error.
        file: the file name for the issues.
        data: the data that was validated (used to drop pydantic's union tags).
        doc: the YAML document the data came from, to look up lines.
        base: the path of ``data`` inside ``doc``.
        line: fallback line when ``doc`` cannot place the error.
        case_id: the case the data belongs to, if any.
        model: the model that was validated, to suggest known keys for unknown ones.
        loc_to_path: optional ``callable(loc) -> path`` overriding ``base + loc``, for
            data that was assembled from several places (dataset defaults).
    """
    merged: dict[tuple[Any, ...], tuple[list[str], list[str]]] = {}
    for err in exc.errors(include_url=False):
        loc = _clean_loc(err["loc"], data, err["type"])
        text, got = _message(err, model, loc)
        texts, gots = merged.setdefault(loc, ([], []))
        if text not in texts:
            texts.append(text)
        if got and not gots:
            gots.append(got)
    issues: list[Issue] = []
    base = tuple(base)
    for loc, (texts, gots) in merged.items():
        path = tuple(loc_to_path(loc)) if loc_to_path is not None else (*base, *loc)
        found = doc.line_at(path) if doc is not None else None
        # Show the path as the user wrote it: relative to ``base`` when inside it (a
        # merged default shows as ``defaults.assert[0]``).
        dotted = format_loc(path[len(base) :] if path[: len(base)] == base else path)
        message = " or ".join(texts) + "".join(gots)
        issues.append(
            Issue(
                file=file,
                line=found if found is not None else line,
                case_id=case_id,
                message=f"{dotted}: {message}" if dotted else message,
            )
        )
    return issues
