"""Every Cloud method against the emulator's default world, over real HTTP with the official clients."""

from __future__ import annotations

import pytest
import requests
from google.cloud.service_usage_v1.services.service_usage.transports import (
    ServiceUsageRestTransport,
)

from bootstrap.clock import VirtualClock
from bootstrap.cloud.observed import ModelAccess, ProjectState, ServiceState
from bootstrap.emulator.inprocess import Emulator
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.client import GcpCloud, connect
from bootstrap.gcp.settings import settings_from_env

OPEN = "012345-6789AB-CDEF01"
CLOSED = "0FEDCB-A98765-432101"
FOLDER = "folders/345678901234"
SERVICES = ["aiplatform.googleapis.com", "cloudcommerceconsumerprocurement.googleapis.com"]
GPT_120B = "openai/gpt-oss-120b-maas"
PUBLISHER_120B = "publishers/openai/models/gpt-oss-120b-maas"


def mutations(emulator: Emulator) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["mutating"]]


def pool_size(session: requests.Session, url: str) -> int:
    """The connection pool size of the adapter `session` uses for `url`."""
    adapter = session.get_adapter(url)
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    return adapter.poolmanager.connection_pool_kw["maxsize"]


def test_get_project(cloud: GcpCloud) -> None:
    ready = cloud.get_project("demo-ready")
    assert ready.state is ProjectState.ACTIVE and ready.number == "100000000001"
    assert ready.parent == FOLDER and ready.labels == {"team": "ml"}
    assert cloud.get_project("demo-deleting").state is ProjectState.DELETE_REQUESTED
    assert cloud.get_project("no-such-project").state is ProjectState.NOT_FOUND


def test_search_projects_under_a_folder(cloud: GcpCloud) -> None:
    found = {p.project_id for p in cloud.search_projects(parent=FOLDER)}
    assert {"demo-ready", "demo-no-billing", "demo-deleting"} <= found


def test_billing_reads(cloud: GcpCloud) -> None:
    ready = cloud.get_billing("demo-ready")
    assert ready.account == OPEN and ready.enabled
    none = cloud.get_billing("demo-no-billing")
    assert none.account is None and not none.enabled
    closed = cloud.get_billing("demo-closed-billing")
    assert closed.account == CLOSED and not closed.enabled
    assert cloud.get_billing_account(OPEN).open
    assert not cloud.get_billing_account(f"billingAccounts/{CLOSED}").open


def test_services_in_one_batch_get(cloud: GcpCloud, emulator: Emulator) -> None:
    assert cloud.get_services("demo-ready", SERVICES) == dict.fromkeys(
        SERVICES, ServiceState.ENABLED
    )
    assert cloud.get_services("demo-api-disabled", SERVICES) == dict.fromkeys(
        SERVICES, ServiceState.DISABLED
    )
    assert cloud.stats.requests == {"serviceusage.services.batchGet": 2}


def test_permission_tests(cloud: GcpCloud) -> None:
    wanted = ["resourcemanager.projects.get", "serviceusage.services.enable"]
    assert cloud.test_project_permissions("demo-ready", wanted) == frozenset(wanted)
    create = ["resourcemanager.projects.create"]
    assert cloud.test_parent_permissions(FOLDER, create) == frozenset(create)
    assert cloud.test_parent_permissions("organizations/123456789012", create) == frozenset(create)
    link = ["billing.resourceAssociations.create"]
    assert cloud.test_billing_permissions(OPEN, link) == frozenset(link)


def test_viewer_lacks_write_permissions(emulator: Emulator, clock: VirtualClock) -> None:
    settings = settings_from_env(
        env={
            "BOOTSTRAP_EMULATOR_HOST": emulator.host,
            "BOOTSTRAP_EMULATOR_TOKEN": "emulator-viewer",
        },
        clock=clock,
    )
    viewer = connect(settings)
    held = viewer.test_project_permissions(
        "demo-ready", ["resourcemanager.projects.get", "serviceusage.services.enable"]
    )
    assert held == frozenset({"resourcemanager.projects.get"})
    assert viewer.test_billing_permissions(OPEN, ["billing.resourceAssociations.create"]) == set()


def test_publisher_model(cloud: GcpCloud) -> None:
    model = cloud.get_publisher_model(PUBLISHER_120B)
    assert model is not None and model.name == PUBLISHER_120B and model.launch_stage == "GA"
    assert cloud.get_publisher_model("publishers/openai/models/no-such-model") is None


@pytest.mark.parametrize(
    ("project", "location", "model", "access", "cause"),
    [
        ("demo-ready", "global", GPT_120B, ModelAccess.ENABLED, None),
        ("demo-model-off", "global", GPT_120B, ModelAccess.NOT_ENABLED, Cause.MODEL_NOT_ENABLED),
        ("demo-api-disabled", "global", GPT_120B, ModelAccess.BLOCKED, Cause.SERVICE_DISABLED),
        ("demo-ready", "europe-west4", GPT_120B, ModelAccess.NOT_OFFERED, None),
        ("demo-ready", "us-central1", "openai/gpt-oss-20b-maas", ModelAccess.RETIRED, None),
    ],
)
def test_probe_model(
    cloud: GcpCloud,
    project: str,
    location: str,
    model: str,
    access: ModelAccess,
    cause: Cause | None,
) -> None:
    result = cloud.probe_model(project, location, model)
    assert result.access is access
    if access is ModelAccess.ENABLED:
        assert result.failure is None
    else:
        assert result.failure is not None
        if cause is not None:
            assert result.failure.cause is cause


def test_link_billing(cloud: GcpCloud, emulator: Emulator) -> None:
    linked = cloud.link_billing("demo-no-billing", OPEN)
    assert linked.account == OPEN and linked.enabled
    assert mutations(emulator) == [("PUT", "/v1/projects/demo-no-billing/billingInfo")]


def test_link_billing_refuses_an_empty_account(cloud: GcpCloud, emulator: Emulator) -> None:
    with pytest.raises(BootstrapError) as info:
        cloud.link_billing("demo-no-billing", "")
    assert info.value.failure.cause is Cause.INVALID_INPUT
    assert emulator.journal() == []


def test_enable_services_waits_for_each_operation(
    cloud: GcpCloud, emulator: Emulator, clock: VirtualClock
) -> None:
    outcome = cloud.enable_services("demo-api-disabled", SERVICES)
    assert len(outcome.names) == 2 and all(n.startswith("operations/") for n in outcome.names)
    assert outcome.polls >= 2 and clock.slept[0] == 2
    assert cloud.get_services("demo-api-disabled", SERVICES) == dict.fromkeys(
        SERVICES, ServiceState.ENABLED
    )
    # Two APIs cost 2 writes as two enables, 5 as one batch: the cheaper is chosen.
    assert mutations(emulator) == [
        ("POST", f"/v1/projects/demo-api-disabled/services/{service}:enable")
        for service in SERVICES
    ]


def test_five_or_more_services_go_in_one_batch(cloud: GcpCloud, emulator: Emulator) -> None:
    many = [*SERVICES, "storage.googleapis.com", "logging.googleapis.com", "iam.googleapis.com"]
    outcome = cloud.enable_services("demo-api-disabled", many)
    assert len(outcome.names) == 1
    assert mutations(emulator) == [("POST", "/v1/projects/demo-api-disabled/services:batchEnable")]
    assert set(cloud.get_services("demo-api-disabled", many).values()) == {ServiceState.ENABLED}


def test_enabling_an_enabled_service_is_not_polled(cloud: GcpCloud) -> None:
    outcome = cloud.enable_services("demo-ready", ["aiplatform.googleapis.com"])
    assert outcome.polls == 0
    assert "serviceusage.operations.get" not in cloud.stats.requests


def test_enable_model(cloud: GcpCloud) -> None:
    assert cloud.enable_model("demo-model-off", PUBLISHER_120B) == "ENABLEMENT_STATE_SUCCEEDED"
    assert cloud.probe_model("demo-model-off", "global", GPT_120B).access is ModelAccess.ENABLED


def test_create_project_waits_for_its_operation(cloud: GcpCloud, emulator: Emulator) -> None:
    created = cloud.create_project(
        project_id="brand-new-proj", parent=FOLDER, display_name="Brand new", labels={"a": "b"}
    )
    assert created.state is ProjectState.ACTIVE and created.parent == FOLDER
    assert created.labels == {"a": "b"}
    assert mutations(emulator) == [("POST", "/v3/projects")]
    assert cloud.stats.requests["resourcemanager.operations.get"] >= 1


def test_pools_are_sized_to_the_concurrency(emulator: Emulator, clock: VirtualClock) -> None:
    settings = settings_from_env(
        env={"BOOTSTRAP_EMULATOR_HOST": emulator.host}, clock=clock, concurrency=7
    )
    cloud = connect(settings)
    transport = cloud._services._client._transport
    assert isinstance(transport, ServiceUsageRestTransport)
    assert pool_size(transport._session, "http://x") == 7
    assert pool_size(cloud._session, "https://x") == 7
