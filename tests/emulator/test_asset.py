"""Cloud Asset searchAllResources (and billingAccounts.projects.list) through two real clients:
the GAPIC REST client (google-cloud-asset, google-cloud-billing) and google-api-python-client
built from shared/reference/discovery. Scope, nested folders, asset types, queries, paging,
readMask, orderBy, the inventory lag, permissions and the Asset API quotas."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import asset_v1, billing_v1, service_usage_v1
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from bootstrap.emulator.inprocess import Emulator

DISCOVERY = Path("/work/shared/reference/discovery")
ORG = "organizations/123456789012"
FOLDER = "folders/345678901234"
SUB = "folders/456789012345"
PROJECT = "cloudresourcemanager.googleapis.com/Project"
SERVICE = "serviceusage.googleapis.com/Service"
AI = "aiplatform.googleapis.com"
Make = Callable[..., Any]


def _ids(results: Any) -> set[str]:
    return {r.additional_attributes["projectId"] for r in results}


def _search(gapic: Make, **request: Any) -> list[Any]:
    return list(gapic(asset_v1.AssetServiceClient).search_all_resources(request=request))


def _world_projects(emulator: Emulator, under: str) -> set[str]:
    world = emulator.get_world()
    parents = {f"folders/{f['id']}": f["parent"] for f in world["folders"]}

    def chain(parent: str) -> list[str]:
        out = []
        while parent:
            out.append(parent)
            parent = parents.get(parent, "")
        return out

    return {p["project_id"] for p in world["projects"] if under in chain(p["parent"])}


def test_projects_under_org_and_nested_folders(gapic: Make, emulator: Emulator) -> None:
    under_org = _search(gapic, scope=ORG, asset_types=[PROJECT])
    assert _ids(under_org) == _world_projects(emulator, ORG) and len(under_org) > 5
    under_folder = _ids(_search(gapic, scope=FOLDER, asset_types=[PROJECT]))
    assert "demo-nested" in under_folder  # one folder down
    assert _ids(_search(gapic, scope=SUB, asset_types=[PROJECT])) == {"demo-nested"}
    nested = next(r for r in under_org if r.additional_attributes["projectId"] == "demo-nested")
    assert nested.name == "//cloudresourcemanager.googleapis.com/projects/100000000099"
    assert nested.project == "projects/100000000099"
    assert list(nested.folders) == [SUB, FOLDER] and nested.organization == ORG
    assert nested.parent_full_resource_name == f"//cloudresourcemanager.googleapis.com/{SUB}"
    assert nested.state == "ACTIVE" and nested.labels["team"] == "research"
    deleting = next(r for r in under_org if r.additional_attributes["projectId"] == "demo-deleting")
    assert deleting.state == "DELETE_REQUESTED"


def test_enabled_services_query_paging_and_mask(gapic: Make, emulator: Emulator) -> None:
    query = f"state:ENABLED AND (name:{AI} OR name:compute.googleapis.com)"
    pager = gapic(asset_v1.AssetServiceClient).search_all_resources(
        request={
            "scope": ORG,
            "asset_types": [SERVICE],
            "query": query,
            "page_size": 2,
            "read_mask": "name,project,state",
        }
    )
    pages = list(pager.pages)
    results = [r for p in pages for r in p.results]
    assert len(pages) == (len(results) + 1) // 2 and len(pages) > 1
    world = {p["number"]: p for p in emulator.get_world()["projects"]}
    expected = {
        f"//serviceusage.googleapis.com/projects/{n}/services/{s}"
        for n, p in world.items()
        for s in p["services"]
        if s in (AI, "compute.googleapis.com") and p["state"] == "ACTIVE"
    }
    assert {r.name for r in results} == expected
    assert all(r.state == "ENABLED" and r.project and not r.display_name for r in results)
    only_ai = _search(gapic, scope=ORG, asset_types=[SERVICE], query=f"name:{AI} state:ENABLED")
    assert {r.name.rsplit("/", 1)[1] for r in only_ai} == {AI}


def test_asset_type_regex_order_and_errors(gapic: Make) -> None:
    both = _search(gapic, scope=SUB, asset_types=[".*googleapis.com/.*"], order_by="assetType DESC")
    assert both[0].asset_type == SERVICE and both[-1].asset_type == PROJECT
    with pytest.raises(exceptions.BadRequest):
        _search(gapic, scope=ORG, asset_types=["compute.googleapis.com/Instance"])
    with pytest.raises(exceptions.BadRequest):
        _search(gapic, scope=ORG, query="state:ENABLED AND (name:x")


def test_search_needs_permission_on_scope(gapic: Make, emulator: Emulator) -> None:
    client = gapic(asset_v1.AssetServiceClient, token="emulator-viewer")
    with pytest.raises(exceptions.Forbidden) as caught:
        list(client.search_all_resources(request={"scope": ORG, "asset_types": [PROJECT]}))
    assert caught.value.reason == "IAM_PERMISSION_DENIED"
    assert caught.value.metadata["permission"] == "cloudasset.assets.searchAllResources"
    world = emulator.get_world()
    viewer = next(p for p in world["principals"] if p["email"].startswith("viewer@"))
    viewer["grants"][FOLDER] = ["cloudasset.assets.searchAllResources"]
    emulator.put_world(world)
    assert _ids(client.search_all_resources(request={"scope": SUB, "asset_types": [PROJECT]}))
    with pytest.raises(exceptions.Forbidden):  # the folder's grant does not reach the org
        list(client.search_all_resources(request={"scope": ORG, "asset_types": [PROJECT]}))


def test_inventory_shows_the_state_of_lag_seconds_ago(gapic: Make, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["timing"].update(inventory_lag_s=600, operation_polls=0, operation_seconds=0)
    emulator.put_world(world)
    emulator.advance(10)  # the changes come 10 s after the world was loaded
    billing = gapic(billing_v1.CloudBillingClient)
    billing.update_project_billing_info(
        name="projects/demo-no-billing",
        project_billing_info={"billing_account_name": "billingAccounts/012345-6789AB-CDEF01"},
    )
    gapic(service_usage_v1.ServiceUsageClient).disable_service(
        request={"name": f"projects/demo-ready/services/{AI}"}
    ).result(timeout=10)
    query = {"scope": ORG, "asset_types": [SERVICE], "query": f"name:{AI}"}
    assert "100000000001" in {r.project.split("/")[1] for r in _search(gapic, **query)}
    emulator.advance(601)
    assert "100000000001" not in {r.project.split("/")[1] for r in _search(gapic, **query)}
    ready = _search(gapic, scope="projects/demo-ready", asset_types=[PROJECT])
    assert ready[0].update_time.timestamp() - ready[0].create_time.timestamp() >= 10


def test_project_created_later_appears_after_the_lag(gapic: Make, emulator: Emulator) -> None:
    from google.cloud import resourcemanager_v3

    world = emulator.get_world()
    world["timing"].update(inventory_lag_s=60)
    emulator.put_world(world)
    gapic(resourcemanager_v3.ProjectsClient).create_project(
        project=resourcemanager_v3.Project(project_id="late-comer-1", parent=FOLDER)
    ).result(timeout=30)
    assert "late-comer-1" not in _ids(_search(gapic, scope=FOLDER, asset_types=[PROJECT]))
    emulator.advance(61)
    assert "late-comer-1" in _ids(_search(gapic, scope=FOLDER, asset_types=[PROJECT]))


def test_asset_quota_per_caller_and_per_org(gapic: Make, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["quotas"].update(enabled=True, cloudasset_search_per_min=3)
    emulator.put_world(world)
    client = gapic(asset_v1.AssetServiceClient)
    for _ in range(3):
        list(client.search_all_resources(request={"scope": SUB, "asset_types": [PROJECT]}))
    with pytest.raises(exceptions.TooManyRequests) as caught:
        list(client.search_all_resources(request={"scope": SUB, "asset_types": [PROJECT]}))
    assert caught.value.reason == "RATE_LIMIT_EXCEEDED"
    assert caught.value.metadata["quota_limit"] == "SearchAllResourcesRequestsPerMinutePerProject"
    world["quotas"].update(cloudasset_search_per_min=100, cloudasset_search_per_org_per_min=2)
    emulator.put_world(world)
    viewer = gapic(asset_v1.AssetServiceClient, token="emulator-viewer")
    list(client.search_all_resources(request={"scope": SUB, "asset_types": [PROJECT]}))
    list(client.search_all_resources(request={"scope": ORG, "asset_types": [PROJECT]}))
    with pytest.raises(exceptions.TooManyRequests) as org_caught:  # another caller, same org
        list(viewer.search_all_resources(request={"scope": FOLDER, "asset_types": [PROJECT]}))
    assert org_caught.value.metadata["quota_limit"] == (
        "SearchAllResourcesRequestsPerMinutePerOrganization"
    )
    assert [e["status"] for e in emulator.journal()][-1] == 429


def _built(emulator: Emulator, name: str, token: str = "emulator-owner") -> Any:
    doc = json.loads((DISCOVERY / f"{name}.json").read_text())
    doc["rootUrl"] = emulator.base_url + "/"
    return discovery.build_from_document(doc, credentials=Credentials(token=token))


@pytest.mark.skipif(not DISCOVERY.is_dir(), reason="no discovery documents")
def test_discovery_client_search_and_billing_projects(emulator: Emulator) -> None:
    v1 = _built(emulator, "cloudasset.v1").v1()
    first = v1.searchAllResources(
        scope=FOLDER, assetTypes=[PROJECT], pageSize=3, readMask="name,additionalAttributes"
    ).execute()
    assert len(first["results"]) == 3 and set(first["results"][0]) == {
        "name", "additionalAttributes",
    }  # fmt: skip
    rest = v1.searchAllResources(
        scope=FOLDER, assetTypes=[PROJECT], pageSize=3, pageToken=first["nextPageToken"]
    ).execute()
    seen = {r["name"] for r in first["results"] + rest.get("results", [])}
    assert len(seen) == len(first["results"]) + len(rest.get("results", []))
    with pytest.raises(HttpError) as caught:
        _built(emulator, "cloudasset.v1", "emulator-viewer").v1().searchAllResources(
            scope=ORG
        ).execute()
    assert caught.value.resp.status == 403
    accounts = _built(emulator, "cloudbilling.v1").billingAccounts().projects()
    listed = accounts.list(name="billingAccounts/012345-6789AB-CDEF01", pageSize=2).execute()
    assert len(listed["projectBillingInfo"]) == 2 and listed["nextPageToken"]
    assert all(i["billingAccountName"].endswith("CDEF01") for i in listed["projectBillingInfo"])
    client = billing_v1.CloudBillingClient(
        transport="rest",
        credentials=Credentials(token="emulator-owner"),
        client_options={"api_endpoint": emulator.base_url},
    )
    every = list(client.list_project_billing_info(name="billingAccounts/012345-6789AB-CDEF01"))
    linked = {
        p["project_id"]
        for p in emulator.get_world()["projects"]
        if p["billing_account"] == "012345-6789AB-CDEF01"
    }
    assert {i.project_id for i in every} == linked


@pytest.mark.skipif(not DISCOVERY.is_dir(), reason="no discovery documents")
def test_search_answers_validate_strictly_against_the_discovery_schema(emulator: Emulator) -> None:
    import jsonschema
    import requests

    from tests.emulator.test_schema import find_method, to_json_schema

    doc = json.loads((DISCOVERY / "cloudasset.v1.json").read_text())
    response = find_method(doc, "cloudasset.searchAllResources")["response"]["$ref"]
    schema = {
        "$ref": f"#/definitions/{response}",
        "definitions": {k: to_json_schema(v) for k, v in doc["schemas"].items()},
    }
    for asset_type in (PROJECT, SERVICE):
        body = requests.get(
            f"{emulator.base_url}/v1/{ORG}:searchAllResources",
            params={"assetTypes": asset_type, "pageSize": "3"},
            headers={"Authorization": "Bearer emulator-owner"},
            timeout=10,
        ).json()
        assert len(body["results"]) == 3 and body["nextPageToken"]
        jsonschema.validate(body, schema)
