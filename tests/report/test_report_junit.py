"""JUnit XML loads in CI viewers: a JUnit parser reads it back and the Jenkins/Ant XSD accepts it."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import junitparser
import pytest
import xmlschema

from bootstrap.checks import CheckStatus
from bootstrap.report.model import CheckReport, ProjectReport, ProjectStatus, RunReport
from bootstrap.report.render import Format, render
from tests.report.report_samples import empty_report, full_report

XSD = Path(__file__).parent / "junit.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(XSD)


@pytest.mark.parametrize("report", [full_report(), empty_report()], ids=["full", "empty"])
def test_valid_against_the_jenkins_junit_xsd(
    schema: xmlschema.XMLSchema, report: RunReport
) -> None:
    schema.validate(render(report, Format.JUNIT))


def test_the_xsd_rejects_what_strict_viewers_reject(schema: xmlschema.XMLSchema) -> None:
    # Proves the schema is not a rubber stamp: an unknown attribute and a misplaced element fail.
    assert not schema.is_valid('<testsuites skipped="1"/>')
    assert not schema.is_valid('<testsuite name="p" tests="1"><failure/></testsuite>')


def _parse(tmp_path: Path, report: RunReport) -> junitparser.JUnitXml:
    path = tmp_path / "report.xml"
    path.write_text(render(report, Format.JUNIT), encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    assert isinstance(xml, junitparser.JUnitXml)
    return xml


def test_a_junit_parser_reads_back_suites_cases_and_counts(tmp_path: Path) -> None:
    report = full_report()
    xml = _parse(tmp_path, report)
    suites = list(xml)
    assert [suite.name for suite in suites] == [p.project_id for p in report.projects]
    for suite, project in zip(suites, report.projects, strict=True):
        cases = list(suite)
        assert len(cases) == len(project.changes) + len(project.checks) == suite.tests
        assert all(case.classname == project.project_id for case in cases)
        failures = sum(isinstance(r, junitparser.Failure) for c in cases for r in c.result)
        skipped = sum(isinstance(r, junitparser.Skipped) for c in cases for r in c.result)
        assert (suite.failures, suite.skipped, suite.errors) == (failures, skipped, 0)
    # 5 failures: a failed billing check, a needs-a-person model check, a failed smoke test, and
    # (an audit) the two pending checks of demo-new: a finding is a failure outside plan.
    root = ET.fromstring(render(report, Format.JUNIT))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("31", "5", "0")


def test_failures_carry_cause_remedy_and_detail(tmp_path: Path) -> None:
    suite = {s.name: s for s in _parse(tmp_path, full_report())}["demo-closed-billing"]
    case = {c.name: c for c in suite}["billing"]
    (failure,) = case.result
    assert isinstance(failure, junitparser.Failure)
    assert failure.type == "BILLING_ACCOUNT_CLOSED"
    assert failure.message == "billingAccounts/0000AA-CLOSED is closed."
    assert failure.text is not None
    assert "cause: BILLING_ACCOUNT_CLOSED" in failure.text
    assert "remedy: Link an open account" in failure.text
    assert "HTTP 400 FAILED_PRECONDITION" in failure.text
    assert case.time == pytest.approx(0.027)


def test_action_required_is_a_failure_ci_notices(tmp_path: Path) -> None:
    suite = {s.name: s for s in _parse(tmp_path, full_report())}["demo-terms"]
    case = {c.name: c for c in suite}["model:gpt-oss-120b@us-central1"]
    (failure,) = case.result
    assert isinstance(failure, junitparser.Failure)
    assert failure.type == "ACTION_REQUIRED"
    assert failure.text is not None and "cause: MODEL_NOT_ENABLED" in failure.text


def test_changes_are_cases_named_after_action_and_target(tmp_path: Path) -> None:
    suite = {s.name: s for s in _parse(tmp_path, full_report())}["demo-new"]
    case = {c.name: c for c in suite}["change:create_project projects/demo-new"]
    (skipped,) = case.result
    assert isinstance(skipped, junitparser.Skipped)
    assert skipped.text == "will change: The project does not exist."


def test_smoke_metrics_travel_in_system_out(tmp_path: Path) -> None:
    suite = {s.name: s for s in _parse(tmp_path, full_report())}["demo-ready"]
    case = {c.name: c for c in suite}["smoke:gpt-oss-120b@us-central1"]
    assert case.is_passed
    assert case.system_out is not None and "ttft_ms=41.7" in case.system_out


def _one_check_report(command: str, status: CheckStatus) -> RunReport:
    check = CheckReport(name="services", status=status, detail="Project p: services.")
    project = ProjectReport(project_id="p", status=ProjectStatus.CHANGES, checks=(check,))
    return RunReport(
        command=command, started_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC), duration_s=0.1,
        exit_code=2, projects=(project,),
    )  # fmt: skip


@pytest.mark.parametrize("status", list(CheckStatus))
@pytest.mark.parametrize("command", ["plan", "apply", "audit", "smoke"])
def test_every_not_ok_check_is_a_failure_except_turned_off_and_plan_pending(
    command: str, status: CheckStatus
) -> None:
    """Skipped means turned off by the user; only a plan's pending work (and what waits on it)
    may stay skipped, so CI dashboards never show green for a finding."""
    case = ET.fromstring(render(_one_check_report(command, status), Format.JUNIT)).find(
        ".//testcase"
    )
    assert case is not None
    kinds = {child.tag for child in case} & {"failure", "skipped"}
    if status in (CheckStatus.OK, CheckStatus.CHANGED, CheckStatus.WARNING):
        assert kinds == set()
    elif status is CheckStatus.SKIPPED or (
        command == "plan"
        and status
        in (
            CheckStatus.PENDING,
            CheckStatus.PROPAGATING,
            CheckStatus.NOT_RUN,
        )
    ):
        assert kinds == {"skipped"}
    else:
        assert kinds == {"failure"}, (command, status)
