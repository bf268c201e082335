"""Every format of the sample reports, byte for byte (clock and durations fixed by hand)."""

from __future__ import annotations

import pytest

from bootstrap.report.model import RunReport
from bootstrap.report.render import Format, render
from bootstrap.report.table import UNWRAPPED
from tests.report.golden import assert_golden
from tests.report.report_samples import empty_report, full_report
from tests.report.whole import FULL_REPORT_COMMANDS, missing_tokens, too_wide, urls

EXTENSION = {
    Format.TABLE: "txt",
    Format.JSON: "json",
    Format.JUNIT: "xml",
    Format.MARKDOWN: "md",
}

SAMPLES = {"full": full_report, "empty": empty_report}

# Terminal widths a person has (tmux panes at 60, 80 and 160 columns); 80 is the default.
TABLE_GOLDEN = {60: "full-60.txt", 80: "full.txt", 160: "full-160.txt"}


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_render_matches_golden(sample: str, fmt: Format) -> None:
    report: RunReport = SAMPLES[sample]()
    assert_golden(f"{sample}.{EXTENSION[fmt]}", render(report, fmt))


@pytest.mark.parametrize("width", sorted(TABLE_GOLDEN))
def test_table_at_terminal_widths_matches_golden(width: int) -> None:
    # The wrapping of names, causes and remedies at each width is part of the promise too.
    assert_golden(TABLE_GOLDEN[width], render(full_report(), Format.TABLE, width=width))


@pytest.mark.parametrize("width", sorted(TABLE_GOLDEN))
def test_table_fits_and_keeps_urls_and_commands_whole(width: int) -> None:
    report = full_report()
    text = render(report, Format.TABLE, width=width)
    assert too_wide(text, width) == [], "only a URL or one word may be wider than the terminal"
    assert urls(report), "the sample must hold URLs for this test to mean anything"
    assert missing_tokens(text, report, FULL_REPORT_COMMANDS) == []


def test_unwrapped_table_matches_golden() -> None:
    # Not a TTY: lines as long as their content, URLs and commands still on lines of their own.
    report = full_report()
    text = render(report, Format.TABLE, width=UNWRAPPED)
    assert_golden("full-unwrapped.txt", text)
    assert not any(line.rstrip().endswith(" \\") for line in text.splitlines())
    assert missing_tokens(text, report, FULL_REPORT_COMMANDS) == []
