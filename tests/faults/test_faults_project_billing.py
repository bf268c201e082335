"""Cases 11-25 (reliability-notes §5, project & IAM, billing) through the CLI against the emulator.

Every test's runs are checked against the journal invariants when it ends (conftest), and unless
marked `diverges` the manifest is shown to converge on a fault-free rerun.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bootstrap.clock import VirtualClock
from bootstrap.emulator.inprocess import Emulator
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.client import connect
from bootstrap.gcp.settings import settings_from_env
from tests.faults.faults_support import (
    ACCOUNT,
    BILLING_QUOTA,
    CLOSED_ACCOUNT,
    UNAVAILABLE,
    Harness,
    WorldEdit,
    envelope,
    error_info,
    rate_limited,
    respond,
    rule,
    service_disabled,
    times,
)

Manifest = Callable[[str], str]

LINK = f"""\
version: 1
projects:
  - project_id: demo-no-billing
    billing_account: {ACCOUNT}
    link_billing: true
"""
FULL = f"""\
version: 1
projects:
  - project_id: {{project}}
    billing_account: {ACCOUNT}
    link_billing: true
    models: [{{{{model: gpt-oss-120b, locations: [global], enable: true}}}}]
"""


def full(project: str) -> str:
    return FULL.format(project=project)


def links(run: Any) -> list[dict[str, Any]]:
    return run.sent(r"/billingInfo$", "PUT")


def limited_principal(w: dict[str, Any], grants: dict[str, list[str]]) -> None:
    w["principals"].append(
        {
            "email": "deployer@example.iam.gserviceaccount.com",
            "tokens": ["deployer"],
            "grants": grants,
        }
    )


# ------------------------------------------------------------------------- project & IAM


@pytest.mark.diverges("the project does not exist")
def test_case_11_project_get_403_is_not_found_or_forbidden_without_retries(
    cli: Harness, manifest: Manifest
) -> None:
    path = manifest(full("nobody-made-this"))
    run = cli("apply", path, "--yes", "--no-smoke")
    assert run.exit_code == 1
    check = run.check("nobody-made-this", "project")
    assert check["cause"] == "PROJECT_NOT_FOUND_OR_FORBIDDEN"
    assert "roles/browser" in check["remedy"] and "does not exist" in check["detail"]
    # apply observes twice (the preview, then the run): one read each, the 403 never retried
    assert len(run.sent(r"^/v3/projects/nobody-made-this$", "GET")) == 2
    assert run.mutations() == []


@pytest.mark.diverges("a project pending deletion is never touched")
def test_case_12_project_pending_deletion_stops_every_step(
    cli: Harness, manifest: Manifest
) -> None:
    run = cli("apply", manifest(full("demo-deleting")), "--yes", "--no-smoke")
    assert run.exit_code == 1
    assert run.check("demo-deleting", "project")["cause"] == "PROJECT_DELETE_REQUESTED"
    assert "pending deletion" in run.check("demo-deleting", "project")["detail"].lower() or (
        "delete" in run.check("demo-deleting", "project")["detail"].lower()
    )
    assert run.mutations() == []


@pytest.mark.diverges("the caller lacks serviceusage.services.enable")
def test_case_13_missing_permission_is_listed_and_nothing_is_sent(
    cli: Harness, manifest: Manifest, world: WorldEdit
) -> None:
    world(
        lambda w: limited_principal(
            w,
            {
                "projects/demo-api-disabled": [
                    "resourcemanager.projects.get",
                    "serviceusage.services.get",
                    "serviceusage.services.list",
                    "aiplatform.endpoints.predict",
                    "consumerprocurement.consents.grant",
                ],
                f"billingAccounts/{ACCOUNT}": ["*"],
            },
        )
    )
    run = cli("apply", manifest(full("demo-api-disabled")), "--yes", "--no-smoke", token="deployer")
    assert run.exit_code == 1
    check = run.check("demo-api-disabled", "permissions")
    text = check["detail"] + check["remedy"]
    assert "serviceusage.services.enable" in text
    assert "roles/serviceusage.serviceUsageAdmin" in text
    assert run.mutations() == [], "zero mutating calls"


@pytest.mark.diverges("the preflight denies everything")
def test_case_14_empty_preflight_means_missing_or_no_access(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    emulator.add_faults(
        {"rules": [respond(r"demo-api-disabled:testIamPermissions$", 200, {}, times=-1)]}
    )
    run = cli("apply", manifest(full("demo-api-disabled")), "--yes", "--no-smoke")
    assert run.exit_code == 1
    detail = run.check("demo-api-disabled", "permissions")["detail"]
    assert "granted none of the permissions" in detail
    # The project was read, so the caller has a role there: say what it lacks, not "no role".
    assert "the caller can read the project" in detail and "no role" not in detail
    assert run.mutations() == []


@pytest.mark.diverges("the caller cannot link to the billing account")
def test_case_15_billing_account_permission_missing_leaves_the_project_untouched(
    cli: Harness, manifest: Manifest, world: WorldEdit
) -> None:
    world(lambda w: limited_principal(w, {"projects/demo-no-billing": ["*"]}))
    run = cli("apply", manifest(full("demo-no-billing")), "--yes", "--no-smoke", token="deployer")
    assert run.exit_code == 1
    check = run.check("demo-no-billing", "permissions")
    text = check["detail"] + check["remedy"]
    assert "billing.resourceAssociations.create" in text
    assert "roles/billing.user" in text and f"billingAccounts/{ACCOUNT}" in text
    assert run.mutations() == [], "the project is never touched"


def test_case_16_permission_that_appears_later_is_picked_up_by_a_rerun(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    """Differs by design: the tool never grants IAM roles, so there is no propagation window of
    its own to wait out. A preflight that denies is reported with the missing permission (nothing
    is sent), and the next run, after the grant has propagated, converges."""
    path = manifest(full("demo-api-disabled"))
    emulator.add_faults(
        {
            "rules": [
                respond(
                    r"demo-api-disabled:testIamPermissions$",
                    200,
                    {"permissions": ["resourcemanager.projects.get"]},
                    times=3,
                )
            ]
        }
    )
    first = cli("apply", path, "--yes", "--no-smoke")
    assert first.exit_code == 1
    assert (
        "serviceusage.services.enable" in first.check("demo-api-disabled", "permissions")["detail"]
    )
    assert first.mutations() == []
    emulator.clear_faults()
    second = cli("apply", path, "--yes", "--no-smoke")
    assert second.exit_code == 0, second.output


# ------------------------------------------------------------------------------- billing


def test_case_17_already_linked_sends_no_link(cli: Harness, manifest: Manifest) -> None:
    run = cli("apply", manifest(full("demo-ready")), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert links(run) == [] and run.mutations() == []


def test_case_18_linked_elsewhere_is_never_relinked_without_the_flag(
    cli: Harness, manifest: Manifest, world: WorldEdit
) -> None:
    other = "0A0A0A-0A0A0A-0A0A0A"

    def add_account(w: dict[str, Any]) -> None:
        w["billing_accounts"].append(
            {"id": other, "display_name": "other", "open": True, "link_quota": 100}
        )

    world(add_account)
    path = manifest(full("demo-ready").replace(ACCOUNT, other))
    refused = cli("apply", path, "--yes", "--no-smoke")
    assert refused.exit_code != 0
    check = refused.check("demo-ready", "billing")
    assert check["cause"] == "BILLING_LINKED_ELSEWHERE"
    assert "--allow-relink" in check["remedy"] + check["detail"]
    assert links(refused) == []
    moved = cli("apply", path, "--yes", "--no-smoke", "--allow-relink")
    assert moved.exit_code == 0, moved.output
    assert len(links(moved)) == 1


@pytest.mark.diverges("the account is closed")
def test_case_19_closed_account_is_refused_without_a_call(cli: Harness, manifest: Manifest) -> None:
    run = cli("apply", manifest(full("demo-no-billing").replace(ACCOUNT, CLOSED_ACCOUNT)), "--yes")
    assert run.exit_code == 1
    check = run.check("demo-no-billing", "billing")
    assert check["cause"] == "BILLING_ACCOUNT_CLOSED"
    assert "closed" in check["detail"].lower()
    assert run.mutations() == []


def test_case_20_an_empty_account_is_refused_before_any_request(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    path = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-no-billing
            billing_account: ''
            link_billing: true
        """
    )
    run = cli("plan", path)
    assert run.exit_code == 1 and run.journal == []
    # Below the manifest, the cloud layer guards too: nothing reaches the wire.
    clock = VirtualClock(on_advance=emulator.advance)
    cloud = connect(settings_from_env(env={"BOOTSTRAP_EMULATOR_HOST": emulator.host}, clock=clock))
    start = len(emulator.journal())
    try:
        with pytest.raises(BootstrapError) as raised:
            cloud.link_billing("demo-no-billing", "  ")
    finally:
        cloud.close()
    assert raised.value.failure.cause is Cause.INVALID_INPUT
    assert "unlink" in raised.value.failure.message
    assert emulator.journal()[start:] == []


def test_case_21_billing_quota_exceeded_is_not_retried(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    emulator.add_faults({"rules": [respond(r"/billingInfo$", 400, BILLING_QUOTA, method="PUT")]})
    run = cli("apply", manifest(LINK), "--yes", "--no-smoke")
    assert run.exit_code == 1
    check = run.check("demo-no-billing", "billing")
    assert check["cause"] == "BILLING_QUOTA_EXCEEDED"
    assert "support.google.com" in check["remedy"] or "quota" in check["remedy"].lower()
    assert len(links(run)) == 1, "a quota failure is not retried"


def test_case_22_update_billing_503_twice_then_ok(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    emulator.add_faults(
        {"rules": [respond(r"/billingInfo$", 503, UNAVAILABLE, method="PUT", times=2)]}
    )
    run = cli("apply", manifest(LINK), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    sent = links(run)
    assert [e["status"] for e in sent] == [503, 503, 200]
    gaps = [b - a for a, b in zip(times(sent), times(sent)[1:], strict=False)]
    assert all(gap > 0 for gap in gaps), f"no backoff between attempts: {gaps}"
    assert run.report is not None and run.report["summary"]["retries"] >= 2


def test_case_23_stale_billing_reads_after_the_link_are_waited_out(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    stale = {
        "name": "projects/demo-no-billing/billingInfo",
        "projectId": "demo-no-billing",
        "billingAccountName": "",
        "billingEnabled": False,
    }
    # The first read is the observation; the two after the link still show the old state.
    emulator.add_faults(
        {"rules": [respond(r"/billingInfo$", 200, stale, method="GET", after=1, times=2)]}
    )
    run = cli("apply", manifest(LINK), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert emulator.faults()["rules"][0]["remaining"] == 0
    assert len(links(run)) == 1, "never re-PUT because a read lagged"


def test_case_24_billing_429_retry_info_is_honoured(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    emulator.add_faults(
        {"rules": [respond(r"/billingInfo$", 429, rate_limited("7s"), method="PUT")]}
    )
    run = cli("apply", manifest(LINK), "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    first, second = times(links(run))
    assert second - first >= 7.0, f"retried after {second - first:.2f} s"


@pytest.mark.diverges("the quota project has the Billing API disabled")
def test_case_25_billing_api_disabled_in_the_quota_project_names_it(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    body = service_disabled("cloudbilling.googleapis.com", "quota-holder")
    emulator.add_faults({"rules": [respond(r"/billingInfo$", 403, body, times=-1)]})
    run = cli("plan", manifest(LINK), "--quota-project", "quota-holder")
    assert run.exit_code == 1
    # The billing read failed: the billing check is unknown (not "off"), with the read's cause.
    unknown = [c for c in run.project("demo-no-billing")["checks"] if c["status"] == "unknown"]
    text = " ".join(c["detail"] + " " + c["remedy"] for c in unknown)
    assert "quota-holder" in text and "cloudbilling.googleapis.com" in text


def test_case_25_quota_failure_without_retry_info_is_not_rate_limited(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    """A 429 whose reason is not a rate limit (a daily quota) is not retried (policy §1.8.2)."""
    body = envelope(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Daily writes'.",
        error_info("RESOURCE_EXHAUSTED_DAILY", quota_limit="WritesPerDay"),
    )
    emulator.add_faults({"rules": [rule(r"/billingInfo$", method="PUT", status=429, body=body)]})
    run = cli("apply", manifest(LINK), "--yes", "--no-smoke")
    assert run.exit_code == 1
    assert len(links(run)) == 1
