"""The human table: one row per project, then one per check, fitting the width given.

Columns are a status symbol, the project or check name, and what it means (status word, cause,
smoke metrics; for checks that are not fine, the detail and then the remedy on its own line).
Changes get no rows of their own: each planned change shows as the pending check it fixes
(with the change's symbol), so the table says every fact once. Besides the status symbols the text
is ASCII: East Asian "ambiguous" characters such as arrows and middle dots turn double-width in
some terminals and would break the 80-column promise. rich is imported here, not at package
import, so commands that only write JSON never load it. All user text goes in as `Text`, never as
markup, so a `[` in a remedy cannot be read as a style.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bootstrap.checks import CheckStatus
from bootstrap.report import display
from bootstrap.report.display import Shown
from bootstrap.report.model import CheckReport, ProjectReport, RunReport

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

_STYLE: dict[Shown, str] = {
    Shown.OK: "green",
    Shown.CHANGED: "green",
    Shown.WILL_CHANGE: "yellow",
    Shown.PROPAGATING: "yellow",
    Shown.UNKNOWN: "red",
    Shown.NOT_RUN: "dim",
    Shown.NEEDS_PERSON: "magenta",
    Shown.FAILED: "red",
    Shown.SKIPPED: "dim",
    Shown.WARNING: "yellow",
}

# Checks whose detail is noise (the status says it all) and those that need a remedy shown.
_QUIET = (CheckStatus.OK, CheckStatus.CHANGED)
_NEEDS_FIX = (CheckStatus.FAILED, CheckStatus.ACTION_REQUIRED, CheckStatus.WARNING)

# The name column may take this share of the width; the rest goes to causes and remedies,
# which are the longer texts.
_NAME_MAX_SHARE = 0.42


def render_table(report: RunReport, *, width: int = 80, color: bool = False) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(
        file=io.StringIO(),
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    console.print(Text(_headline(report), style="bold"))
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=False)
    table.add_column("", no_wrap=True, width=1)
    table.add_column("Project / check", overflow="fold", max_width=int(width * _NAME_MAX_SHARE))
    table.add_column("Result", overflow="fold", ratio=1)
    for project in report.projects:
        _add_project(table, project)
    if report.projects:  # a header over nothing reads like a bug
        console.print(table)
    for warning in report.warnings:
        console.print(Text(f"{display.SYMBOL[Shown.WARNING]} {warning}", style="yellow"))
    console.print(Text(display.summary_line(report.projects), style="bold"))
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    # rich pads every cell to the column width; trailing blanks only make goldens brittle.
    return "\n".join(line.rstrip() for line in output.splitlines()) + "\n"


def _headline(report: RunReport) -> str:
    started = report.started_at.strftime("%Y-%m-%d %H:%M:%SZ")
    return (
        f"bootstrap {report.command}, started {started}, {report.duration_s:.1f} s, "
        f"exit code {report.exit_code}"
    )


def _add_project(table: Table, project: ProjectReport) -> None:
    from rich.text import Text

    shown = display.project_shown(project)
    style = _STYLE[shown]
    table.add_row(
        Text(display.project_symbol(project), style=style),
        Text(project.project_id, style="bold"),
        Text(shown.value, style=style),
    )
    for check in project.checks:
        table.add_row(*_check_cells(check))


def _check_cells(check: CheckReport) -> tuple[Text, Text, Text]:
    from rich.text import Text

    shown = display.check_shown(check)
    result = Text(shown.value, style=_STYLE[shown])
    if check.cause:
        result.append(f" {check.cause}", style="bold")
    smoke = display.format_smoke(check)
    if smoke:
        result.append(f", {smoke}")
    detail = display.first_line(check.detail)
    if detail and check.status not in _QUIET:
        result.append(f"\n{detail}", style="dim")
    if check.remedy and check.status in _NEEDS_FIX:
        result.append(f"\nfix: {check.remedy}")
    return (
        Text(display.check_symbol(check), style=_STYLE[shown]),
        Text(f"  {check.name}"),
        result,
    )
