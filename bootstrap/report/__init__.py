"""Report renderers: a `RunReport` as a table, JSON, JUnit XML or Markdown, written where asked.

Importing this package is cheap: rich loads only when a table is rendered.

    render(report, Format.TABLE, width=80, color=False) -> str
    parse_outputs(["r.json", "r.xml"], None) -> [(Path, Format), ...]; write_outputs(report, ...)
    append_step_summary(report, os.environ)
    merge_reports([shard1, shard2]) -> RunReport; report_from_json(json.load(f)) -> RunReport
"""

from __future__ import annotations

from bootstrap.report.display import TOKENS_PER_S, TTFT_MS
from bootstrap.report.errors import ReportInputError
from bootstrap.report.json_report import report_from_json
from bootstrap.report.merge import merge_reports
from bootstrap.report.model import (
    SCHEMA_VERSION,
    ChangeOutcome,
    ChangeReport,
    CheckReport,
    ProjectReport,
    ProjectStatus,
    RunReport,
)
from bootstrap.report.outputs import (
    append_step_summary,
    format_for_path,
    parse_outputs,
    write_outputs,
)
from bootstrap.report.render import Format, render

__all__ = [
    "SCHEMA_VERSION",
    "TOKENS_PER_S",
    "TTFT_MS",
    "ChangeOutcome",
    "ChangeReport",
    "CheckReport",
    "Format",
    "ProjectReport",
    "ProjectStatus",
    "ReportInputError",
    "RunReport",
    "append_step_summary",
    "format_for_path",
    "merge_reports",
    "parse_outputs",
    "render",
    "report_from_json",
    "write_outputs",
]
