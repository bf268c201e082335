"""The human table: one row per project, then one per check, fitting the width given.

Columns are a status symbol, the project or check name, and what it means (status word, cause,
smoke metrics; for checks that are not fine, the detail and then the remedy on its own line).
Changes get no rows of their own: each planned change shows as the pending check it fixes
(with the change's symbol), so the table says every fact once. Besides the status symbols the text
is ASCII: East Asian "ambiguous" characters such as arrows and middle dots turn double-width in
some terminals and would break the width promise. rich is imported here, not at package
import, so commands that only write JSON never load it. All user text goes in as `Text`, never as
markup, so a `[` in a remedy cannot be read as a style.

The layout is done here, line by line, rather than by a rich `Table`, because a table cell folds
whatever does not fit. Words wrap only at blanks, so names and tokens are never cut; a name
wider than its column gets its own line, with the result below it; a URL or a command (found by
`display.segments`) goes on its own line, whole. A command too long for the result column is
continued with ` \\` at a blank, never inside a word or a quoted string; a URL or word too long for
the result column starts at the left margin instead, and may be wider than the width: that is
the one kind of line that may be. With color (a terminal), URLs are hyperlinks. With
`width=UNWRAPPED` nothing wraps: every line is as long as its content (output that is not a TTY).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bootstrap.checks import CheckStatus
from bootstrap.report import display
from bootstrap.report.display import Piece, Shown
from bootstrap.report.model import CheckReport, ProjectReport, RunReport

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# The width that means "do not wrap": each line as long as its content.
UNWRAPPED = 0
_UNLIMITED = 1_000_000

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
# which are the longer texts. Names wider than that get a line of their own.
_NAME_MAX_SHARE = 0.42
_GAP = "  "
_HEADER = "Project / check"
_CHECK_INDENT = "  "
# The result column never gets narrower than this, whatever the names.
_MIN_RESULT = 20
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class _Line:
    """One line of a result cell; `at_margin` when it is too wide for the column (see above)."""

    text: Text
    at_margin: bool = False


@dataclass(frozen=True)
class _Pen:
    """What laying out text needs: the console (for wrapping), the widths and whether to link."""

    console: Console
    width: int
    name_width: int
    color: bool

    @property
    def result_column(self) -> int:
        return 1 + len(_GAP) + self.name_width + len(_GAP)

    @property
    def result_width(self) -> int:
        return max(self.width - self.result_column, _MIN_RESULT)


def render_table(report: RunReport, *, width: int = 80, color: bool = False) -> str:
    from rich.console import Console
    from rich.text import Text

    limit = width if width > UNWRAPPED else _UNLIMITED
    console = Console(
        file=io.StringIO(),
        width=min(limit, 10_000),
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    pen = _Pen(console, limit, _name_width(report, limit), color)
    lines = _wrap(Text(_headline(report), style="bold"), limit)
    if report.projects:  # a header over nothing reads like a bug
        lines.append(_header(pen))
    for project in report.projects:
        lines.extend(_project_lines(pen, project))
    for warning in report.warnings:
        prefix = f"{display.SYMBOL[Shown.WARNING]} "
        block = _block(pen, warning, style="yellow", prefix=prefix, width=limit)
        lines.extend(line.text for line in block)
    lines.extend(_wrap(Text(display.summary_line(report.projects), style="bold"), limit))
    for line in lines:
        console.print(line, soft_wrap=True)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return "\n".join(line.rstrip() for line in output.splitlines()) + "\n"


def _headline(report: RunReport) -> str:
    started = report.started_at.strftime("%Y-%m-%d %H:%M:%SZ")
    return (
        f"bootstrap {report.command}, started {started}, {report.duration_s:.1f} s, "
        f"exit code {report.exit_code}"
    )


def _name_width(report: RunReport, width: int) -> int:
    """The widest name that fits the name column's share of the width (at least the header)."""
    from rich.cells import cell_len

    most = int(width * _NAME_MAX_SHARE)
    names = [p.project_id for p in report.projects]
    names += [_CHECK_INDENT + c.name for p in report.projects for c in p.checks]
    return max([len(_HEADER), *(n for n in map(cell_len, names) if n <= most)])


def _header(pen: _Pen) -> Text:
    from rich.text import Text

    return Text(" " + _GAP + _HEADER.ljust(pen.name_width) + _GAP + "Result", style="bold")


def _wrap(text: Text, width: int) -> list[Text]:
    """`text` wrapped at blanks only: a word wider than `width` stays whole, on its own line.
    (rich's own wrapping either folds such a word or does not wrap at all.)"""
    offsets: list[int] = []
    line_start = 0
    for word in _WORD.finditer(text.plain):
        if word.start() > line_start and word.end() - line_start > width:
            offsets.append(word.start())
            line_start = word.start()
    lines = list(text.divide(offsets))
    for line in lines:
        line.rstrip()
    return lines


def _project_lines(pen: _Pen, project: ProjectReport) -> list[Text]:
    from rich.text import Text

    shown = display.project_shown(project)
    style = _STYLE[shown]
    symbol = Text(display.project_symbol(project), style=style)
    result = [_Line(Text(shown.value, style=style))]
    lines = _row(pen, symbol, Text(project.project_id, style="bold"), result)
    for check in project.checks:
        check_symbol = Text(display.check_symbol(check), style=_STYLE[display.check_shown(check)])
        name = Text(_CHECK_INDENT + check.name)
        lines.extend(_row(pen, check_symbol, name, _check_result(pen, check)))
    return lines


def _row(pen: _Pen, symbol: Text, name: Text, result: list[_Line]) -> list[Text]:
    """The row's lines: symbol, name, then the result's lines in the result column. A name too
    wide for its column (or a first result line too wide for its own) starts the row alone."""
    from rich.text import Text

    rest = result
    if name.cell_len > pen.name_width or not result or result[0].at_margin:
        lines = [Text.assemble(symbol, _GAP, name)]
    else:
        padding = " " * (pen.name_width - name.cell_len) + _GAP
        lines = [Text.assemble(symbol, _GAP, name, padding, result[0].text)]
        rest = result[1:]
    indent = " " * pen.result_column
    lines.extend(line.text if line.at_margin else Text.assemble(indent, line.text) for line in rest)
    return lines


def _check_result(pen: _Pen, check: CheckReport) -> list[_Line]:
    from rich.text import Text

    shown = display.check_shown(check)
    status = Text(shown.value, style=_STYLE[shown])
    if check.cause:
        status.append(f" {check.cause}", style="bold")
    smoke = display.format_smoke(check)
    if smoke:
        status.append(f", {smoke}")
    width = pen.result_width
    lines = [_Line(line, line.cell_len > width) for line in _wrap(status, width)]
    detail = display.first_line(check.detail)
    if detail and check.status not in _QUIET:
        lines.extend(_block(pen, detail, style="dim", prefix="", width=width))
    if check.remedy and check.status in _NEEDS_FIX:
        for i, remedy in enumerate(check.remedy.strip().splitlines()):
            lines.extend(_block(pen, remedy, style="", prefix="" if i else "fix: ", width=width))
    return lines


def _block(pen: _Pen, text: str, *, style: str, prefix: str, width: int) -> list[_Line]:
    """`prefix` + `text` in lines of `width`: prose wrapped, each URL and command on its own."""
    from rich.text import Text

    lines: list[_Line] = []
    prose = prefix
    for piece, part in display.segments(text):
        if piece is Piece.PROSE:
            prose = f"{prose}{part} "
            continue
        if prose.strip():
            lines.extend(_prose(pen, Text(prose.strip(), style=style), width))
        prose = ""
        if piece is Piece.URL:
            lines.append(_url(pen, part, style, width))
        else:
            lines.extend(_command(pen, part, style, width))
    if prose.strip():
        lines.extend(_prose(pen, Text(prose.strip(), style=style), width))
    return lines


def _prose(pen: _Pen, text: Text, width: int) -> list[_Line]:
    return [_Line(line, line.cell_len > width) for line in _wrap(text, width)]


def _url(pen: _Pen, url: str, style: str, width: int) -> _Line:
    from rich.style import Style
    from rich.text import Text

    text = Text(url, style=style)
    if pen.color:
        text.stylize(Style(link=url))
    return _Line(text, text.cell_len > width)


def _command(pen: _Pen, command: str, style: str, width: int) -> list[_Line]:
    """The command on one line, or continued with ` \\` at blanks; at the margin (with the
    whole width) when some word of it does not fit the column."""
    from rich.text import Text

    words = display.shell_words(command)
    pieces = _continued(words, width)
    at_margin = any(len(piece) > width for piece in pieces)
    if at_margin:
        pieces = _continued(words, pen.width)
    return [_Line(Text(piece, style=style), at_margin) for piece in pieces]


def _continued(words: list[str], width: int) -> list[str]:
    """`words` joined into lines of `width`, each but the last ending in ` \\`, the later ones
    indented by two blanks; a word wider than that stays whole on its own line."""
    whole = " ".join(words)
    if len(whole) <= width:
        return [whole]
    pieces: list[str] = []
    current = words[0]
    for word in words[1:]:
        if len(current) + 1 + len(word) + 2 <= width:
            current = f"{current} {word}"
        else:
            pieces.append(f"{current} \\")
            current = f"  {word}"
    pieces.append(current)
    return pieces
