"""JUnit XML for CI viewers: one testsuite per project, one testcase per check and per change.

Mapping (kept to what the Jenkins/Ant JUnit schema allows, so every common viewer loads it):

- check  -> testcase name=<check name>, classname=<project id>, time=duration_ms / 1000
- change -> testcase name="change:<action> <target>" (the target keeps two changes of one
  action apart), classname=<project id>, time=0 (changes are not timed one by one)
- a check that did not pass   -> <failure type=CAUSE (or the status)>, in every command; the one
  exception is plan, whose pending, propagating and not-run checks stay <skipped> (nothing
  ran yet, and its exit code 2 says so). The status rule is `bootstrap.checks.junit_element`.
- a check turned off (--no-smoke, a --check not given) -> <skipped>
- failed change -> <failure type=CHANGE_FAILED>; planned or not attempted change -> <skipped>
- warning check               -> passes, with the warning in <system-out>
- smoke metrics               -> "key=value" lines in <system-out>

The failure text holds cause, remedy and detail, one per line. `errors` is always 0: a check that
could not run is a recorded failure with a cause, not a crash of the test.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from bootstrap.checks import CheckStatus, junit_element
from bootstrap.plan.model import ChangeOutcome
from bootstrap.report import display
from bootstrap.report.model import ChangeReport, CheckReport, ProjectReport, RunReport


@dataclass(frozen=True, slots=True)
class _Counts:
    tests: int = 0
    failures: int = 0
    skipped: int = 0

    def __add__(self, other: _Counts) -> _Counts:
        return _Counts(
            self.tests + other.tests, self.failures + other.failures, self.skipped + other.skipped
        )


def render_junit(report: RunReport) -> str:
    root = ET.Element("testsuites", {"name": f"bootstrap {report.command}"})
    total = _Counts()
    timestamp = report.started_at.strftime("%Y-%m-%dT%H:%M:%S")
    for project in report.projects:
        suite, counts = _suite(project, timestamp, planning=report.command == "plan")
        root.append(suite)
        total += counts
    root.set("tests", str(total.tests))
    root.set("failures", str(total.failures))
    root.set("errors", "0")
    root.set("time", _seconds(report.duration_s))
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _suite(project: ProjectReport, timestamp: str, *, planning: bool) -> tuple[ET.Element, _Counts]:
    suite = ET.Element("testsuite", {"name": project.project_id})
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "status", "value": project.status.value})
    counts = _Counts()
    for change in project.changes:
        counts += _append(suite, _change_case(project.project_id, change))
    for check in project.checks:
        counts += _append(suite, _check_case(project.project_id, check, planning=planning))
    seconds = sum(check.duration_ms for check in project.checks) / 1000
    suite.attrib.update(
        {
            "tests": str(counts.tests),
            "failures": str(counts.failures),
            "errors": "0",
            "skipped": str(counts.skipped),
            "time": _seconds(seconds),
            "timestamp": timestamp,
        }
    )
    return suite, counts


def _append(suite: ET.Element, case: ET.Element) -> _Counts:
    suite.append(case)
    return _Counts(
        tests=1,
        failures=int(case.find("failure") is not None),
        skipped=int(case.find("skipped") is not None),
    )


def _check_case(project_id: str, check: CheckReport, *, planning: bool) -> ET.Element:
    case = _case(check.name, project_id, check.duration_ms / 1000)
    status = check.status
    element = junit_element(status, planning=planning)
    if element == "failure":
        # A person's action is typed as such, so CI can tell "act" from "broken".
        needs_person = status is CheckStatus.ACTION_REQUIRED
        _fail(case, "ACTION_REQUIRED" if needs_person else check.cause or status.name, check)
    elif element == "skipped":
        _skip(case, _message(check, display.check_shown(check).value))
    out = _metrics_text(check)
    if status is CheckStatus.WARNING:
        out = "\n".join(part for part in (_failure_text(check), out) if part)
    if out:
        ET.SubElement(case, "system-out").text = out
    return case


def _change_case(project_id: str, change: ChangeReport) -> ET.Element:
    case = _case(f"change:{change.action} {change.target}", project_id, 0.0)
    text = change.reason
    if change.outcome is ChangeOutcome.FAILED:
        failure = ET.SubElement(case, "failure", {"message": text or "change failed"})
        failure.set("type", "CHANGE_FAILED")
        failure.text = text
    elif change.outcome is ChangeOutcome.SKIPPED:
        _skip(case, f"not attempted: {text}" if text else "not attempted")
    elif change.outcome is ChangeOutcome.PLANNED:
        _skip(case, f"will change: {text}" if text else "will change")
    return case


def _case(name: str, classname: str, seconds: float) -> ET.Element:
    return ET.Element("testcase", {"name": name, "classname": classname, "time": _seconds(seconds)})


def _fail(case: ET.Element, kind: str, check: CheckReport) -> None:
    failure = ET.SubElement(case, "failure", {"message": _message(check, kind), "type": kind})
    failure.text = _failure_text(check)


def _skip(case: ET.Element, message: str) -> None:
    # The reason is the element's text, not a `message` attribute: the Jenkins/Ant schema
    # (junit-4.xsd) types <skipped> as a plain string, and the strictest readers follow it.
    ET.SubElement(case, "skipped").text = message


def _message(check: CheckReport, fallback: str) -> str:
    """One line for the viewer's list: the detail's first line, else the cause, else a word."""
    return display.first_line(check.detail) or check.cause or fallback


def _failure_text(check: CheckReport) -> str:
    lines = []
    if check.cause:
        lines.append(f"cause: {check.cause}")
    if check.remedy:
        lines.append(f"remedy: {check.remedy}")
    if check.detail:
        lines.append(f"detail: {check.detail}")
    return "\n".join(lines)


def _metrics_text(check: CheckReport) -> str:
    return "\n".join(f"{key}={value}" for key, value in sorted(check.metrics.items()))


def _seconds(seconds: float) -> str:
    return f"{seconds:.3f}"
