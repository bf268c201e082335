"""The JSON report: `RunReport.to_json()` as text, and back from a file someone saved.

The text is exactly `to_json()` (keys in its order, indented, UTF-8 kept as is), so a golden file
and `docs/report.schema.json` pin the versioned format. Reading one back turns any malformed
input into a sentence naming the file, because `report merge` reads files people hand it.
"""

from __future__ import annotations

import io
from typing import Any, TextIO

import orjson

from bootstrap.report.input_errors import ReportInputError
from bootstrap.report.model import RunReport, report_from_json_dict


def render_json(report: RunReport) -> str:
    text = io.StringIO()
    write_json(report, text)
    return text.getvalue()


def write_json(report: RunReport, stream: TextIO) -> None:
    """The report as `json.dumps(report.to_json(), indent=2, ensure_ascii=False)` writes it (a
    float under 1e-4 aside: 0.00001, not 1e-05, the same number), encoded by orjson. The
    standard library indents in pure Python: ~2 s for a 10,000-project report at the end of the
    run, against ~0.1 s. Each top-level value is encoded on its own and the projects one at a
    time, so a fleet's ~20 MB of text is never held whole."""
    stream.write("{")
    for number, (key, value) in enumerate(report.to_json().items()):
        stream.write(f"{',' if number else ''}\n  {_encode(key, 2)}: ")
        if key == "projects" and value:
            for index, project in enumerate(value):
                stream.write(f"{',' if index else '['}\n    {_encode(project, 4)}")
            stream.write("\n  ]")
        else:
            stream.write(_encode(value, 2))
    stream.write("\n}\n")


def _encode(value: Any, indent: int) -> str:
    """`value` as indented JSON, its inner lines `indent` spaces further in."""
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()
    return text.replace("\n", "\n" + " " * indent)


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
