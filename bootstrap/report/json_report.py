"""The JSON report: `RunReport.to_json()` as text, and back from a file someone saved.

The text is exactly `to_json()` (keys in its order, indented, UTF-8 kept as is), so a golden file
and `docs/report.schema.json` pin the versioned format. Reading one back turns any malformed
input into a sentence naming the file, because `report merge` reads files people hand it.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from bootstrap.report.input_errors import ReportInputError
from bootstrap.report.model import RunReport, report_from_json_dict


def render_json(report: RunReport) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


# Pieces of encoded JSON joined per write: one write per piece costs a call each (over a
# million for a 10,000-project report), one join of them all holds every piece at once.
_PIECES_PER_WRITE = 8192
_ENCODER = json.JSONEncoder(indent=2, ensure_ascii=False)  # render_json's settings


def write_json(report: RunReport, stream: TextIO) -> None:
    """`render_json(report)` written to `stream` as it is encoded: a 10,000-project report is
    ~15 MB of text, and built whole its million pieces took ~100 MB at the end of the run."""
    pieces: list[str] = []
    for piece in _ENCODER.iterencode(report.to_json()):
        pieces.append(piece)
        if len(pieces) >= _PIECES_PER_WRITE:
            stream.write("".join(pieces))
            pieces.clear()
    pieces.append("\n")
    stream.write("".join(pieces))


def report_from_json(data: dict[str, Any], *, source: str = "report") -> RunReport:
    """The RunReport in `data` (a parsed JSON report); `source` names it in errors."""
    if not isinstance(data, dict):
        raise _invalid(source, f"is a JSON {type(data).__name__}, not an object")
    try:
        return report_from_json_dict(data)
    except KeyError as error:
        raise _invalid(source, f"has no {error.args[0]!r} field") from error
    except (ValueError, TypeError, AttributeError) as error:
        raise _invalid(source, f"is malformed ({error})") from error


def _invalid(source: str, what: str) -> ReportInputError:
    return ReportInputError(
        f"The report {source} {what}.",
        remedy="Pass a file written by `bootstrap ... --output FILE.json` (schema_version 1 or 2).",
    )
