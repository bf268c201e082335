"""The JSON report: exactly `to_json()`, valid against docs/report.schema.json, and readable back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bootstrap.checks import CheckStatus
from bootstrap.errors import BootstrapError, Cause
from bootstrap.plan.model import Action, ChangeOutcome
from bootstrap.report.json_report import report_from_json
from bootstrap.report.model import (
    ChangeReport,
    CheckReport,
    ProjectReport,
    ProjectStatus,
    RunReport,
)
from bootstrap.report.render import Format, render, write_report
from tests.report.report_samples import empty_report, full_report

SCHEMA_PATH = Path(__file__).parents[2] / "docs" / "report.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_json_is_exactly_to_json() -> None:
    report = full_report()
    assert json.loads(render(report, Format.JSON)) == report.to_json()


def _standard(report: RunReport) -> str:
    """The text the report promises: the standard library's indented JSON of `to_json()`."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("copies", [0, 1, 300], ids=["no projects", "one write", "many writes"])
def test_json_written_as_it_is_encoded_is_the_standard_indented_text(copies: int) -> None:
    """The streamed form (stdout, --output, a project at a time) is byte for byte the standard
    library's `indent=2` text, and so is the rendered one."""
    report = dataclasses.replace(full_report(), projects=full_report().projects * copies)
    stream = io.StringIO()
    write_report(report, Format.JSON, stream)
    assert stream.getvalue() == _standard(report) == render(report, Format.JSON)


@pytest.mark.parametrize("report", [full_report(), empty_report()], ids=["full", "empty"])
def test_reports_are_valid_against_the_schema(
    validator: jsonschema.Draft202012Validator, report: RunReport
) -> None:
    validator.validate(json.loads(render(report, Format.JSON)))


def test_schema_enums_are_the_codes_enums() -> None:
    defs = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["$defs"]
    assert defs["project"]["properties"]["status"]["enum"] == [s.value for s in ProjectStatus]
    assert defs["check"]["properties"]["status"]["enum"] == [s.value for s in CheckStatus]
    assert defs["check"]["properties"]["cause"]["enum"] == [None, *[c.value for c in Cause]]
    assert defs["change"]["properties"]["action"]["enum"] == [a.value for a in Action]
    assert defs["change"]["properties"]["outcome"]["enum"] == [o.value for o in ChangeOutcome]


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("projects", 0, "status"), "great"),
        (("projects", 0, "checks", 0, "status"), "fine"),
        (("projects", 0, "checks", 0, "surprise"), 1),
        (("summary", "ok"), -1),
        (("started_at",), "2026-01-02T03:04:05+01:00"),
        (("schema_version",), 3),
    ],
)
def test_the_schema_is_strict(
    validator: jsonschema.Draft202012Validator, path: tuple[str | int, ...], value: Any
) -> None:
    data = full_report().to_json()
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not validator.is_valid(data)


# Any report the model can hold, with values already at JSON precision so it round-trips.
_text = st.text(st.characters(codec="utf-8"), max_size=20)
_metric = st.one_of(st.integers(0, 10**6), st.floats(0, 1e6).map(lambda x: round(x, 3)), _text)
_metrics = st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), _metric, max_size=3)
_checks = st.builds(
    CheckReport,
    name=st.sampled_from(["project", "billing", "services", "permissions", "smoke:m@l"]),
    status=st.sampled_from(CheckStatus),
    cause=st.none() | st.sampled_from([c.value for c in Cause]),
    remedy=_text,
    duration_ms=st.integers(0, 10**7).map(lambda n: n / 10),
    detail=_text,
    metrics=_metrics,
)
_changes = st.builds(
    ChangeReport,
    action=st.sampled_from([a.value for a in Action]),
    target=_text,
    reason=_text,
    outcome=st.sampled_from(ChangeOutcome),
)
_projects = st.builds(
    ProjectReport,
    project_id=st.from_regex(r"[a-z][a-z0-9-]{5,29}", fullmatch=True),
    status=st.sampled_from(ProjectStatus),
    changes=st.lists(_changes, max_size=3).map(tuple),
    checks=st.lists(_checks, max_size=4).map(tuple),
)
_reports = st.builds(
    RunReport,
    command=st.sampled_from(["plan", "apply", "audit", "smoke", "demo"]),
    started_at=st.datetimes(min_value=dt.datetime(2000, 1, 1), timezones=st.just(dt.UTC)).map(
        lambda t: t.replace(microsecond=0)
    ),
    duration_s=st.integers(0, 10**7).map(lambda n: n / 1000),
    exit_code=st.sampled_from([0, 1, 2, 3, 130]),
    projects=st.lists(_projects, max_size=3).map(tuple),
    warnings=st.lists(_text, max_size=2).map(tuple),
    metrics=st.dictionaries(st.sampled_from(["retries", "gate_wait_ms"]), _metric, max_size=2),
)


@settings(max_examples=60, deadline=None)
@given(report=_reports)
def test_any_report_is_valid_and_round_trips(report: RunReport) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    data = json.loads(render(report, Format.JSON))
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    assert report_from_json(data) == report
    assert RunReport.from_json(data).to_json() == data
    assert render(report, Format.JSON) == _standard(report)


def test_full_report_round_trips_through_text() -> None:
    data = json.loads(render(full_report(), Format.JSON))
    assert report_from_json(data).to_json() == data


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "is a JSON list, not an object"),
        ({"schema_version": 1}, "has no 'started_at' field"),
        ({**full_report().to_json(), "schema_version": 9}, "schema_version 9 is not one of (1, 2)"),
        ({**full_report().to_json(), "started_at": "yesterday"}, "is malformed"),
    ],
)
def test_malformed_input_is_a_sentence_naming_the_file(data: Any, says: str) -> None:
    with pytest.raises(BootstrapError) as raised:
        report_from_json(data, source="shard-2.json")
    assert raised.value.failure.cause is Cause.INVALID_INPUT
    assert "shard-2.json" in str(raised.value) and says in str(raised.value)
