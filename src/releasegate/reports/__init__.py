"""Report renderers: terminal (rich), JUnit XML, Markdown and standalone HTML.

The JSON report is the :class:`~releasegate.evals.report.EvalReport` itself; every other
format is rendered from it, so a stored JSON report can be re-rendered later in any form.
See ``docs/reports.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic_core import PydanticSerializationError

from releasegate.evals.report import EvalReport
from releasegate.reports.html import render_html
from releasegate.reports.junit import render_junit
from releasegate.reports.markdown import render_markdown
from releasegate.reports.terminal import render_terminal

__all__ = [
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
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return [path for path, _ in planned]
