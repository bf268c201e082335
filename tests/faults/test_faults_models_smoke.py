"""Cases 43-53 and 58 (reliability-notes §5: Model Garden terms, the smoke test, plan read-only,
Retry-After in the past) through the CLI against the emulator.

The EULA cases (43-45) map onto our enablement: a MaaS model is enabled with enableModel, which
accepts the publisher's terms, and only when the manifest says `enable: true` (our
`--accept-eula`). The smoke test's stream deadline is real time (`smoke_test.timeout_s`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.faults.faults_support import (
    ACCOUNT,
    UNAVAILABLE,
    Harness,
    WorldEdit,
    envelope,
    respond,
    rule,
    times,
)

Manifest = Callable[[str], str]
CHAT = r"/chat/completions$"
ENABLE_MODEL = r":enableModel$"

MODEL_OFF = """\
version: 1
projects:
  - project_id: demo-model-off
    models: [{model: gpt-oss-120b, locations: [global], enable: ENABLE}]
"""
READY = """\
version: 1
smoke_test: {timeout_s: TIMEOUT}
projects:
  - project_id: demo-ready
    models: [{model: gpt-oss-120b, locations: [global]}]
"""


def ready(timeout_s: float = 10) -> str:
    return READY.replace("TIMEOUT", str(timeout_s))


def smoke_check(run: Any, project: str = "demo-ready") -> dict[str, Any]:
    return run.check(project, "smoke:gpt-oss-120b@global")


@pytest.mark.diverges("enable: false leaves the model to a person")
def test_case_43_45_model_not_enabled_without_enable_true_is_a_persons_action(
    cli: Harness, manifest: Manifest
) -> None:
    """Our `enable: true` is the note's `--accept-eula`: without it the plan says a person must
    enable the model (accepting the terms) and no enableModel is ever sent."""
    path = manifest(MODEL_OFF.replace("ENABLE", "false"))
    plan = cli("plan", path)
    assert plan.exit_code == 3
    check = plan.check("demo-model-off", "model:gpt-oss-120b@global")
    assert check["status"] == "action_required" and check["cause"] == "MODEL_NOT_ENABLED"
    assert "console.cloud.google.com" in check["remedy"]
    apply = cli("apply", path, "--yes")
    assert apply.exit_code == 3
    assert apply.sent(ENABLE_MODEL) == []


@pytest.mark.diverges("the faked enableModel answer changed nothing")
def test_case_43_enable_model_answer_without_state_is_not_taken_as_success(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    """The note's `acked` omitted: an enableModel answer that says nothing (and changed nothing)
    is not success: the tool proves enablement by probing and reports what the probe saw."""
    emulator.add_faults({"rules": [respond(ENABLE_MODEL, 200, {})]})
    run = cli("apply", manifest(MODEL_OFF.replace("ENABLE", "true")), "--yes", "--no-smoke")
    assert run.exit_code != 0
    check = run.check("demo-model-off", "model:gpt-oss-120b@global")
    assert check["status"] not in ("ok", "changed")
    assert len(run.sent(ENABLE_MODEL)) == 1


@pytest.mark.diverges("the caller lacks consumerprocurement.consents.grant")
def test_case_44_enable_model_permission_missing_names_the_permission(
    cli: Harness, manifest: Manifest, world: WorldEdit
) -> None:
    def deployer(w: dict[str, Any]) -> None:
        w["principals"].append(
            {
                "email": "deployer@example.iam.gserviceaccount.com",
                "tokens": ["deployer"],
                "grants": {
                    "projects/demo-model-off": [
                        "resourcemanager.projects.get",
                        "serviceusage.services.get",
                        "serviceusage.services.list",
                        "aiplatform.endpoints.predict",
                    ]
                },
            }
        )

    world(deployer)
    path = manifest(MODEL_OFF.replace("ENABLE", "true"))
    # The permission is unverified (evidence row 18): the preflight only warns, enableModel is
    # sent, and the service's refusal (here the emulator's IAM denial) decides.
    planned = cli("plan", path, token="deployer")
    warning = planned.check("demo-model-off", "permissions")
    assert warning["status"] == "warning" and "unverified" in warning["detail"]
    run = cli("apply", path, "--yes", "--no-smoke", token="deployer")
    assert run.exit_code == 1
    assert len(run.sent(ENABLE_MODEL)) >= 1
    check = run.check("demo-model-off", "change:enable_model")
    assert "consumerprocurement.consents.grant" in check["detail"]
    assert "roles/consumerprocurement.entitlementManager" in check["detail"] + check["remedy"]


@pytest.mark.diverges("the model is withdrawn from the location")
def test_case_44_model_not_offered_is_told_apart_from_permission(
    cli: Harness, manifest: Manifest, world: WorldEdit
) -> None:
    def withdraw(w: dict[str, Any]) -> None:
        for offer in w["models"]:
            if offer["name"].endswith("gpt-oss-120b-maas"):
                offer["locations"] = ["us-central1"]

    world(withdraw)
    run = cli("apply", manifest(MODEL_OFF.replace("ENABLE", "true")), "--yes", "--no-smoke")
    assert run.exit_code == 1
    check = run.check("demo-model-off", "model:gpt-oss-120b@global")
    # Told apart from a missing permission (the previous test): the model is not there.
    assert check["cause"] in ("MODEL_NOT_OFFERED_IN_LOCATION", "MODEL_NOT_FOUND_OR_NO_ACCESS")
    assert "not found" in check["detail"].lower() or "not offered" in check["detail"].lower()
    assert run.sent(ENABLE_MODEL) == []


def test_case_46_chat_429_with_retry_after_then_passes(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    """The smoke test's retry waits the asked 2 s on the command's clock (fast-forwarded here)."""
    body = envelope(429, "RESOURCE_EXHAUSTED", "Resource exhausted, please try again later.")
    emulator.add_faults(
        {"rules": [respond(CHAT, 429, body, headers={"Retry-After": "2"}, method="POST")]}
    )
    run = cli("smoke", manifest(ready()))
    assert run.exit_code == 0, run.output
    assert smoke_check(run)["status"] == "ok"
    chats = run.sent(CHAT)
    assert [e["status"] for e in chats] == [429, 200]
    first, second = times(chats)
    assert second - first >= 2.0, "retried before Retry-After allowed"


def test_case_47_chat_429_asking_300_s_fails_fast(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    body = envelope(429, "RESOURCE_EXHAUSTED", "Resource exhausted, please try again later.")
    emulator.add_faults(
        {"rules": [respond(CHAT, 429, body, headers={"Retry-After": "300"}, method="POST")]}
    )
    run = cli("smoke", manifest(ready()))
    assert run.exit_code == 1
    check = smoke_check(run)
    assert check["cause"] == "RATE_LIMITED"
    assert "300" in check["detail"]
    assert len(run.sent(CHAT)) == 1, "no hang, no retry"


@pytest.mark.parametrize(
    ("fault", "cause", "text"),
    [
        (rule(CHAT, action="sse_break_after", events=3), "STREAM_INTERRUPTED", "dropped"),
        (
            rule(CHAT, action="sse_error_after", events=3, body={"error": {"message": "boom"}}),
            "STREAM_INTERRUPTED",
            "boom",
        ),
        (rule(CHAT, action="sse_no_done", events=3), "STREAM_INCOMPLETE", "[DONE]"),
    ],
    ids=["case-48-stream-breaks", "case-49-error-event", "case-52-no-done"],
)
def test_case_48_49_52_broken_streams_fail_with_the_partial_output(
    cli: Harness,
    manifest: Manifest,
    emulator: Emulator,
    fault: dict[str, Any],
    cause: str,
    text: str,
) -> None:
    path = manifest(
        ready().rstrip()
        + "\n  - project_id: demo-model-off\n"
        + "    models: [{model: gpt-oss-120b, locations: [global], enable: true}]\n"
    )
    # demo-model-off gets enabled first; the fault then hits whichever stream comes first.
    assert cli("apply", path, "--yes", "--no-smoke").exit_code == 0
    emulator.add_faults({"rules": [fault]})
    run = cli("smoke", path)
    assert run.exit_code == 1
    checks = [smoke_check(run, p) for p in ("demo-ready", "demo-model-off")]
    failed = [c for c in checks if c["status"] == "failed"]
    assert len(failed) == 1, "the other project's result is preserved"
    assert failed[0]["cause"] == cause and text in failed[0]["detail"]
    assert [c["status"] for c in checks if c is not failed[0]] == ["ok"]
    assert len(run.sent(CHAT)) == 2, "a broken stream is not retried"


def test_case_50_stalled_stream_fails_within_the_deadline(
    cli: Harness, manifest: Manifest, emulator: Emulator
) -> None:
    """Real time: a stream with no bytes fails at smoke_test.timeout_s (1 s), not the SDK's 600."""
    emulator.add_faults({"rules": [rule(CHAT, action="stall", delay_ms=0)]})
    run = cli("smoke", manifest(ready(timeout_s=1)))
    assert run.exit_code == 1
    check = smoke_check(run)
    assert check["cause"] == "TIMEOUT"
    assert check["duration_ms"] < 3000


@pytest.mark.parametrize("times", [1, -1], ids=["once-refreshed", "always-unauthenticated"])
def test_case_51_401_on_chat_gets_one_refresh(
    cli: Harness, manifest: Manifest, emulator: Emulator, times: int
) -> None:
    body = envelope(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    emulator.add_faults({"rules": [respond(CHAT, 401, body, times=times)]})
    run = cli("smoke", manifest(ready()))
    statuses = [e["status"] for e in run.sent(CHAT)]
    if times == 1:
        assert run.exit_code == 0, run.output
        assert statuses == [401, 200]
    else:
        assert run.exit_code == 1
        assert smoke_check(run)["cause"] == "UNAUTHENTICATED"
        assert statuses == [401, 401], "one refresh, one retry, then the error"


@pytest.mark.diverges("plan only")
def test_case_53_default_run_is_read_only(cli: Harness, manifest: Manifest) -> None:
    path = manifest(
        f"""\
        version: 1
        projects:
          - project_id: demo-no-billing
            billing_account: {ACCOUNT}
            link_billing: true
            models: [{{model: gpt-oss-120b, locations: [global], enable: true}}]
        """
    )
    run = cli("plan", path)
    assert run.exit_code == 2
    assert "will change" in run.stdout
    assert run.mutations() == []
    for entry in run.journal:
        assert entry["method"] == "GET" or entry["path"].endswith(
            (":testIamPermissions", "/chat/completions")
        ), entry


@pytest.mark.parametrize(
    "retry_after", ["Wed, 21 Oct 2015 07:28:00 GMT", "-30"], ids=["date-in-the-past", "negative"]
)
def test_case_58_retry_after_in_the_past_is_no_wait(
    cli: Harness, manifest: Manifest, emulator: Emulator, retry_after: str
) -> None:
    emulator.add_faults(
        {
            "rules": [
                respond(
                    r"/billingInfo$",
                    503,
                    UNAVAILABLE,
                    method="PUT",
                    headers={"Retry-After": retry_after},
                )
            ]
        }
    )
    path = manifest(
        f"""\
        version: 1
        projects:
          - project_id: demo-no-billing
            billing_account: {ACCOUNT}
            link_billing: true
        """
    )
    run = cli("apply", path, "--yes", "--no-smoke")
    assert run.exit_code == 0, run.output
    assert [e["status"] for e in run.sent(r"/billingInfo$", "PUT")] == [503, 200]
