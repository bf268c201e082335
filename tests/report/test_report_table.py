"""The human table: fits the width, single-width symbols, plain text unless color is asked for."""

from __future__ import annotations

import subprocess
import sys
import unicodedata

import pytest

from bootstrap.checks import CheckStatus
from bootstrap.remedies import enable_model_rest
from bootstrap.report import display
from bootstrap.report.model import CheckReport, ProjectReport, ProjectStatus, RunReport
from bootstrap.report.render import Format, render
from tests.report.report_samples import (
    MODEL,
    PUBLISHER_MODEL,
    SMOKE,
    STARTED_AT,
    full_report,
    project_ok,
)
from tests.report.whole import logical_lines, too_wide, urls


@pytest.mark.parametrize("width", [60, 80, 120])
def test_no_line_is_wider_than_the_console(width: int) -> None:
    # Except a URL (or one word) longer than the width: it starts at the margin, whole.
    text = render(full_report(), Format.TABLE, width=width)
    assert too_wide(text, width) == []


def test_names_are_never_folded_a_long_one_gets_its_own_line() -> None:
    lines = render(full_report(), Format.TABLE, width=60).splitlines()
    row = lines.index(f"✓    {MODEL}")
    assert lines[row + 1].strip() == "ok"
    assert "✓  demo-ready           ok" in lines


def test_a_quoted_argument_of_a_long_command_is_never_split() -> None:
    command = enable_model_rest("demo-terms", PUBLISHER_MODEL)
    check = CheckReport(name=MODEL, status=CheckStatus.ACTION_REQUIRED, remedy=f"Run: {command}")
    project = ProjectReport(project_id="p", status=ProjectStatus.ACTION_REQUIRED, checks=(check,))
    report = RunReport(
        command="audit", started_at=STARTED_AT, duration_s=1, exit_code=2, projects=(project,)
    )
    text = render(report, Format.TABLE, width=60)
    assert command in logical_lines(text)
    quoted = '"Authorization: Bearer $(gcloud auth print-access-token)"'
    assert any(quoted in line for line in text.splitlines())
    assert too_wide(text, 60) == []


def test_urls_are_hyperlinks_with_color() -> None:
    url = next(iter(urls(full_report())))
    assert "\x1b]8;id=" in render(full_report(), Format.TABLE, color=True)
    assert f";{url}\x1b\\" in render(full_report(), Format.TABLE, color=True)
    assert "\x1b]8;" not in render(full_report(), Format.TABLE)


def test_every_symbol_is_one_column_wide_in_every_terminal() -> None:
    # East Asian "ambiguous" characters turn double-width in CJK locales; only N/Na are safe.
    for symbol in {*display.SYMBOL.values(), "+", "~"}:
        assert len(symbol) == 1
        assert unicodedata.east_asian_width(symbol) in ("N", "Na"), symbol
    non_ascii = {ch for ch in render(full_report(), Format.TABLE) if ord(ch) > 127}
    assert non_ascii <= set(display.SYMBOL.values())


def test_one_row_per_project_and_check_with_symbols() -> None:
    lines = render(full_report(), Format.TABLE).splitlines()
    assert "✓  demo-ready                        ok" in lines
    # A planned change shows once, as the pending check it fixes, with the change's symbol.
    assert not any(line.startswith(("+    create_project", "~    link_billing")) for line in lines)
    assert any(line.startswith("+    project") and "will change" in line for line in lines)
    assert any(line.startswith("~    billing") and "will change" in line for line in lines)
    assert any(line.startswith("!  demo-terms") for line in lines)
    assert any(
        line.startswith("✗    billing") and "BILLING_ACCOUNT_CLOSED" in line for line in lines
    )
    assert any(line.startswith("-    services") for line in lines)
    assert any(line.startswith("⚠    project") for line in lines)


def test_remedy_wraps_on_its_own_line() -> None:
    lines = render(full_report(), Format.TABLE).splitlines()
    fix = [line.strip() for line in lines if line.strip().startswith("fix:")]
    assert "fix: Retry later; if it persists, check the" in fix


def test_smoke_metrics_per_model() -> None:
    text = render(full_report(), Format.TABLE)
    assert "smoke:gpt-oss-120b@us-central1  ok, TTFT 42 ms, 85.2 tok/s" in text


def test_summary_line_counts_projects_by_what_a_person_sees() -> None:
    last = render(full_report(), Format.TABLE).splitlines()[-1]
    assert last == "7 projects: 2 ok, 1 changed, 1 will change, 1 needs a person, 2 failed"


def test_one_project_is_singular() -> None:
    report = RunReport(
        command="audit", started_at=STARTED_AT, duration_s=1, exit_code=0, projects=(project_ok(),)
    )
    assert render(report, Format.TABLE).splitlines()[-1] == "1 project: 1 ok"


def test_user_text_is_never_read_as_rich_markup() -> None:
    check = CheckReport(
        name="billing", status=CheckStatus.FAILED, cause="UNKNOWN", remedy="[bold]ask[/bold] [red]"
    )
    project = ProjectReport(project_id="p", status=ProjectStatus.FAILED, checks=(check,))
    report = RunReport(
        command="audit", started_at=STARTED_AT, duration_s=1, exit_code=1, projects=(project,)
    )
    assert "fix: [bold]ask[/bold] [red]" in render(report, Format.TABLE)


def test_no_escape_codes_without_color_and_some_with_it() -> None:
    assert "\x1b[" not in render(full_report(), Format.TABLE)
    assert "\x1b[" in render(full_report(), Format.TABLE, color=True)


def test_smoke_metrics_that_are_not_numbers_are_left_out() -> None:
    check = CheckReport(name=SMOKE, status=CheckStatus.OK, metrics={"ttft_ms": "n/a"})
    assert display.format_smoke(check) == ""
    assert display.format_smoke(CheckReport(name=SMOKE, status=CheckStatus.OK)) == ""


def test_importing_the_package_does_not_load_rich() -> None:
    code = "import sys, bootstrap.report; sys.exit(any(m.startswith('rich') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_segments_find_urls_and_commands_in_remedies() -> None:
    remedy = "gcloud services enable x.googleapis.com --project=p (or pass another --quota-project)"
    assert display.segments(remedy) == [
        (display.Piece.COMMAND, "gcloud services enable x.googleapis.com --project=p"),
        (display.Piece.PROSE, "(or pass another --quota-project)"),
    ]
    assert display.segments("Open https://example.com/a?b=c. Then retry.") == [
        (display.Piece.PROSE, "Open"),
        (display.Piece.URL, "https://example.com/a?b=c"),
        (display.Piece.PROSE, "Then retry."),
    ]
