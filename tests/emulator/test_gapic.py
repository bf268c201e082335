"""The official GAPIC REST clients (Resource Manager v3, Service Usage v1, Billing v1) against
the emulator: every method we serve, LRO polling, paging and error mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import billing_v1, resourcemanager_v3, service_usage_v1
from google.protobuf import json_format

from bootstrap.emulator.inprocess import Emulator
from bootstrap.gcp import lenient_operations

Make = Callable[..., Any]


def test_get_project_by_id_and_number(gapic: Make) -> None:
    client = gapic(resourcemanager_v3.ProjectsClient)
    by_id = client.get_project(name="projects/demo-ready")
    by_number = client.get_project(name="projects/100000000001")
    assert by_id.name == by_number.name == "projects/100000000001"
    assert by_id.state == resourcemanager_v3.Project.State.ACTIVE
    assert by_id.labels["team"] == "ml"
    assert by_id.create_time.year == 2026
    deleting = client.get_project(name="projects/demo-deleting")
    assert deleting.state == resourcemanager_v3.Project.State.DELETE_REQUESTED


def test_missing_project_is_403_naming_permission(gapic: Make) -> None:
    client = gapic(resourcemanager_v3.ProjectsClient)
    with pytest.raises(exceptions.Forbidden) as caught:
        client.get_project(name="projects/nope-nope")
    assert caught.value.reason == "IAM_PERMISSION_DENIED"
    assert caught.value.metadata["permission"] == "resourcemanager.projects.get"


def test_unknown_token_is_401(gapic: Make, emulator: Emulator) -> None:
    import requests
    from google.auth.exceptions import RefreshError

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = requests.get(
            f"{emulator.base_url}/v3/projects/demo-ready", headers=headers, timeout=5
        )
        assert answer.status_code == 401
        assert answer.json()["error"]["status"] == "UNAUTHENTICATED"
    # As against Google: a 401 makes google-auth try to refresh the (unrefreshable) token.
    client = gapic(resourcemanager_v3.ProjectsClient, token="wrong")
    with pytest.raises(RefreshError):
        client.get_project(name="projects/demo-ready")


def test_create_project_lro_polls(gapic: Make, emulator: Emulator) -> None:
    client = gapic(resourcemanager_v3.ProjectsClient)
    operation = client.create_project(
        project=resourcemanager_v3.Project(
            project_id="brand-new-1", parent="folders/345678901234", display_name="Brand new"
        )
    )
    assert operation.operation.name.startswith("operations/cp.")
    assert not operation.operation.done  # default world: done after one poll
    project = operation.result(timeout=30)
    assert project.project_id == "brand-new-1"
    assert project.name.startswith("projects/") and len(project.name) == len("projects/") + 12
    assert operation.metadata.gettable
    with pytest.raises(exceptions.Conflict):
        client.create_project(
            project=resourcemanager_v3.Project(
                project_id="brand-new-1", parent="folders/345678901234"
            )
        )
    assert any(e["path"] == "/v3/projects" and e["mutating"] for e in emulator.journal())


def test_search_any_field_semantics_and_paging(gapic: Make, emulator: Emulator) -> None:
    client = gapic(resourcemanager_v3.ProjectsClient)
    ids = {p.project_id for p in client.search_projects(query="id:demo-ready id:demo-model-off")}
    assert ids == {"demo-ready", "demo-model-off"}
    labelled = list(client.search_projects(request={"query": "labels.team:ml", "page_size": 2}))
    # Every team:ml project of the world, over more than one page of 2.
    team_ml = [p for p in emulator.get_world()["projects"] if p["labels"].get("team") == "ml"]
    assert len(labelled) == len(team_ml) > 2
    pages = list(
        client.search_projects(
            request={"query": "parent:folders/345678901234", "page_size": 4}
        ).pages
    )
    in_folder = [
        p for p in emulator.get_world()["projects"] if p["parent"] == "folders/345678901234"
    ]
    assert [len(page.projects) for page in pages][:-1] == [4] * (len(pages) - 1)
    assert sum(len(page.projects) for page in pages) == len(in_folder) > 4
    deleting = {p.project_id for p in client.search_projects(query="state:DELETE_REQUESTED")}
    assert deleting == {"demo-deleting"}


def test_test_iam_permissions_from_grants(gapic: Make) -> None:
    viewer = gapic(resourcemanager_v3.ProjectsClient, token="emulator-viewer")
    wanted = ["resourcemanager.projects.get", "serviceusage.services.enable"]
    held = viewer.test_iam_permissions(
        request={"resource": "projects/demo-ready", "permissions": wanted}
    )
    assert list(held.permissions) == ["resourcemanager.projects.get"]
    folders = gapic(resourcemanager_v3.FoldersClient)
    held = folders.test_iam_permissions(
        request={"resource": "folders/345678901234", "permissions": wanted}
    )
    assert list(held.permissions) == wanted
    orgs = gapic(resourcemanager_v3.OrganizationsClient, token="emulator-viewer")
    held = orgs.test_iam_permissions(
        request={"resource": "organizations/123456789012", "permissions": ["x.y.z"]}
    )
    assert list(held.permissions) == []


def test_services_get_list_batch_get(gapic: Make) -> None:
    client = gapic(service_usage_v1.ServiceUsageClient)
    service = client.get_service(
        request={"name": "projects/demo-ready/services/aiplatform.googleapis.com"}
    )
    assert service.state == service_usage_v1.State.ENABLED
    assert service.name == "projects/100000000001/services/aiplatform.googleapis.com"
    assert service.config.title == "Vertex AI API"
    enabled = list(
        client.list_services(request={"parent": "projects/demo-ready", "filter": "state:ENABLED"})
    )
    assert {s.config.name for s in enabled} == {
        "aiplatform.googleapis.com",
        "cloudcommerceconsumerprocurement.googleapis.com",
    }
    pager = client.list_services(request={"parent": "projects/demo-ready", "page_size": 5})
    assert len(list(pager.pages)) > 1
    names = [
        f"projects/100000000001/services/{s}"
        for s in ("compute.googleapis.com", "aiplatform.googleapis.com")
    ]
    got = client.batch_get_services(request={"parent": "projects/100000000001", "names": names})
    assert [s.state for s in got.services] == [
        service_usage_v1.State.DISABLED,
        service_usage_v1.State.ENABLED,
    ]
    with pytest.raises(exceptions.BadRequest):
        client.batch_get_services(request={"parent": "projects/100000000001", "names": names * 16})


def test_enable_lro_then_noop(gapic: Make, emulator: Emulator) -> None:
    client = gapic(service_usage_v1.ServiceUsageClient)
    name = "projects/demo-api-disabled/services/aiplatform.googleapis.com"
    operation = client.enable_service(request={"name": name})
    assert operation.operation.name.startswith("operations/acat.p2-100000000003-")
    with pytest.raises(exceptions.BadRequest, match="Another activation"):
        client.enable_service(request={"name": name})
    # Google types `:enable` metadata as protobuf.Empty with `"value": {}` (row 10, recorded);
    # api-core's strict LRO poller and get_operation mixin cannot parse that.
    with pytest.raises(json_format.ParseError, match=r"google\.protobuf\.Empty"):
        operation.result(timeout=30)
    with pytest.raises(json_format.ParseError, match=r"google\.protobuf\.Empty"):
        client.get_operation(request={"name": operation.operation.name})
    done = lenient_operations.get_operation(client, operation.operation.name, 30)  # the tool's path
    assert done.done and done.metadata.type_url.endswith("google.protobuf.Empty")
    response = service_usage_v1.EnableServiceResponse.deserialize(done.response.value)
    assert response.service.state == service_usage_v1.State.ENABLED
    assert not response.service.config.name  # name, parent and state only
    again = client.enable_service(request={"name": name})
    assert again.operation.name == "operations/noop.DONE_OPERATION"
    assert again.result().service.state == service_usage_v1.State.ENABLED


def test_enable_paid_service_without_billing(gapic: Make) -> None:
    client = gapic(service_usage_v1.ServiceUsageClient)
    with pytest.raises(exceptions.BadRequest) as caught:
        client.enable_service(
            request={"name": "projects/demo-no-billing/services/aiplatform.googleapis.com"}
        )
    assert caught.value.reason == "UREQ_PROJECT_BILLING_NOT_FOUND"
    assert caught.value.metadata["services"] == "aiplatform.googleapis.com"


def test_batch_enable_limits_and_success(gapic: Make, emulator: Emulator) -> None:
    client = gapic(service_usage_v1.ServiceUsageClient)
    parent = "projects/demo-api-disabled"
    with pytest.raises(exceptions.BadRequest):
        client.batch_enable_services(
            request={"parent": parent, "service_ids": ["storage.googleapis.com"]}
        )
    many = [s["name"] for s in emulator.get_world()["services"]] + ["x.googleapis.com"] * 5
    with pytest.raises(exceptions.BadRequest, match="maximum batch size") as caught:
        client.batch_enable_services(request={"parent": parent, "service_ids": many})
    assert caught.value.reason == "SU_MAX_BATCH_SIZE_EXCEEDED"
    ids = ["aiplatform.googleapis.com", "cloudcommerceconsumerprocurement.googleapis.com"]
    result = client.batch_enable_services(request={"parent": parent, "service_ids": ids}).result(
        timeout=30
    )
    assert {s.name.rsplit("/", 1)[-1] for s in result.services} == set(ids)
    world = {p["project_id"]: p for p in emulator.get_world()["projects"]}
    assert set(world["demo-api-disabled"]["services"]) == set(ids)


def test_disable_service(gapic: Make, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["timing"]["operation_polls"] = 0
    emulator.put_world(world)
    client = gapic(service_usage_v1.ServiceUsageClient)
    name = "projects/demo-ready/services/cloudcommerceconsumerprocurement.googleapis.com"
    assert (
        client.disable_service(request={"name": name}).result().service.state
        == service_usage_v1.State.DISABLED
    )
    # Row 1: disabling a disabled service is the noop operation, not an error.
    again = client.disable_service(request={"name": name})
    assert again.operation.name == "operations/noop.DONE_OPERATION"
    assert again.result().service.state == service_usage_v1.State.DISABLED


def test_billing_info_link_lag_and_closed_account(gapic: Make, emulator: Emulator) -> None:
    client = gapic(billing_v1.CloudBillingClient)
    info = client.get_project_billing_info(name="projects/demo-no-billing")
    assert info.name == "projects/demo-no-billing/billingInfo" and not info.billing_enabled
    linked = client.update_project_billing_info(
        name="projects/demo-no-billing",
        project_billing_info=billing_v1.ProjectBillingInfo(
            billing_account_name="billingAccounts/012345-6789AB-CDEF01"
        ),
    )
    assert linked.billing_enabled
    assert not client.get_project_billing_info(
        name="projects/demo-no-billing"
    ).billing_enabled  # lag
    emulator.advance(1.5)
    assert client.get_project_billing_info(name="projects/demo-no-billing").billing_enabled
    closed = client.get_project_billing_info(name="projects/demo-closed-billing")
    assert (
        closed.billing_account_name == "billingAccounts/0FEDCB-A98765-432101"
        and not closed.billing_enabled
    )


def test_billing_link_permission_and_quota(gapic: Make, emulator: Emulator) -> None:
    viewer = gapic(billing_v1.CloudBillingClient, token="emulator-viewer")
    info = billing_v1.ProjectBillingInfo(
        billing_account_name="billingAccounts/012345-6789AB-CDEF01"
    )
    with pytest.raises(exceptions.Forbidden):
        viewer.update_project_billing_info(
            name="projects/demo-no-billing", project_billing_info=info
        )
    world = emulator.get_world()
    world["billing_accounts"][0]["link_quota"] = 4
    emulator.put_world(world)
    client = gapic(billing_v1.CloudBillingClient)
    with pytest.raises(exceptions.BadRequest) as caught:
        client.update_project_billing_info(
            name="projects/demo-no-billing", project_billing_info=info
        )
    assert caught.value.message.endswith("Precondition check failed.")
    assert caught.value.details[0]["@type"].endswith("QuotaFailure")


def test_billing_accounts(gapic: Make) -> None:
    client = gapic(billing_v1.CloudBillingClient)
    accounts = list(client.list_billing_accounts(request={"page_size": 1}))
    assert [a.name for a in accounts] == [
        "billingAccounts/012345-6789AB-CDEF01",
        "billingAccounts/0FEDCB-A98765-432101",
    ]
    assert not client.get_billing_account(name="billingAccounts/0FEDCB-A98765-432101").open_
    held = client.test_iam_permissions(
        request={
            "resource": "billingAccounts/012345-6789AB-CDEF01",
            "permissions": ["billing.resourceAssociations.create"],
        }
    )
    assert list(held.permissions) == ["billing.resourceAssociations.create"]


def test_quota_exhaustion_429(gapic: Make, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["quotas"].update({"enabled": True, "serviceusage_read_per_min": 3})
    emulator.put_world(world)
    client = gapic(service_usage_v1.ServiceUsageClient)
    name = "projects/demo-ready/services/aiplatform.googleapis.com"
    for _ in range(3):
        client.get_service(request={"name": name})
    with pytest.raises(exceptions.TooManyRequests) as caught:
        client.get_service(request={"name": name})
    assert caught.value.reason == "RATE_LIMIT_EXCEEDED"
    # Row 21: Google sends no RetryInfo; the consumer is named by number.
    assert not any("retryDelay" in d for d in caught.value.details)
    assert "for consumer 'project_number:100000000001'" in caught.value.message
    assert caught.value.metadata["consumer"] == "projects/100000000001"
    assert caught.value.metadata["quota_location"] == "global"
    emulator.advance(20)
    client.get_service(request={"name": name})
    world["behaviour"] = {"retry_info_on_429": True}
    emulator.put_world(world)
    for _ in range(3):
        client.get_service(request={"name": name})
    with pytest.raises(exceptions.TooManyRequests) as caught:
        client.get_service(request={"name": name})
    assert any(d.get("retryDelay") == "20s" for d in caught.value.details)
