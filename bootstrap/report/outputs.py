"""Where reports go: `--output FILE` (repeatable, format from the extension) and the GitHub step
summary. The only module of the package that touches files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from bootstrap.report.input_errors import ReportInputError
from bootstrap.report.markdown import render_markdown
from bootstrap.report.model import RunReport
from bootstrap.report.render import Format, render

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
            remedy="Name it .json, .xml (JUnit), .md (Markdown) or .txt (table), or pass --format.",
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


def write_outputs(report: RunReport, outputs: Sequence[tuple[Path, Format]]) -> None:
    """Write each file whole or not at all, so a CI step never uploads half a report."""
    for path, fmt in outputs:
        _write_atomically(path, render(report, fmt))


def append_step_summary(report: RunReport, env: Mapping[str, str]) -> None:
    """Append the Markdown report to $GITHUB_STEP_SUMMARY when the variable names a file."""
    target = env.get(STEP_SUMMARY_VARIABLE, "")
    if not target:
        return
    # Other steps append to the same file; a blank line keeps our headline a headline.
    with open(target, "a", encoding="utf-8") as summary:
        summary.write("\n" + render_markdown(report))


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
