"""plan and apply end to end: the CLI against the emulator's default world over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bootstrap.emulator.inprocess import Emulator
from tests.e2e.e2e_support import Invoke, mutations

FRESH = """\
version: 1
defaults:
  billing_account: 012345-6789AB-CDEF01
  parent: folders/345678901234
  labels: {team: ml}
  link_billing: true
  models:
    - model: gpt-oss-120b
      locations: [global]  # Google lists global only (evidence row 20)
      enable: true
projects:
  - project_id: demo-no-billing
  - project_id: demo-api-disabled
  - project_id: demo-new
    create: true
    display_name: Demo new
"""


def test_fresh_projects_converge_in_one_apply_and_stay_converged(
    invoke: Invoke, manifest: Callable[[str], str], emulator: Emulator
) -> None:
    path = manifest(FRESH)
    first = invoke("apply", path, "--yes", "--no-smoke")
    assert first.exit_code == 0, first.stdout + first.stderr
    assert first.report is not None
    assert {p["status"] for p in first.report["projects"]} == {"ok"}
    created = first.project("demo-new")
    assert [c["outcome"] for c in created["changes"]] == ["applied"] * 4
    assert first.check("demo-no-billing", "billing")["status"] == "changed"

    emulator.clear_journal()
    plan = invoke("plan", path)
    assert plan.exit_code == 0, plan.stdout
    assert mutations(emulator) == []
    again = invoke("apply", path, "--yes", "--no-smoke")
    assert again.exit_code == 0
    assert mutations(emulator) == [], "a converged apply must not send any change"


def test_apply_sends_each_change_once(
    invoke: Invoke, manifest: Callable[[str], str], emulator: Emulator
) -> None:
    invoke("apply", manifest(FRESH), "--yes", "--no-smoke")
    sent = [(e["method"], e["path"]) for e in mutations(emulator)]
    links = [path for method, path in sent if path.endswith("/billingInfo")]
    assert sorted(links) == sorted(
        ["/v1/projects/demo-no-billing/billingInfo", "/v1/projects/demo-new/billingInfo"]
    )
    enables = [
        path for _, path in sent if path.endswith(":batchEnable") or path.endswith(":enable")
    ]
    # Two APIs per project: two services.enable (2 writes of quota) beat a batch (5 writes).
    assert len(enables) == 6
    assert not any(path.endswith(":batchEnable") for path in enables)
    models = [path for _, path in sent if path.endswith(":enableModel")]
    assert len(models) == 3


def test_demo_world_plan_reports_every_kind_of_outcome(invoke: Invoke, emulator: Emulator) -> None:
    run = invoke("plan", "manifests/demo.yaml")
    assert run.exit_code == 1  # a closed account and a project pending deletion are errors
    assert run.report is not None
    status = {p["project_id"]: p["status"] for p in run.report["projects"]}
    assert status["demo-ready"] == "ok"
    assert status["demo-no-billing"] == "changes"
    assert status["demo-api-disabled"] == "changes"
    assert status["demo-new"] == "changes"
    assert status["demo-model-off"] == "action_required"
    assert status["demo-deleting"] == "failed"
    assert run.check("demo-deleting", "project")["cause"] == "PROJECT_DELETE_REQUESTED"
    model_off = run.check("demo-model-off", "model:gpt-oss-120b@global")
    assert model_off["cause"] == "MODEL_NOT_ENABLED"
    assert "console.cloud.google.com" in model_off["remedy"]
    assert mutations(emulator) == [], "plan must never write"


def test_plan_exit_codes_follow_precedence(invoke: Invoke, manifest: Callable[[str], str]) -> None:
    ready = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-ready
            models: [{model: gpt-oss-120b, locations: [global]}]
        """
    )
    assert invoke("plan", ready).exit_code == 0
    person = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-model-off
            models: [{model: gpt-oss-120b, locations: [global]}]
        """
    )
    assert invoke("plan", person).exit_code == 3
    changes = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-api-disabled
            models: [{model: gpt-oss-120b, locations: [global], enable: true}]
        """
    )
    assert invoke("plan", changes).exit_code == 2


def test_missing_project_with_and_without_create(
    invoke: Invoke, manifest: Callable[[str], str], emulator: Emulator
) -> None:
    path = manifest(
        """\
        version: 1
        defaults:
          billing_account: 012345-6789AB-CDEF01
          parent: folders/345678901234
          models: [{model: gpt-oss-120b, locations: [global], enable: true}]
        projects:
          - project_id: nobody-made-this
          - project_id: please-make-this
            create: true
            link_billing: true
        """
    )
    run = invoke("apply", path, "--yes", "--no-smoke")
    assert run.exit_code == 1
    assert run.check("nobody-made-this", "project")["cause"] == "PROJECT_NOT_FOUND_OR_FORBIDDEN"
    assert run.project("please-make-this")["status"] == "ok"
    created = [e for e in mutations(emulator) if e["path"] == "/v3/projects"]
    assert len(created) == 1


def test_closed_account_and_relink_are_never_done_silently(
    invoke: Invoke, manifest: Callable[[str], str], emulator: Emulator
) -> None:
    path = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-closed-billing
            link_billing: true
            billing_account: 0FEDCB-A98765-432101
            models: [{model: gpt-oss-120b, locations: [global], enable: true}]
          - project_id: demo-api-disabled
            link_billing: true
            billing_account: 0FEDCB-A98765-432101
            models: [{model: gpt-oss-120b, locations: [global], enable: true}]
        """
    )
    run = invoke("apply", path, "--yes", "--no-smoke")
    assert run.exit_code == 1
    assert run.check("demo-closed-billing", "billing")["cause"] == "BILLING_ACCOUNT_CLOSED"
    assert run.check("demo-api-disabled", "billing")["cause"] in (
        "BILLING_ACCOUNT_CLOSED",
        "BILLING_LINKED_ELSEWHERE",
    )
    assert not [e for e in mutations(emulator) if e["path"].endswith("billingInfo")]


def test_enable_false_leaves_the_model_to_a_person(
    invoke: Invoke, manifest: Callable[[str], str], emulator: Emulator
) -> None:
    path = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-model-off
            models: [{model: gpt-oss-120b, locations: [global]}]
        """
    )
    run = invoke("apply", path, "--yes", "--no-smoke")
    assert run.exit_code == 3
    check = run.check("demo-model-off", "model:gpt-oss-120b@global")
    assert check["status"] == "action_required"
    assert ":enableModel" in check["remedy"] or "console" in check["remedy"]
    assert mutations(emulator) == []


def test_offer_changes_are_told_apart(
    invoke: Invoke,
    manifest: Callable[[str], str],
    world: Callable[[Callable[[dict[str, Any]], None]], None],
) -> None:
    def withdraw(w: dict[str, Any]) -> None:
        for offer in w["models"]:
            if offer["name"].endswith("gpt-oss-120b-maas"):
                offer["locations"] = ["global"]

    world(withdraw)
    path = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-ready
            models: [{model: gpt-oss-120b, locations: [global, us-central1]}]
        """
    )
    run = invoke("plan", path)
    assert run.check("demo-ready", "model:gpt-oss-120b@global")["status"] == "ok"
    regional = run.check("demo-ready", "model:gpt-oss-120b@us-central1")
    assert regional["status"] == "failed"
    assert regional["cause"] == "MODEL_NOT_OFFERED_IN_LOCATION"


def test_model_retired_early_by_the_service(
    invoke: Invoke,
    manifest: Callable[[str], str],
    world: Callable[[Callable[[dict[str, Any]], None]], None],
) -> None:
    def retire(w: dict[str, Any]) -> None:
        for offer in w["models"]:
            if offer["name"].endswith("gpt-oss-120b-maas"):
                offer["retired_on"] = "2026-11-01"

    world(retire)
    path = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-ready
            models: [{model: gpt-oss-120b, locations: [global]}]
        """
    )
    run = invoke("plan", path)
    assert run.exit_code == 1
    check = run.check("demo-ready", "model:gpt-oss-120b@global")
    assert check["status"] == "failed"
    assert check["cause"] in ("MODEL_RETIRED", "MODEL_NOT_FOUND_OR_NO_ACCESS")


def test_missing_permission_on_one_project_blocks_only_that_change(
    invoke: Invoke,
    manifest: Callable[[str], str],
    world: Callable[[Callable[[dict[str, Any]], None]], None],
    emulator: Emulator,
) -> None:
    def limited(w: dict[str, Any]) -> None:
        w["principals"].append(
            {
                "email": "deployer@example.iam.gserviceaccount.com",
                "tokens": ["deployer-token"],
                "grants": {
                    "projects/demo-no-billing": ["*"],
                    "billingAccounts/012345-6789AB-CDEF01": ["*"],
                    "projects/demo-api-disabled": [
                        "resourcemanager.projects.get",
                        "serviceusage.services.get",
                        "serviceusage.services.list",
                        "aiplatform.endpoints.predict",
                    ],
                },
            }
        )

    world(limited)
    path = manifest(
        """\
        version: 1
        defaults:
          billing_account: 012345-6789AB-CDEF01
          link_billing: true
          models: [{model: gpt-oss-120b, locations: [global], enable: true}]
        projects:
          - project_id: demo-api-disabled
          - project_id: demo-no-billing
        """
    )
    run = invoke("apply", path, "--yes", "--no-smoke", token="deployer-token")
    assert run.exit_code == 1
    blocked = run.check("demo-api-disabled", "permissions")
    assert blocked["status"] == "failed"
    assert "serviceusage.services.enable" in blocked["detail"] + blocked["remedy"]
    assert "roles/serviceusage.serviceUsageAdmin" in blocked["detail"] + blocked["remedy"]
    assert run.project("demo-no-billing")["status"] == "ok"
    touched = {e["path"].split("/")[3] for e in mutations(emulator) if "/projects/" in e["path"]}
    assert "demo-api-disabled" not in touched
