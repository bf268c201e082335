"""The step summary Markdown: counts per status, a row per project, smoke metrics, safe cells."""

from __future__ import annotations

from bootstrap.checks import CheckStatus
from bootstrap.report.model import CheckReport, ProjectReport, ProjectStatus, RunReport
from bootstrap.report.render import Format, render
from tests.report.report_samples import STARTED_AT, full_report


def _table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("|"):
            # Split on unescaped pipes only.
            cells = line.replace("\\|", "\0").strip("|").split("|")
            rows.append([cell.strip().replace("\0", "\\|") for cell in cells])
    return rows


def test_counts_per_status_then_one_row_per_project() -> None:
    text = render(full_report(), Format.MARKDOWN)
    assert (
        "| ✅ ok | 2 |" in text and "| ❌ failed | 2 |" in text and "| **total** | **7** |" in text
    )
    rows = _table_rows(text.split("#### Smoke tests")[0])
    projects = [row for row in rows if len(row) == 5 and row[1].startswith("`demo-")]
    assert len(projects) == 7
    terms = next(row for row in projects if row[1] == "`demo-terms`")
    assert terms[0] == "✋" and terms[2] == "needs a person"
    assert "`MODEL_NOT_ENABLED`" in terms[4] and "Fix: Accept the terms" in terms[4]


def test_smoke_metrics_per_model() -> None:
    rows = _table_rows(render(full_report(), Format.MARKDOWN))
    assert ["✅", "`demo-ready`", "gpt-oss-120b@us-central1", "42", "85.2"] in rows


def test_every_table_row_has_as_many_cells_as_its_header() -> None:
    check = CheckReport(
        name="billing",
        status=CheckStatus.FAILED,
        cause="UNKNOWN",
        detail="a | b\nc",
        remedy="<script>x</script> | y",
    )
    project = ProjectReport(project_id="p-1", status=ProjectStatus.FAILED, checks=(check,))
    report = RunReport(
        command="audit", started_at=STARTED_AT, duration_s=1, exit_code=1, projects=(project,)
    )
    text = render(report, Format.MARKDOWN)
    assert "<script>" not in text
    row = next(r for r in _table_rows(text) if r[1] == "`p-1`")
    assert len(row) == 5
