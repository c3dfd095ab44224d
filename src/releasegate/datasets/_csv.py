"""Dataset cases from CSV: one row a case, checks as ``assert:TYPE`` columns or a JSON
``assert`` cell, template variables as ``vars.NAME`` columns (see ``docs/datasets.md``)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from releasegate._yaml import did_you_mean
from releasegate.datasets._records import Collector, Record, kind

__all__ = ["CSV_TAG_SEPARATOR", "csv_records"]

#: Tags in a CSV cell are separated by semicolons (a comma would need quoting in CSV).
CSV_TAG_SEPARATOR = ";"
_CSV_PLAIN = ("id", "input", "context", "reference", "expected_behavior")
_CSV_COLUMNS = (*_CSV_PLAIN, "tags", "weight", "metadata", "assert")


def _csv_cell_value(cell: str) -> Any:
    """A check's value from a CSV cell: JSON numbers, arrays and objects are decoded,
    anything else (including ``true``/``null``) stays text."""
    stripped = cell.strip()
    if stripped[:1] in "[{-0123456789" and stripped:
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError):
            return cell
        if isinstance(value, int | float | list | dict) and not isinstance(value, bool):
            return value
    return cell


def _is_prefixed_column(name: str) -> bool:
    for prefix in ("vars.", "assert:"):
        if name.startswith(prefix) and name[len(prefix) :].strip():
            return True
    return False


def _check_header(header: list[str], out: Collector) -> bool:
    ok = True
    seen: set[str] = set()
    allowed = [*_CSV_COLUMNS, "vars.NAME", "assert:TYPE"]
    for number, name in enumerate(header, start=1):
        if not name:
            out.add(f"column {number} has no name in the header row", 1)
            ok = False
        elif name in seen:
            out.add(f"column {name!r} appears twice in the header row", 1)
            ok = False
        elif name not in _CSV_COLUMNS and not _is_prefixed_column(name):
            out.add(f"unknown column {name!r}{did_you_mean(name, allowed)}", 1)
            ok = False
        seen.add(name)
    if "id" not in seen:
        out.add("missing required column 'id'", 1)
        ok = False
    if "input" not in seen and not any(h.startswith("vars.") for h in seen):
        out.add("needs an 'input' column or vars.NAME columns", 1)
        ok = False
    return ok


def _csv_row(header: list[str], row: list[str], line: int, out: Collector) -> Record | None:
    data: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    asserts: list[Any] = []
    case_id = row[header.index("id")].strip() if len(row) > header.index("id") else None
    ok = True
    for name, cell in zip(header, row, strict=False):
        if name.startswith("vars."):
            variables[name[len("vars.") :]] = cell  # an empty cell is the empty string
            continue
        if cell == "":
            continue  # other empty cells mean "not set"
        if name in _CSV_PLAIN:
            if name == "context" and cell.lstrip().startswith("["):
                try:
                    chunks = json.loads(cell)
                except (ValueError, RecursionError):
                    chunks = None
                data[name] = chunks if isinstance(chunks, list) else cell
            else:
                data[name] = cell
        elif name == "tags":
            data["tags"] = [t.strip() for t in cell.split(CSV_TAG_SEPARATOR) if t.strip()]
        elif name == "weight":
            data["weight"] = cell.strip()
        elif name in ("metadata", "assert"):
            try:
                decoded = json.loads(cell)
            except (ValueError, RecursionError) as exc:
                out.add(f"{name}: invalid JSON in cell: {exc}", line, case_id or None)
                ok = False
                continue
            if name == "assert":
                if not isinstance(decoded, list):
                    out.add(
                        f"assert: cell must be a JSON list of checks, got {kind(decoded)}",
                        line,
                        case_id or None,
                    )
                    ok = False
                    continue
                asserts[:0] = decoded
            else:
                data["metadata"] = decoded
        elif name.startswith("assert:"):
            asserts.append({"type": name[len("assert:") :].strip(), "value": _csv_cell_value(cell)})
    if asserts:
        data["assert"] = asserts
    if "input" in header:
        if variables:
            data["vars"] = variables
    else:
        data["input"] = variables
    return Record(data, line) if ok else None


def csv_records(text: str, out: Collector) -> list[Record]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[Record] = []
    header: list[str] | None = None
    previous_end = 0
    try:
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                if not _check_header(header, out):
                    return []
                continue
            if len(row) > len(header):
                out.add(f"row has {len(row)} cells but the header has {len(header)}", start)
                continue
            record = _csv_row(header, row, start, out)
            if record is not None:
                records.append(record)
    except csv.Error as exc:
        out.add(f"invalid CSV: {exc}", reader.line_num or None)
    return records
