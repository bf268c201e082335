"""Every format of the sample reports, byte for byte (clock and durations fixed by hand)."""

from __future__ import annotations

import pytest

from bootstrap.report.model import RunReport
from bootstrap.report.render import Format, render
from tests.report.golden import assert_golden
from tests.report.report_samples import empty_report, full_report

EXTENSION = {
    Format.TABLE: "txt",
    Format.JSON: "json",
    Format.JUNIT: "xml",
    Format.MARKDOWN: "md",
}

SAMPLES = {"full": full_report, "empty": empty_report}


@pytest.mark.parametrize("fmt", list(Format))
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_render_matches_golden(sample: str, fmt: Format) -> None:
    report: RunReport = SAMPLES[sample]()
    assert_golden(f"{sample}.{EXTENSION[fmt]}", render(report, fmt))


def test_narrow_table_matches_golden() -> None:
    # 60 columns: the wrapping of names, causes and remedies is part of the promise too.
    assert_golden("full-60.txt", render(full_report(), Format.TABLE, width=60))
