"""--output files (format from the extension), atomic writes, and the GitHub step summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bootstrap.errors import BootstrapError
from bootstrap.report.outputs import (
    append_step_summary,
    format_for_path,
    parse_outputs,
    write_outputs,
)
from bootstrap.report.render import Format, render
from tests.report.report_samples import empty_report, full_report


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("report.json", Format.JSON),
        ("out/report.XML", Format.JUNIT),
        ("summary.md", Format.MARKDOWN),
        ("table.txt", Format.TABLE),
    ],
)
def test_format_for_path(path: str, fmt: Format) -> None:
    assert format_for_path(path) is fmt


def test_unknown_extension_says_which_to_use() -> None:
    with pytest.raises(BootstrapError) as raised:
        format_for_path("report.yaml")
    assert "report.yaml" in str(raised.value) and ".json" in raised.value.failure.remedy


def test_parse_outputs_prefers_the_extension_then_the_explicit_format() -> None:
    assert parse_outputs(["r.json", "r.xml", "r.log"], Format.MARKDOWN) == [
        (Path("r.json"), Format.JSON),
        (Path("r.xml"), Format.JUNIT),
        (Path("r.log"), Format.MARKDOWN),
    ]
    assert parse_outputs([], None) == []
    with pytest.raises(BootstrapError):
        parse_outputs(["r.log"], None)


def test_write_outputs_writes_each_format(tmp_path: Path) -> None:
    report = full_report()
    outputs = parse_outputs(
        [str(tmp_path / "r.json"), str(tmp_path / "deep" / "r.xml"), str(tmp_path / "r.md")],
        None,
    )
    write_outputs(report, outputs)
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == report.to_json()
    assert (tmp_path / "deep" / "r.xml").read_text(encoding="utf-8") == render(report, Format.JUNIT)
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("### bootstrap audit")
    # No temporary files left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "r.json", "r.md"]


def test_step_summary_is_appended_when_the_variable_is_set(tmp_path: Path) -> None:
    summary = tmp_path / "step_summary.md"
    summary.write_text("# Earlier step\n", encoding="utf-8")
    env = {"GITHUB_STEP_SUMMARY": str(summary)}
    append_step_summary(full_report(), env)
    append_step_summary(empty_report(), env)
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# Earlier step\n\n### bootstrap audit")
    assert text.endswith(render(empty_report(), Format.MARKDOWN))


def test_step_summary_is_left_alone_without_the_variable(tmp_path: Path) -> None:
    append_step_summary(full_report(), {})
    append_step_summary(full_report(), {"GITHUB_STEP_SUMMARY": ""})
    assert list(tmp_path.iterdir()) == []


def test_input_errors_are_also_value_errors() -> None:
    # Callers that guard with `except ValueError` still get one sentence, not a traceback.
    with pytest.raises(ValueError, match=r"report\.yaml"):
        format_for_path("report.yaml")
