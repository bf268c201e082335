"""The report formats and the one function that turns a report into any of them."""

from __future__ import annotations

from enum import StrEnum
from typing import TextIO

from bootstrap.report.json_report import render_json, write_json
from bootstrap.report.junit import render_junit
from bootstrap.report.markdown import render_markdown
from bootstrap.report.model import RunReport
from bootstrap.report.table import render_table


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    JUNIT = "junit"
    MARKDOWN = "markdown"


def render(report: RunReport, fmt: Format, *, width: int = 80, color: bool = False) -> str:
    """The report as text in `fmt`; `width` and `color` matter only to the table."""
    if fmt is Format.TABLE:
        return render_table(report, width=width, color=color)
    if fmt is Format.JSON:
        return render_json(report)
    if fmt is Format.JUNIT:
        return render_junit(report)
    return render_markdown(report)


def write_report(report: RunReport, fmt: Format, stream: TextIO) -> None:
    """The report in `fmt` written to `stream`; JSON as it is encoded (the largest format: a
    fleet's report is never held whole as text), the others as `render` makes them."""
    if fmt is Format.JSON:
        write_json(report, stream)
    else:
        stream.write(render(report, fmt))
