"""Where reports go: `--output FILE` (repeatable, format from the extension) and the GitHub step
summary. The only module of the package that touches files.

`check_outputs` and `check_appendable` run before any cloud request, so that a report that could
not be written never costs a run (nor leaves mutations behind whose report is lost): each target
must name a known format, must not be a directory, and its directory must exist or be creatable
and must accept a new file, which is tried, not guessed from permission bits (root passes every
permission check, and /sys refuses files anyway).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TextIO

from bootstrap.report.input_errors import ReportInputError
from bootstrap.report.markdown import render_markdown
from bootstrap.report.model import RunReport
from bootstrap.report.render import Format, write_report

_EXTENSIONS: dict[str, Format] = {
    ".json": Format.JSON,
    ".xml": Format.JUNIT,
    ".md": Format.MARKDOWN,
    ".txt": Format.TABLE,
}

STEP_SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"


def format_for_path(path: str) -> Format:
    """The format a file name asks for (.json, .xml, .md, .txt; any case)."""
    suffix = Path(path).suffix.lower()
    try:
        return _EXTENSIONS[suffix]
    except KeyError:
        raise ReportInputError(
            f"Cannot tell the report format of {path!r} from its extension.",
            remedy="Name it .json, .xml (JUnit), .md (Markdown) or .txt (table).",
        ) from None


def parse_outputs(
    outputs: Sequence[str], default_format: Format | None
) -> list[tuple[Path, Format]]:
    """Each `--output` with its format: from a known extension first, because one command may
    write report.json and report.xml at once; otherwise the explicit `--format`
    (`default_format`, None when the user gave none), otherwise an error naming the file."""
    parsed: list[tuple[Path, Format]] = []
    for output in outputs:
        if Path(output).suffix.lower() in _EXTENSIONS or default_format is None:
            parsed.append((Path(output), format_for_path(output)))
        else:
            parsed.append((Path(output), default_format))
    return parsed


def check_outputs(
    outputs: Sequence[str], default_format: Format | None = None
) -> list[tuple[Path, Format]]:
    """`parse_outputs`, then each file checked as writable (see the module doc); a
    ReportInputError names the first that is not."""
    parsed = parse_outputs(outputs, default_format)
    for path, _ in parsed:
        problem = _unwritable(path, create_dirs=True)
        if problem:
            raise ReportInputError(
                f"Cannot write the report to {str(path)!r}: {problem}.",
                remedy="Pass an --output path in a writable directory, e.g. ./report.json.",
            )
    return parsed


def check_appendable(variable: str, env: Mapping[str, str]) -> None:
    """The file `$variable` names (GitHub's step summary or env file) can be appended to.

    Its directory must exist already: GitHub creates it, so a missing one means the variable
    is wrong, and creating directories for it would hide that.
    """
    target = env.get(variable, "")
    if not target:
        return
    problem = _unwritable(Path(target), create_dirs=False)
    if problem:
        raise ReportInputError(
            f"${variable} names {target!r}, which cannot be appended to: {problem}.",
            remedy=f"Unset {variable} or point it at a file in an existing, writable directory.",
        )


def _unwritable(path: Path, *, create_dirs: bool) -> str | None:
    """Why a file could not be written at `path`, or None. Creates nothing that stays."""
    if path.is_dir():
        return "it is a directory"
    if path.exists():
        return None if os.access(path, os.W_OK) else "the file is not writable"
    parent = path.parent
    while not parent.exists() and create_dirs and parent != parent.parent:
        parent = parent.parent  # the nearest existing ancestor must accept the new directories
    if not parent.exists():
        return f"the directory {str(parent)!r} does not exist"
    if not parent.is_dir():
        return f"{str(parent)!r} is a file, not a directory"
    try:
        handle, probe = tempfile.mkstemp(prefix=".bootstrap-probe.", dir=parent)
    except OSError as error:
        return f"{str(parent)!r} does not accept new files ({error.strerror or error})"
    os.close(handle)
    Path(probe).unlink(missing_ok=True)
    return None


def write_outputs(report: RunReport, outputs: Sequence[tuple[Path, Format]]) -> None:
    """Write each file whole or not at all, so a CI step never uploads half a report."""
    for path, fmt in outputs:
        _write_atomically(path, partial(write_report, report, fmt))


def append_step_summary(report: RunReport, env: Mapping[str, str]) -> None:
    """Append the Markdown report to $GITHUB_STEP_SUMMARY when the variable names a file."""
    target = env.get(STEP_SUMMARY_VARIABLE, "")
    if not target:
        return
    # Other steps append to the same file; a blank line keeps our headline a headline.
    with open(target, "a", encoding="utf-8") as summary:
        summary.write("\n" + render_markdown(report))


def _write_atomically(path: Path, write: Callable[[TextIO], None]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(f"{str(path.parent)!r} is a file, not a directory") from None
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
