"""Before apply's prompt, a summary of the plan: each kind of change with how many changes and
projects it touches, the projects needing a person and those failing; `apply --help` says that
declining the prompt exits 2 and changes nothing."""

from __future__ import annotations

import datetime as dt
import io

import click
import pytest

from bootstrap.cli.wiring import confirm_apply, plan_summary
from bootstrap.plan.model import ChangeOutcome
from bootstrap.report.model import ChangeReport, ProjectReport, ProjectStatus, RunReport
from tests.cli.cli_support import Cli

DEMO = "manifests/demo.yaml"


def _change(action: str) -> ChangeReport:
    return ChangeReport(action=action, target="t", reason="r", outcome=ChangeOutcome.PLANNED)


def _project(project_id: str, status: ProjectStatus, *actions: str) -> ProjectReport:
    return ProjectReport(
        project_id=project_id, status=status, changes=tuple(_change(a) for a in actions)
    )


def _report(*projects: ProjectReport) -> RunReport:
    return RunReport(
        command="plan",
        started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        duration_s=1.0,
        exit_code=2,
        projects=projects,
    )


def test_the_summary_counts_changes_and_projects_per_kind() -> None:
    report = _report(
        _project("a", ProjectStatus.CHANGES, "link_billing", "enable_services", "enable_model"),
        _project("b", ProjectStatus.CHANGES, "enable_services", "enable_model", "enable_model"),
        _project("c", ProjectStatus.ACTION_REQUIRED),
        _project("d", ProjectStatus.FAILED),
        _project("e", ProjectStatus.OK),
    )
    assert plan_summary(report).splitlines() == [
        "Plan: 6 change(s) in 2 of 5 project(s)",
        "  link billing     1 change(s) in 1 project(s)",
        "  enable services  2 change(s) in 2 project(s)",
        "  enable model     3 change(s) in 2 project(s)",
        "  needing a person: 1 project(s): c",
        "  failing: 1 project(s): d",
    ]


def test_the_summary_names_a_few_projects_and_counts_the_rest() -> None:
    report = _report(*(_project(f"p{i}", ProjectStatus.FAILED) for i in range(8)))
    summary = plan_summary(report, most=3)
    assert "Plan: 0 change(s) in 0 of 8 project(s)" in summary
    assert "  needing a person: none" in summary
    assert "  failing: 8 project(s): p0, p1, p2, and 5 more" in summary


def test_the_summary_says_which_projects_could_not_be_read_only_when_some() -> None:
    assert "could not be read" not in plan_summary(_report(_project("a", ProjectStatus.OK)))
    unknown = plan_summary(_report(_project("u", ProjectStatus.UNKNOWN)))
    assert "  could not be read: 1 project(s): u" in unknown


def test_apply_prints_the_summary_after_the_plan_table(cli: Cli) -> None:
    result = cli("apply", DEMO, "--yes", "--no-smoke", "--format", "table")
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Plan: "))
    assert "apply:" not in result.stderr.split("Plan: ")[0], "the summary comes before applying"
    summary = "\n".join(lines[start : start + 8])
    assert "create project" in summary and "link billing" in summary
    assert "needing a person:" in summary and "demo-model-off" in summary
    assert "failing:" in summary and "demo-closed-billing" in summary


def test_declining_the_prompt_exits_2_and_help_says_so(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    help_text = " ".join(cli("apply", "--help").stdout.split())
    assert "declining changes nothing and exits 2" in help_text

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr(click, "confirm", lambda *_args, **_kwargs: False)
    with pytest.raises(SystemExit) as exit_:
        confirm_apply(False, 3)
    assert exit_.value.code == 2
