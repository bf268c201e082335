"""Cases 26-42 (reliability-notes §5, Service Usage and long-running operations) through the CLI.

Operations, propagation lags and backoff run on the emulator's virtual clock, which the CLI's
FastForwardClock moves; the journal's `time` field is that clock, so intervals are asserted
from it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.faults.faults_support import (
    ACCOUNT,
    AIPLATFORM,
    BILLING_NOT_FOUND,
    MODEL,
    PRECONDITION,
    PROCUREMENT,
    UNAVAILABLE,
    Harness,
    WorldEdit,
    envelope,
    error_info,
    respond,
    retry_info,
    rule,
    times,
)

Manifest = Callable[[str], str]
T_SU = "type.googleapis.com/google.api.serviceusage.v1."

APIS = f"""\
version: 1
projects:
  - project_id: demo-api-disabled
    billing_account: {ACCOUNT}
    link_billing: true
    models: [{{model: gpt-oss-120b, locations: [global], enable: true}}]
"""
FRESH = APIS.replace("demo-api-disabled", "demo-no-billing")
ENABLE = r"services(:batchEnable|/[^/]+:enable)$"
POLL = r"^/v1/operations/"


def first_target(run: Any) -> list[int]:
    """The statuses of every send of the first enable request (batch or single)."""
    sent = run.sent(ENABLE)
    return [e["status"] for e in sent if e["path"] == sent[0]["path"]]


def assert_each_enabled_once(run: Any) -> None:
    """Each enable request (whether the tool batches or not) was answered 2xx exactly once."""
    ok = Counter(e["path"] for e in run.sent(ENABLE) if 200 <= e["status"] < 300)
    assert ok and set(ok.values()) == {1}, ok


def slow(**timing: float) -> Callable[[dict[str, Any]], None]:
    def edit(w: dict[str, Any]) -> None:
        w["timing"].update(timing)

    return edit


def test_case_26_enabled_services_get_no_enable(cli: Harness, manifest: Manifest) -> None:
    run = cli("apply", manifest(APIS.replace("demo-api-disabled", "demo-ready")), "--yes")
    assert run.exit_code == 0, run.output
    assert run.sent(r":(batchEnable|enable)$") == []


def test_case_27_done_noop_operation_is_never_polled(
    cli: Harness, manifest: Manifest, emulator: Emulator, world: WorldEdit
) -> None:
    world(slow(operation_polls=0))
    noop = {"name": "operations/noop.DONE_OPERATION", "done": True}
    batch = {**noop, "response": {"@type": T_SU + "BatchEnableServicesResponse", "services": []}}
    single = {**noop, "response": {"@type": T_SU + "EnableServiceResponse", "service": {}}}
    emulator.add_faults(
        {
            "rules": [
                respond(r":batchEnable$", 200, batch, phase="after"),
                respond(r"services/[^/]+:enable$", 200, single, phase="after", times=-1),
            ]
        }
    )
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert run.sent(POLL) == [], "a done operation is not polled"


def test_case_28_operation_polls_follow_the_policy(
    cli: Harness, manifest: Manifest, world: WorldEdit
) -> None:
    world(slow(operation_polls=5))
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    # Both APIs' operations are polled together, round by round: follow one of them.
    enables = run.sent(ENABLE)
    polls = run.sent(POLL)
    one_operation = [e for e in polls if e["path"] == polls[0]["path"]]
    moments = times([enables[-1], *one_operation])
    gaps = [b - a for a, b in itertools.pairwise(moments)]
    assert len(gaps) == 5
    for gap, expected in zip(gaps, [2.0, 3.0, 4.5, 6.75, 10.125], strict=True):
        assert expected <= gap < expected + 0.5, gaps


def test_case_29_operation_that_never_finishes_is_reported_and_the_rerun_does_not_resubmit(
    cli: Harness, manifest: Manifest, emulator: Emulator, world: WorldEdit
) -> None:
    """Differs by design: no run journal keeps the operation's name. The timeout names it; the
    rerun re-reads the services, finds the operation's work done, and sends no second enable."""
    world(slow(operation_polls=-1))
    path = manifest(APIS)
    first = cli("apply", path, "--yes", "--no-smoke")
    assert first.exit_code == 1
    check = first.check("demo-api-disabled", "services")
    assert check["cause"] == "OPERATION_TIMEOUT"
    assert "still pending: operations/acat." in check["detail"] and "rerun" in check["detail"]
    assert len(first.sent(ENABLE)) == 2  # one services.enable per API, nothing resubmitted
    # Google finishes the operation between the runs.
    current = emulator.get_world()
    for op in current["operations"]:
        op["polls_needed"] = 0
    current["timing"]["operation_polls"] = 1
    emulator.put_world(current)
    emulator.advance(31)
    second = cli("apply", path, "--yes", "--no-smoke")
    assert second.exit_code == 0, second.output
    sent_first = {e["path"] for e in first.sent(ENABLE)}
    again = [e for e in second.sent(ENABLE) if e["path"] in sent_first]
    assert again == [], "the rerun resumes from the state, not by resubmitting"


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        ({"error": {"code": 9, "message": "Simulated: quota group locked"}}, "quota group locked"),
        ({}, "unexpected LRO state"),
    ],
    ids=["case-30-done-with-error", "case-31-done-with-nothing"],
)
def test_case_30_31_done_operations_without_a_response_fail_without_resubmitting(
    cli: Harness, manifest: Manifest, emulator: Emulator, done: dict[str, Any], expected: str
) -> None:
    body = {"name": "operations/acat.p2-100000000003-x", "done": True, **done}
    emulator.add_faults({"rules": [respond(POLL, 200, body, method="GET")]})
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 1
    check = run.check("demo-api-disabled", "services")
    assert check["cause"] == "OPERATION_FAILED"
    assert expected in check["detail"]
    paths = [e["path"] for e in run.sent(ENABLE)]
    assert len(paths) == len(set(paths)) == 2, "no automatic resubmit"


def test_case_32_operation_poll_503_is_retried_apart_from_polling(
    cli: Harness, manifest: Manifest, emulator: Emulator, world: WorldEdit
) -> None:
    world(slow(operation_polls=2))
    emulator.add_faults({"rules": [respond(POLL, 503, UNAVAILABLE, times=2)]})
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert [e["status"] for e in run.sent(POLL)][:3] == [503, 503, 200]
    assert_each_enabled_once(run)


def test_case_33_billing_not_found_on_enable_says_link_billing_and_is_not_retried(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    emulator.add_faults({"rules": [respond(ENABLE, 400, BILLING_NOT_FOUND)]})
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 1
    check = run.check("demo-api-disabled", "services")
    assert check["cause"] == "BILLING_REQUIRED_TO_ENABLE"
    assert "billing" in check["remedy"].lower()
    assert len(run.sent(ENABLE)) == 1


def test_case_34_billing_not_found_right_after_this_run_linked_is_waited_out(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    emulator.add_faults({"rules": [respond(ENABLE, 400, BILLING_NOT_FOUND, times=2)]})
    run = cli("apply", manifest(FRESH), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert first_target(run) == [400, 400, 200]
    assert_each_enabled_once(run)


@pytest.mark.parametrize(
    "body",
    [
        envelope(
            400,
            "FAILED_PRECONDITION",
            "Another activation or deactivation is in progress for service(s) "
            f"'{AIPLATFORM}'. Please retry later.",
        ),
        PRECONDITION,
    ],
    ids=["case-35-activation-in-progress", "case-36-precondition-check-failed"],
)
def test_case_35_36_transient_enable_refusals_are_retried_once_logically(
    cli: Harness, manifest: Manifest, emulator: Emulator, body: dict[str, Any]
) -> None:
    emulator.add_faults({"rules": [respond(ENABLE, 400, body, times=2)]})
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert first_target(run) == [400, 400, 200]
    assert_each_enabled_once(run)


def test_case_36_precondition_retries_are_bounded(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    emulator.add_faults({"rules": [respond(ENABLE, 400, PRECONDITION, times=-1)]})
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 1
    assert 2 <= len(run.sent(ENABLE)) <= 12, "bounded by the call deadline"


def test_case_37_disabled_reads_after_a_done_operation_are_waited_out(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    # Reads 1-2 are the preview's and the run's observations; the next three lag behind.
    emulator.add_faults(
        {"rules": [respond(r"services:batchGet$", 200, {}, method="GET", after=2, times=3)]}
    )
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert emulator.faults()["rules"][0]["remaining"] == 0
    assert run.check("demo-api-disabled", "services")["status"] == "changed"
    assert_each_enabled_once(run)


def test_case_38_service_disabled_after_this_run_enabled_is_waited_out(
    cli: Harness, manifest: Manifest, world: WorldEdit
) -> None:
    world(slow(service_propagation_s=120))
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    chats = run.sent(r"/chat/completions$")
    assert sum(e["status"] == 403 for e in chats) >= 2, "the lag was seen and waited out"
    assert run.check("demo-api-disabled", "model:gpt-oss-120b@global")["status"] == "changed"


@pytest.mark.diverges("smoke only: nothing enables the API")
def test_case_38_service_disabled_not_enabled_by_this_run_fails_at_once(
    cli: Harness, manifest: Manifest
) -> None:
    run = cli("smoke", manifest(APIS))
    assert run.exit_code == 1
    check = run.check("demo-api-disabled", "smoke:gpt-oss-120b@global")
    assert check["cause"] == "SERVICE_DISABLED"
    # Explained from the project's state (billing on, the API off): the command that enables it.
    assert "gcloud services enable aiplatform.googleapis.com" in check["remedy"]
    assert "--project=demo-api-disabled" in check["remedy"]
    assert len(run.sent(r"/chat/completions$")) == 1, "no waiting for a change nobody made"


def _many_projects(count: int) -> Callable[[dict[str, Any]], None]:
    def edit(w: dict[str, Any]) -> None:
        for index in range(count):
            w["projects"].append(
                {
                    "project_id": f"storm-{index:02d}",
                    "number": f"2000000000{index:02d}",
                    "parent": "folders/345678901234",
                    "billing_account": ACCOUNT,
                }
            )

    return edit


def test_case_39_service_usage_429_storm_is_paced(
    cli: Harness, manifest: Manifest, emulator: Emulator, world: WorldEdit
) -> None:
    world(_many_projects(15))
    storm = envelope(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Mutate requests' and limit 'Mutate requests per minute'.",
        error_info(
            "RATE_LIMIT_EXCEEDED",
            quota_metric="serviceusage.googleapis.com/mutate_requests",
            quota_limit="MutateRequestsPerMinutePerProject",
            quota_limit_value="60",
        ),
        retry_info("2s"),
    )
    emulator.add_faults({"rules": [respond(ENABLE, 429, storm, times=10)]})
    path = manifest(
        "version: 1\nprojects:\n"
        + "".join(f"  - project_id: storm-{i:02d}\n" for i in range(15))
        + "defaults: {models: [{model: gpt-oss-120b, locations: [global], enable: true}]}\n"
    )
    run = cli("apply", path, "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    sent = run.sent(ENABLE)
    assert_each_enabled_once(run)
    assert sum(e["status"] == 429 for e in sent) == 10
    moments = times(sent)
    minutes = (moments[-1] - moments[0]) / 60.0
    weight = sum(5 if e["path"].endswith(":batchEnable") else 1 for e in sent)
    # A batchEnable weighs 5: one minute's burst, then at most 60 writes per minute.
    assert weight <= 60 * (minutes + 1) + 5, (weight, minutes)


def test_case_40_twenty_five_services_are_split_twenty_and_five(
    cli: Harness, manifest: Manifest, world: WorldEdit
) -> None:
    extra = [f"svc{index:02d}.googleapis.com" for index in range(23)]

    def catalog(w: dict[str, Any]) -> None:
        w["services"] += [{"name": s, "title": s, "requires_billing": False} for s in extra]

    world(catalog)
    path = manifest(APIS.rstrip() + "\n    services: [" + ", ".join(extra) + "]\n")
    run = cli("apply", path, "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert len(run.sent(ENABLE)) == 2, "20 + 5, never one batch of 25"
    after = next(p for p in run.after["projects"] if p["project_id"] == "demo-api-disabled")
    assert set(after["services"]) >= {*extra, AIPLATFORM, PROCUREMENT}


def test_case_41_504_on_a_service_read_is_retried(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    timeout = envelope(504, "DEADLINE_EXCEEDED", "Gateway timeout")
    emulator.add_faults({"rules": [respond(r"services:batchGet$", 504, timeout, times=2)]})
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert [e["status"] for e in run.sent(r"services:batchGet$")][:3] == [504, 504, 200]


@pytest.mark.parametrize(
    "fault",
    [
        rule(r"services:batchGet$", method="GET", action="reset"),
        rule(r"services:batchGet$", method="GET", status=200, body='{"services": [{"na'),
        rule(ENABLE, action="reset"),
        rule(ENABLE, action="reset", phase="after"),
        rule(ENABLE, status=200, body='{"name": "operations/acat.p2-', phase="after"),
    ],
    ids=[
        "read-reset",
        "read-truncated-json",
        "enable-reset-before",
        "enable-reset-after",
        "enable-truncated-after",
    ],
)
def test_case_42_reset_or_truncated_body_is_retried_and_mutations_reread_first(
    cli: Harness, manifest: Manifest, emulator: Emulator, fault: dict[str, Any]
) -> None:
    emulator.add_faults({"rules": [fault]})
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert emulator.faults()["rules"][0]["remaining"] == 0
    assert run.report is not None and run.report["summary"]["retries"] >= 1
    # The invariants check the rest: a re-read before every re-send, and after a lost answer
    # no second effective enable (a re-send may only meet "Another activation ... in progress").
    assert_each_enabled_once(run)


def test_case_26_model_already_enabled_behind_disabled_apis_gets_no_enable_model(
    cli: Harness, manifest: Manifest, world: WorldEdit
) -> None:
    """While the APIs are off the probe cannot tell whether the model is enabled (BLOCKED):
    once they are on, the model is probed before any enableModel is sent."""

    def model_on(w: dict[str, Any]) -> None:
        for project in w["projects"]:
            if project["project_id"] == "demo-api-disabled":
                project["models"] = [MODEL]

    world(model_on)
    run = cli("apply", manifest(APIS), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert run.sent(r":enableModel$") == []
