"""Markdown for `$GITHUB_STEP_SUMMARY` (and any Markdown viewer).

A headline, counts per status, one row per project (status emoji, check counts, and each failing
check with its cause and remedy), the smoke metrics per model, then run warnings. Cell text is
escaped so a `|` or a newline in a remedy cannot break the table.
"""

from __future__ import annotations

from collections import Counter

from bootstrap.checks import check_target
from bootstrap.report import display
from bootstrap.report.display import Shown
from bootstrap.report.model import CheckReport, ProjectReport, RunReport


def render_markdown(report: RunReport) -> str:
    started = report.started_at.strftime("%Y-%m-%d %H:%M:%SZ")
    lines = [
        f"### bootstrap {report.command}",
        "",
        f"**{display.summary_line(report.projects)}**. Started {started}, took "
        f"{report.duration_s:.1f} s, exit code {report.exit_code}.",
        "",
    ]
    lines += _counts_table(report.projects)
    if report.projects:
        lines += ["", *_projects_table(report.projects)]
    smoke = _smoke_table(report.projects)
    if smoke:
        lines += ["", "#### Smoke tests", "", *smoke]
    if report.warnings:
        lines += ["", "#### Warnings", ""]
        emoji = display.EMOJI[Shown.WARNING]
        lines += [f"- {emoji} {_escape(warning)}" for warning in report.warnings]
    return "\n".join(lines) + "\n"


def _counts_table(projects: tuple[ProjectReport, ...]) -> list[str]:
    rows = ["| Status | Projects |", "| --- | ---: |"]
    for shown, count in display.count_projects(projects).items():
        rows.append(f"| {display.EMOJI[shown]} {shown.value} | {count} |")
    rows.append(f"| **total** | **{len(projects)}** |")
    return rows


def _projects_table(projects: tuple[ProjectReport, ...]) -> list[str]:
    rows = ["| | Project | Status | Checks | Needs attention |", "| --- | --- | --- | --- | --- |"]
    for project in projects:
        shown = display.project_shown(project)
        findings = "<br>".join(
            _finding(check) for check in project.checks if display.is_finding(check)
        )
        rows.append(
            f"| {display.EMOJI[shown]} | `{_escape(project.project_id)}` | {shown.value} "
            f"| {_check_counts(project.checks)} | {findings} |"
        )
    return rows


def _check_counts(checks: tuple[CheckReport, ...]) -> str:
    counts = Counter(display.check_shown(check) for check in checks)
    return ", ".join(f"{counts[shown]} {shown.value}" for shown in Shown if counts[shown])


def _finding(check: CheckReport) -> str:
    shown = display.check_shown(check)
    text = f"{display.EMOJI[shown]} **{_escape(check.name)}**"
    if check.cause:
        text += f" `{check.cause}`"
    detail = display.first_line(check.detail)
    if detail:
        text += f": {_escape(detail)}"
    if check.remedy:
        text += f"<br>Fix: {_escape(check.remedy)}"
    return text


def _smoke_table(projects: tuple[ProjectReport, ...]) -> list[str]:
    rows = []
    for project in projects:
        for check in project.checks:
            if not display.has_smoke_metrics(check):
                continue
            ttft, rate = display.smoke_metrics(check)
            shown = display.check_shown(check)
            rows.append(
                f"| {display.EMOJI[shown]} | `{_escape(project.project_id)}` "
                f"| {_escape(check_target(check.name))} | {_number(ttft, 0)} | {_number(rate, 1)} |"
            )
    if not rows:
        return []
    return [
        "| | Project | Model | TTFT (ms) | Tokens/s |",
        "| --- | --- | --- | ---: | ---: |",
        *rows,
    ]


def _number(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _escape(text: str) -> str:
    """Text safe inside a table cell: no HTML, no column breaks, no line breaks."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")
