"""Faults from the emulator's rules: 429 with RetryInfo, 503 bursts, resets, lost answers, 401.

Time moves through the virtual clock (which advances the emulator's clock too), never slept.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bootstrap.clock import VirtualClock
from bootstrap.cloud.observed import ServiceState
from bootstrap.emulator.inprocess import Emulator
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.auth import EmulatorCredentials
from bootstrap.gcp.client import GcpCloud
from bootstrap.gcp.client import GcpCloud as GcpCloudClass
from bootstrap.gcp.settings import settings_from_env

OPEN = "012345-6789AB-CDEF01"
SERVICES = ["aiplatform.googleapis.com", "cloudcommerceconsumerprocurement.googleapis.com"]


def google_error(code: int, status: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    return {"error": {"code": code, "status": status, "message": message, "details": list(details)}}


def rate_limit_body(delay: str, limit: str | None = None) -> dict[str, Any]:
    metadata = {"quota_limit_value": limit, "quota_limit": "ReadRequestsPerMinutePerProject"}
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "RATE_LIMIT_EXCEEDED",
        "domain": "googleapis.com",
        "metadata": metadata if limit else {},
    }
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
    return google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded", info, retry)


def rule(method: str, path: str, **fields: Any) -> dict[str, Any]:
    return {"match": {"method": method, "path": path}, **fields}


def calls(emulator: Emulator, method: str, fragment: str) -> list[dict[str, Any]]:
    return [e for e in emulator.journal() if e["method"] == method and fragment in e["path"]]


def test_429_with_retry_info_waits_at_least_the_delay(
    cloud: GcpCloud, emulator: Emulator, clock: VirtualClock
) -> None:
    body = rate_limit_body("7s", limit="120")
    emulator.add_faults(
        {"rules": [rule("GET", "services:batchGet", times=1, status=429, body=body)]}
    )
    states = cloud.get_services("demo-ready", SERVICES)
    assert states == dict.fromkeys(SERVICES, ServiceState.ENABLED)
    assert len(calls(emulator, "GET", "services:batchGet")) == 2
    assert clock.slept and clock.slept[0] >= 7
    assert cloud.stats.rate_limited == 1 and cloud.stats.retries == 1
    # The 429 named its limit (120/min): the bucket now paces at 2/s.
    assert cloud.limiter.rate("serviceusage.read") == pytest.approx(2.0)


def test_429_asking_for_more_than_the_deadline_fails_fast(
    cloud: GcpCloud, emulator: Emulator, clock: VirtualClock
) -> None:
    body = rate_limit_body("300s")
    emulator.add_faults({"rules": [rule("GET", "billingInfo", times=1, status=429, body=body)]})
    with pytest.raises(BootstrapError) as info:
        cloud.get_billing("demo-ready")
    assert info.value.failure.cause is Cause.RATE_LIMITED
    assert "retry after 300 s" in info.value.failure.message
    assert clock.slept == []


def test_503_burst_is_retried(cloud: GcpCloud, emulator: Emulator, clock: VirtualClock) -> None:
    body = google_error(503, "UNAVAILABLE", "The service is currently unavailable.")
    emulator.add_faults({"rules": [rule("GET", "billingInfo", times=3, status=503, body=body)]})
    assert cloud.get_billing("demo-ready").enabled
    assert len(calls(emulator, "GET", "billingInfo")) == 4
    assert cloud.stats.retries == 3 and len(clock.slept) == 3


def test_connection_reset_on_a_read_is_retried(cloud: GcpCloud, emulator: Emulator) -> None:
    emulator.add_faults({"rules": [rule("GET", "/v3/projects/demo-ready", action="reset")]})
    assert cloud.get_project("demo-ready").number == "100000000001"
    assert cloud.stats.requests["resourcemanager.projects.get"] == 2
    assert cloud.stats.retries == 1


def test_lost_link_answer_is_reread_not_resent(
    cloud: GcpCloud, emulator: Emulator, clock: VirtualClock
) -> None:
    emulator.add_faults(
        {"rules": [rule("PUT", "billingInfo", phase="after", action="reset", times=1)]}
    )
    linked = cloud.link_billing("demo-no-billing", OPEN)
    assert linked.account == OPEN and linked.enabled
    journal = [(e["method"], e["path"]) for e in emulator.journal()]
    # The emulator shows the old link for 1 s (billing propagation): the re-reads (after the
    # backoff, then 3 s apart) wait until it shows, and nothing is sent again.
    assert journal[0] == ("PUT", "/v1/projects/demo-no-billing/billingInfo")
    assert [m for m, _ in journal].count("PUT") == 1
    assert set(journal[1:]) == {("GET", "/v1/projects/demo-no-billing/billingInfo")}


def test_link_resent_only_when_the_rereads_show_nothing(
    cloud: GcpCloud, emulator: Emulator
) -> None:
    # Reset before the server acted: the change was not made, so after the re-reads it is sent again.
    emulator.add_faults({"rules": [rule("PUT", "billingInfo", action="reset", times=1)]})
    assert cloud.link_billing("demo-no-billing", OPEN).account == OPEN
    methods = [e["method"] for e in emulator.journal()]
    assert methods == ["PUT", "GET", "GET", "GET", "PUT"]


def test_lost_enable_answer_is_reread_not_resent(
    cloud: GcpCloud, emulator: Emulator, clock: VirtualClock
) -> None:
    # Operations that finish with time (1 s), as real ones do: the answer naming it is lost.
    world = emulator.get_world()
    world["timing"].update(operation_polls=0, operation_seconds=1, service_propagation_s=0)
    emulator.put_world(world)
    emulator.add_faults(
        {"rules": [rule("POST", ":enable$", phase="after", action="reset", times=1)]}
    )
    outcome = cloud.enable_services("demo-api-disabled", ["aiplatform.googleapis.com"])
    assert outcome.names == ()  # known done by re-reading, not from the lost operation
    assert len(calls(emulator, "POST", ":enable")) == 1
    assert len(calls(emulator, "GET", "services:batchGet")) == 2
    assert cloud.get_services("demo-api-disabled", ["aiplatform.googleapis.com"]) == {
        "aiplatform.googleapis.com": ServiceState.ENABLED
    }


def test_activation_in_progress_is_waited_out(cloud: GcpCloud, emulator: Emulator) -> None:
    body = google_error(
        400, "FAILED_PRECONDITION", "Another activation or deactivation is in progress."
    )
    emulator.add_faults(
        {
            "rules": [
                rule("POST", "aiplatform.googleapis.com:enable", times=2, status=400, body=body)
            ]
        }
    )
    outcome = cloud.enable_services("demo-api-disabled", SERVICES)
    assert len(outcome.names) == 2
    assert len(calls(emulator, "POST", "aiplatform.googleapis.com:enable")) == 3


def test_401_refreshes_the_credentials_once(cloud: GcpCloud, emulator: Emulator) -> None:
    body = google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    emulator.add_faults({"rules": [rule("GET", "/v3/projects/demo-ready", status=401, body=body)]})
    assert cloud.get_project("demo-ready").number == "100000000001"
    assert cloud.stats.requests["resourcemanager.projects.get"] == 2


def test_a_second_401_is_unauthenticated(cloud: GcpCloud, emulator: Emulator) -> None:
    body = google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
    emulator.add_faults({"rules": [rule("GET", "billingInfo", status=401, body=body, times=-1)]})
    with pytest.raises(BootstrapError) as info:
        cloud.get_billing("demo-ready")
    assert info.value.failure.cause is Cause.UNAUTHENTICATED
    assert cloud.stats.requests["cloudbilling.projects.getBillingInfo"] == 2


KEY_PATH = "/home/alice/.config/gcloud/legacy_credentials/alice@example.com/adc.json"


class KeyFileCredentials(EmulatorCredentials):
    """Emulator credentials that, like a user's ADC, report the file they came from."""

    def get_cred_info(self) -> dict[str, str]:
        return {
            "credential_source": KEY_PATH,
            "credential_type": "user credentials",
            "principal": "alice@example.com",
        }


def test_credential_source_is_redacted(emulator: Emulator, clock: VirtualClock) -> None:
    settings = settings_from_env(env={"BOOTSTRAP_EMULATOR_HOST": emulator.host}, clock=clock)
    cloud = GcpCloudClass(settings, KeyFileCredentials("emulator-owner"))
    body = google_error(403, "PERMISSION_DENIED", "The caller does not have permission")
    # The GAPIC get_operation mixins append credential info to 401/403/404 errors.
    emulator.add_faults({"rules": [rule("GET", "/v1/operations/", status=403, body=body)]})
    with pytest.raises(BootstrapError) as info:
        cloud.enable_services("demo-api-disabled", SERVICES)
    # GAPIC did append the credential info to the google exception ...
    assert KEY_PATH in json.dumps(list(info.value.__cause__.details), default=str)  # type: ignore[union-attr]
    # ... and none of it reaches the failure.
    failure = info.value.failure
    rendered = " ".join([str(info.value), failure.message, failure.remedy, repr(failure.metadata)])
    assert KEY_PATH not in rendered and "adc.json" not in rendered


def test_operation_with_several_polls(
    cloud: GcpCloud, emulator: Emulator, clock: VirtualClock
) -> None:
    world = emulator.get_world()
    world["timing"]["operation_polls"] = 4
    emulator.put_world(world)
    outcome = cloud.enable_services("demo-api-disabled", SERVICES)
    # Two APIs: two services.enable sent together, their operations polled on one schedule.
    assert len(outcome.names) == 2
    assert outcome.polls == 8
    assert clock.slept == [2, 3, 4.5, 6.75]
    assert outcome.duration_s == pytest.approx(16.25)


def test_operation_that_never_finishes_times_out_naming_it(
    emulator: Emulator, clock: VirtualClock
) -> None:
    world = emulator.get_world()
    world["timing"]["operation_polls"] = -1  # never completes
    emulator.put_world(world)
    settings = settings_from_env(
        env={"BOOTSTRAP_EMULATOR_HOST": emulator.host}, clock=clock, operation_deadline_s=60
    )
    cloud = GcpCloudClass(settings, EmulatorCredentials("emulator-owner"))
    with pytest.raises(BootstrapError) as info:
        cloud.enable_services("demo-api-disabled", SERVICES)
    failure = info.value.failure
    assert failure.cause is Cause.OPERATION_TIMEOUT
    assert "still pending: operations/" in failure.message
