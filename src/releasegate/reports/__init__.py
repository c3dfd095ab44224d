"""Report renderers: terminal (rich), JUnit XML, Markdown and standalone HTML.

The JSON report is the :class:`~releasegate.results.report.EvalReport` itself; every other
format is rendered from it, so a stored JSON report can be re-rendered later in any form.
See ``docs/reports.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from pydantic_core import PydanticSerializationError

from releasegate.errors import UsageError
from releasegate.reports.html import render_html
from releasegate.reports.junit import render_junit
from releasegate.reports.markdown import render_markdown
from releasegate.reports.terminal import render_terminal
from releasegate.results.report import EvalReport

__all__ = [
    "check_output_paths",
    "render_html",
    "render_junit",
    "render_markdown",
    "render_terminal",
    "write_outputs",
]


def _json_text(report: EvalReport) -> str:
    try:
        return report.to_json() + "\n"
    except PydanticSerializationError:
        # A lone surrogate in a model output (a JSON API may send "\ud800") cannot be
        # encoded as UTF-8. ASCII-escaped JSON can carry it, and reads back identically.
        return json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=True) + "\n"


def _blocking_file(folder: Path) -> Path | None:
    """The first part of ``folder`` that exists but is not a folder, if any."""
    for part in (*reversed(folder.parents), folder):
        if part.exists() and not part.is_dir():
            return part
    return None


def _check_one(option: str, text: str) -> Path:
    where = f"{option} {text}"
    if not text.strip():
        raise UsageError(f"{option}: the path is empty; give a file name")
    path = Path(text)
    if text.endswith(("/", "\\")) or path.is_dir():
        raise UsageError(f"{where}: is a folder; give a file name inside it")
    blocker = _blocking_file(path.parent)
    if blocker is not None:
        raise UsageError(f"{where}: {blocker} is a file, not a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{where}: cannot create the folder {path.parent} ({exc.strerror})"
        ) from None
    existed = path.exists()
    try:  # the only reliable test of "can this process write here" (root ignores modes)
        with path.open("ab" if existed else "xb"):
            pass
        if not existed:
            path.unlink()
    except OSError as exc:
        raise UsageError(f"{where}: cannot write there ({exc.strerror})") from None
    return path


def check_output_paths(paths: Mapping[str, str | Path | None]) -> dict[str, Path]:
    """Check, before any work, that every report file can be written.

    A missing parent folder is created; an existing file is left as it is (it is
    replaced only when the report is written).

    Args:
        paths: option name (``--output``) -> the path given, or ``None`` if not given.

    Returns:
        option name -> path, for the paths given.

    Raises:
        UsageError: a path that is empty, names a folder (or ends in ``/``), runs through
            a file, cannot be created or written, or is given to two options; the
            message names the option and the path.
    """
    checked: dict[str, Path] = {}
    owners: dict[Path, str] = {}
    for option, given in paths.items():
        if given is None:
            continue
        text = str(given)
        path = _check_one(option, text)
        same = owners.get(path.resolve())
        if same is not None:
            raise UsageError(f"{option} {text}: the same file as {same}; give each its own")
        owners[path.resolve()] = option
        checked[option] = path
    return checked


def write_outputs(
    report: EvalReport,
    *,
    json_path: str | Path | None = None,
    junit_path: str | Path | None = None,
    markdown_path: str | Path | None = None,
    html_path: str | Path | None = None,
    comparison_markdown: str | None = None,
) -> list[Path]:
    """Write the requested report files, creating parent directories as needed.

    Every renderer runs before the first file is written, so a rendering bug cannot leave
    a half-written set of outputs behind.

    Args:
        report: the evaluation report.
        json_path: where to write the JSON report (the versioned schema).
        junit_path: where to write JUnit XML.
        markdown_path: where to write GitHub-flavoured Markdown.
        html_path: where to write the standalone HTML page.
        comparison_markdown: a rendered baseline comparison to include in the Markdown.

    Returns:
        The paths written, in the order json, junit, markdown, html.

    Raises:
        UsageError: a file could not be written (see :func:`check_output_paths`, which
            the CLI runs before the evaluation so this is rare).
    """
    planned: list[tuple[Path, str]] = []
    if json_path is not None:
        planned.append((Path(json_path), _json_text(report)))
    if junit_path is not None:
        planned.append((Path(junit_path), render_junit(report)))
    if markdown_path is not None:
        planned.append(
            (Path(markdown_path), render_markdown(report, comparison=comparison_markdown))
        )
    if html_path is not None:
        planned.append((Path(html_path), render_html(report)))
    for path, text in planned:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the report {path} ({exc.strerror})") from None
    return [path for path, _ in planned]
