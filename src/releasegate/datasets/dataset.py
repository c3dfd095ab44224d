"""Golden datasets from YAML, JSONL and CSV files.

Every case is validated by the :class:`~releasegate.datasets.case.Case` model and carries
the file and line it came from. All problems in a file are collected and raised together
as one :class:`~releasegate.errors.DatasetError`, each naming the file, line, case id and
field. The file formats and the defaults merge rule are documented in ``docs/datasets.md``.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from releasegate._yaml import (
    YamlDocument,
    did_you_mean,
    display_path,
    load_yaml,
    read_user_bytes,
    validation_issues,
)
from releasegate.datasets._csv import CSV_TAG_SEPARATOR, csv_records
from releasegate.datasets._records import Collector, Record, id_problem, json_id_text, kind
from releasegate.datasets.case import Case, expand_turns
from releasegate.errors import DatasetError, Issue

__all__ = [
    "CSV_TAG_SEPARATOR",
    "SUPPORTED_SUFFIXES",
    "Dataset",
    "check_asserts",
    "load_dataset",
    "scan_dataset",
]

SUPPORTED_SUFFIXES = (".yaml", ".yml", ".jsonl", ".csv")

# Keys a case may use, as written in files (``assert`` is the alias of ``asserts``).
_CASE_KEYS = frozenset(
    (f.alias or n)
    for n, f in Case.model_fields.items()
    if n not in ("source", "line", "default_asserts")
)
_RESERVED = ("source", "line", "default_asserts")  # set by the loader, never by the file
_TOP_KEYS = ("cases", "defaults", "description")


@dataclass(frozen=True)
class Dataset:
    """The validated cases of one dataset file.

    Attributes:
        path: the file as shown in messages.
        cases: the cases in file order; ids are unique.
        content_hash: sha256 hex of the file's bytes (identifies the data in reports).
    """

    path: str
    cases: list[Case]
    content_hash: str

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)


def load_dataset(path: str | Path) -> Dataset:
    """Load and validate a dataset file; the format follows the suffix.

    Args:
        path: a ``.yaml``/``.yml``, ``.jsonl`` or ``.csv`` file.

    Raises:
        DatasetError: with every problem found (unreadable file, syntax, invalid case,
            duplicate id, empty dataset).
    """
    dataset, issues = scan_dataset(path)
    if issues or dataset is None:
        raise DatasetError(issues)
    return dataset


def scan_dataset(path: str | Path) -> tuple[Dataset | None, list[Issue]]:
    """Like :func:`load_dataset`, but return the valid cases together with the issues.

    Returns:
        ``(dataset, issues)``: the dataset holds the cases that validated (``None`` when
        the file cannot be read or parsed at all); the issues are sorted by line.
    """
    with _gc_paused():
        return _scan(Path(path))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Automatic cyclic GC off while a file is parsed and validated.

    Loading allocates a few hundred thousand short-lived containers (YAML nodes, dicts,
    models) and leaves almost no reference cycles; the automatic collector would walk
    the whole live heap over and over while they pile up: about half of the CPU time of
    loading a 2,000-case YAML file (``benchmarks/eval_throughput``). Reference
    counting still frees everything at once; the collector comes back afterwards, and
    is left alone when someone else had turned it off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _scan(p: Path) -> tuple[Dataset | None, list[Issue]]:
    shown = display_path(p)
    try:
        raw, text = read_user_bytes(p, DatasetError)
        suffix = p.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            raise DatasetError(
                Issue(
                    file=shown,
                    message=f"unsupported dataset format {suffix or '(no suffix)'!r}; "
                    f"use one of {', '.join(SUPPORTED_SUFFIXES)}",
                )
            )
        out = Collector(shown)
        doc: YamlDocument | None = None
        if suffix == ".jsonl":
            records = _jsonl_records(text, out)
        elif suffix == ".csv":
            records = csv_records(text, out)
        else:
            doc = load_yaml(text, shown, DatasetError)
            records = _yaml_records(doc, out)
    except DatasetError as exc:
        return None, list(exc.issues)
    cases = _validate(records, doc, out)
    if not cases and not out.issues:
        out.add("dataset has no cases")
    dataset = Dataset(path=shown, cases=cases, content_hash=hashlib.sha256(raw).hexdigest())
    return dataset, sorted(out.issues, key=lambda i: i.line or 0)


def _case_id(data: Any) -> str | None:
    if isinstance(data, dict):
        value = data.get("id")
        if isinstance(value, str):
            return value
    return None


def _validate(records: list[Record], doc: YamlDocument | None, out: Collector) -> list[Case]:
    cases: list[Case] = []
    first_line: dict[str, int | None] = {}
    for rec in records:
        case_id = _case_id(rec.data)
        if not isinstance(rec.data, dict):
            out.add(f"a case must be a mapping, got {kind(rec.data)}", rec.line)
            continue
        reserved = [k for k in _RESERVED if k in rec.data]
        if reserved:
            for key in reserved:
                line = doc.line_at((*rec.base, key)) if doc is not None else rec.line
                out.add(f"{key}: reserved (set by the loader)", line, case_id)
            continue
        problem = id_problem(rec.data)
        if problem is not None:
            line = doc.line_at((*rec.base, "id")) if doc is not None else rec.line
            out.add(problem, line, case_id)
            continue
        # Check ids before validating, so a duplicate of an invalid case is still found.
        if case_id is not None and case_id in first_line:
            where = first_line[case_id]
            out.add(
                f"duplicate id {case_id!r} (first used at line {where})"
                if where is not None
                else f"duplicate id {case_id!r}",
                rec.line,
                case_id,
            )
            continue
        if case_id is not None:
            first_line[case_id] = rec.line
        try:
            case = Case.model_validate(
                {
                    **rec.data,
                    "source": out.file,
                    "line": rec.line,
                    "default_asserts": rec.default_asserts,
                }
            )
        except ValidationError as exc:
            out.issues.extend(
                validation_issues(
                    exc,
                    file=out.file,
                    data=rec.data,
                    doc=doc,
                    base=rec.base,
                    line=rec.line,
                    case_id=case_id,
                    model=Case,
                    loc_to_path=rec.loc_to_path,
                )
            )
            continue
        cases.append(case)
    return cases


# --- YAML ----------------------------------------------------------------------------


def _yaml_records(doc: YamlDocument, out: Collector) -> list[Record]:
    data = doc.data
    if data is None:
        return []
    if isinstance(data, list):
        return [
            Record(
                _id_as_written(doc, item, (i,)) if isinstance(item, dict) else item,
                doc.line_at((i,)),
                (i,),
            )
            for i, item in enumerate(data)
        ]
    if not isinstance(data, dict):
        out.add(
            f"a dataset must be a list of cases or a mapping with 'cases', got {kind(data)}",
            doc.line_at(()),
        )
        return []
    for key in data:
        if key not in _TOP_KEYS:
            out.add(
                f"{key}: unknown top-level key{did_you_mean(str(key), _TOP_KEYS)}",
                doc.line_at((key,)),
            )
    cases = data.get("cases")
    if "cases" not in data:
        out.add("missing 'cases': the list of cases", doc.line_at(()))
        return []
    if not isinstance(cases, list):
        out.add(f"cases: must be a list of cases, got {kind(cases)}", doc.line_at(("cases",)))
        return []
    defaults = data.get("defaults") or {}
    if not _check_defaults(defaults, doc, out):
        return []
    records: list[Record] = []
    for i, item in enumerate(cases):
        base = ("cases", i)
        line = doc.line_at(base)
        if isinstance(item, dict):
            item = _id_as_written(doc, item, base)
        if defaults and isinstance(item, dict):
            merged, to_path = _merge_defaults(defaults, item, base)
            from_defaults = defaults.get("assert")
            n = len(from_defaults) if isinstance(from_defaults, list) else 0
            records.append(Record(merged, line, base, to_path, default_asserts=n))
        else:
            records.append(Record(item, line, base))
    return records


def _id_as_written(
    doc: YamlDocument, case: dict[str, Any], base: tuple[Any, ...]
) -> dict[str, Any]:
    """``case`` with its id as the text the user wrote: YAML would read ``010`` as 8,
    ``0x1F`` as 31, ``1.10`` as 1.1 and ``yes`` as True, renaming the case."""
    if "id" not in case or isinstance(case["id"], str):
        return case
    text = doc.source_text((*base, "id"))
    return case if text is None else {**case, "id": text}


def _check_defaults(defaults: Any, doc: YamlDocument, out: Collector) -> bool:
    """Validate ``defaults`` on its own, so that a mistake there is reported once rather
    than once per case."""
    if not isinstance(defaults, dict):
        out.add(f"defaults: must be a mapping, got {kind(defaults)}", doc.line_at(("defaults",)))
        return False
    ok = True
    for key in defaults:
        if key == "id" or key in _RESERVED or key not in _CASE_KEYS:
            allowed = sorted(_CASE_KEYS - {"id"})
            why = (
                "cannot have a default (ids are unique)"
                if key == "id"
                else f"unknown field{did_you_mean(str(key), allowed)}"
            )
            out.add(
                f"defaults.{key}: {why}",
                doc.line_at(("defaults", key)),
            )
            ok = False
    if not ok:
        return False
    probe = {"id": "defaults", "input": "", **defaults}
    try:
        Case.model_validate(probe)
    except ValidationError as exc:
        out.issues.extend(
            validation_issues(
                exc, file=out.file, data=probe, doc=doc, base=("defaults",), model=Case
            )
        )
        return False
    return True


def _merge_defaults(
    defaults: dict[str, Any], case: dict[str, Any], base: tuple[Any, ...]
) -> tuple[dict[str, Any], Callable[[tuple[Any, ...]], Sequence[Any]]]:
    """Merge ``defaults`` into one case (rule documented in docs/datasets.md):
    ``assert`` lists are concatenated (defaults first), ``tags`` are united (defaults
    first, no repeats), ``metadata``, ``vars`` and ``tool_results`` are merged key by
    key with the case winning, and any other field takes the case's value when the case
    sets it."""
    merged = dict(defaults)
    shift: dict[str, int] = {}
    for key, value in case.items():
        default = defaults.get(key)
        if key == "assert" and isinstance(default, list) and isinstance(value, list):
            merged[key] = [*default, *value]
            shift[key] = len(default)
        elif key == "tags" and isinstance(default, list) and isinstance(value, list):
            extra = [t for t in value if t not in default]
            merged[key] = [*default, *extra]
        elif (
            key in ("metadata", "vars", "tool_results")
            and isinstance(default, dict)
            and isinstance(value, dict)
        ):
            merged[key] = {**default, **value}
        else:
            merged[key] = value

    def to_path(loc: tuple[Any, ...]) -> tuple[Any, ...]:
        if not loc:
            return base
        head = loc[0]
        if head in shift and len(loc) > 1 and isinstance(loc[1], int):
            n = shift[head]
            if loc[1] < n:
                return ("defaults", head, *loc[1:])
            return (*base, head, loc[1] - n, *loc[2:])
        if head not in case and head in defaults:
            return ("defaults", *loc)
        return (*base, *loc)

    return merged, to_path


# --- JSONL ---------------------------------------------------------------------------


def _jsonl_records(text: str, out: Collector) -> list[Record]:
    records: list[Record] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            out.add(f"invalid JSON at column {exc.colno}: {exc.msg}", number)
            continue
        except (ValueError, RecursionError) as exc:  # e.g. nesting or huge integers
            out.add(f"invalid JSON: {exc or type(exc).__name__}", number)
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), int | float):
            data["id"] = json_id_text(line, data["id"])
        records.append(Record(data, number))
    return records


# --- checks --------------------------------------------------------------------------


def check_asserts(dataset: Dataset) -> list[Issue]:
    """Try to build the scorer of every check in ``dataset``.

    Returns:
        One issue per check that names an unknown type or has bad arguments, with the
        case's file, line and id. Identical specs are built once. (The engine does the
        same before a run, with the suite's judge and embedder.)
    """
    from releasegate.scorers.prepare import CheckBuilder

    return CheckBuilder().prepare(expand_turns(dataset.cases), file=dataset.path)
