"""Cloud Asset `searchAllIamPolicies` through two real clients: the GAPIC REST client
(google-cloud-asset, its pager) and google-api-python-client built from
shared/reference/discovery/cloudasset.v1.json. Each listed policy against what Resource Manager's
getIamPolicy answers over HTTP, the scopes (organization, nested folders, project), asset types,
paging, the `policy:` query, the permission, the journal, the Asset quota and the schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.cloud import asset_v1, resourcemanager_v3
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from bootstrap.emulator.inprocess import Emulator

DISCOVERY = Path("/work/shared/reference/discovery/cloudasset.v1.json")
CRM = "//cloudresourcemanager.googleapis.com/"
PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project"
FOLDER_TYPE = "cloudresourcemanager.googleapis.com/Folder"
ORGANIZATION_TYPE = "cloudresourcemanager.googleapis.com/Organization"
PERMISSION = "cloudasset.assets.searchAllIamPolicies"
ORG, FOLDER, SUB = "organizations/123456789012", "folders/345678901234", "folders/456789012345"
METHOD = ":searchAllIamPolicies"
SA = "serviceAccount:app@demo-ready.iam.gserviceaccount.com"
VIEWER = "serviceAccount:viewer@bootstrap-emulator.iam.gserviceaccount.com"
CONDITION = {"expression": "request.time < timestamp('2027-01-01T00:00:00Z')", "title": "until"}
READY, CLOSED, NESTED = (f"{CRM}projects/1000000000{n}" for n in ("01", "05", "99"))
Make = Callable[..., Any]


def binding(role: str, *members: str, **extra: Any) -> dict[str, Any]:
    return {"role": role, "members": list(members), **extra}


def policies() -> list[dict[str, Any]]:
    """Five listed policies (organization, sub-folder, three projects) and one set empty."""
    return [
        {"resource": ORG, "bindings": [binding("roles/owner", "user:admin@example.com")]},
        {"resource": SUB, "bindings": [binding("roles/viewer", "group:research@example.com")]},
        {
            "resource": "projects/demo-ready",
            "bindings": [
                binding("roles/aiplatform.user", SA),
                binding("roles/editor", "group:ml@example.com", condition=CONDITION),
            ],
        },
        {
            "resource": "projects/100000000005",
            "bindings": [binding("roles/viewer", "user:amy@x.io")],
        },
        {
            "resource": "projects/demo-nested",
            "bindings": [
                binding("roles/owner", "user:amy@x.io"),
                binding("roles/viewer", "user:bob@x.io"),
            ],
        },
        {"resource": "projects/demo-no-billing", "bindings": []},  # set, but no binding
    ]


def with_iam(emulator: Emulator, found: list[dict[str, Any]], **world: Any) -> dict[str, Any]:
    raw = emulator.get_world()
    raw["iam_policies"] = found
    for key, value in world.items():
        raw[key].update(value)
    emulator.put_world(raw)
    return raw


def search(gapic: Make, token: str = "emulator-owner", **request: Any) -> list[Any]:
    client = gapic(asset_v1.AssetServiceClient, token=token)
    return list(client.search_all_iam_policies(request={"scope": ORG, **request}))


def resources(results: list[Any]) -> set[str]:
    return {r.resource for r in results}


def roles(results: list[Any]) -> dict[str, list[str]]:
    return {r.resource: [b.role for b in r.policy.bindings] for r in results}


def get_policy(gapic: Make, project: str) -> Any:
    """What the emulator's getIamPolicy answers over HTTP (version 3: conditions kept)."""
    return gapic(resourcemanager_v3.ProjectsClient).get_iam_policy(
        request={"resource": f"projects/{project}", "options": {"requested_policy_version": 3}}
    )


def discovered(emulator: Emulator, token: str = "emulator-owner") -> Any:
    doc = json.loads(DISCOVERY.read_text())
    doc["rootUrl"] = emulator.base_url + "/"
    return discovery.build_from_document(doc, credentials=Credentials(token=token)).v1()


def test_org_scope_lists_each_policy_as_get_iam_policy_answers_it(
    gapic: Make, emulator: Emulator
) -> None:
    with_iam(emulator, policies())
    found = {r.resource: r for r in search(gapic)}
    assert set(found) == {f"{CRM}{ORG}", f"{CRM}{SUB}", READY, CLOSED, NESTED}
    for project, full in (("demo-ready", READY), ("demo-closed-billing", CLOSED), ("demo-nested", NESTED)):  # fmt: skip
        answered, result = get_policy(gapic, project), found[full]
        assert answered.bindings and list(result.policy.bindings) == list(answered.bindings)
        assert result.policy.version == answered.version and not result.policy.etag
        assert result.asset_type == PROJECT_TYPE and result.organization == ORG
        assert result.project == full.removeprefix(CRM)
    assert found[READY].policy.bindings[1].condition.expression == CONDITION["expression"]
    assert list(found[NESTED].folders) == [SUB, FOLDER] and list(found[READY].folders) == [FOLDER]
    sub = found[f"{CRM}{SUB}"]
    assert sub.asset_type == FOLDER_TYPE and not sub.project and list(sub.folders) == [SUB, FOLDER]
    org = found[f"{CRM}{ORG}"]
    assert org.asset_type == ORGANIZATION_TYPE and org.organization == ORG
    assert not org.project and not org.folders
    # Never set, or set without a binding: getIamPolicy answers no binding and search skips it.
    for project in ("demo-quota-zero", "demo-no-billing"):
        assert not get_policy(gapic, project).bindings


def test_folder_scope_is_its_nested_subtree_and_project_scope_the_project(
    gapic: Make, emulator: Emulator
) -> None:
    with_iam(emulator, policies())
    assert resources(search(gapic, scope=SUB)) == {f"{CRM}{SUB}", NESTED}
    assert resources(search(gapic, scope=FOLDER)) == {f"{CRM}{SUB}", READY, CLOSED, NESTED}
    for scope in ("projects/demo-ready", "projects/100000000001"):
        assert [r.resource for r in search(gapic, scope=scope)] == [READY]
    assert search(gapic, scope="projects/demo-quota-zero") == []  # never set: nothing


def test_asset_types_narrow_the_results(gapic: Make, emulator: Emulator) -> None:
    with_iam(emulator, policies())
    projects = search(gapic, asset_types=[PROJECT_TYPE])
    assert resources(projects) == {READY, CLOSED, NESTED}
    assert {r.asset_type for r in projects} == {PROJECT_TYPE}
    assert resources(search(gapic, asset_types=[".*Folder"])) == {f"{CRM}{SUB}"}
    both = search(gapic, asset_types=["cloudresourcemanager.googleapis.com/(Folder|Organization)"])
    assert resources(both) == {f"{CRM}{SUB}", f"{CRM}{ORG}"}
    with pytest.raises(exceptions.BadRequest) as caught:
        search(gapic, asset_types=["compute.googleapis.com/Instance"])
    assert PROJECT_TYPE in caught.value.message


def test_pages_of_two_cover_five_results_once(gapic: Make, emulator: Emulator) -> None:
    with_iam(emulator, policies())
    pager = gapic(asset_v1.AssetServiceClient).search_all_iam_policies(
        request={"scope": ORG, "page_size": 2}
    )
    pages = [[r.resource for r in p.results] for p in pager.pages]
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [n for p in pages for n in p]
    assert len(set(flat)) == 5 and set(flat) == resources(search(gapic))


def test_page_size_is_capped_at_500(emulator: Emulator) -> None:
    raw = emulator.get_world()
    raw["projects"] += [
        {**raw["projects"][1], "project_id": f"bulk-{i:03d}", "number": str(200000000000 + i)}
        for i in range(600)
    ]
    raw["iam_policies"] = [
        {"resource": f"projects/bulk-{i:03d}", "bindings": [binding("roles/viewer", f"user:u{i}@x.io")]}
        for i in range(600)
    ]  # fmt: skip
    emulator.put_world(raw)
    v1 = discovered(emulator)
    first = v1.searchAllIamPolicies(scope=ORG, pageSize=1000).execute()
    assert len(first["results"]) == 500 and first["nextPageToken"]
    rest = v1.searchAllIamPolicies(
        scope=ORG, pageSize=1000, pageToken=first["nextPageToken"]
    ).execute()
    assert len(rest["results"]) == 100 and "nextPageToken" not in rest
    seen = [r["resource"] for r in first["results"] + rest["results"]]
    assert len(set(seen)) == 600
    assert len(v1.searchAllIamPolicies(scope=ORG).execute()["results"]) == 100  # the default


def test_policy_query_keeps_only_the_matching_bindings(gapic: Make, emulator: Emulator) -> None:
    with_iam(emulator, policies())
    assert roles(search(gapic, query="policy:user:amy@x.io")) == {
        CLOSED: ["roles/viewer"], NESTED: ["roles/owner"],
    }  # fmt: skip
    assert roles(search(gapic, query="policy:roles/owner")) == {
        f"{CRM}{ORG}": ["roles/owner"], NESTED: ["roles/owner"],
    }  # fmt: skip
    assert roles(search(gapic, query="policy:bo*")) == {NESTED: ["roles/viewer"]}  # a prefix
    assert roles(search(gapic, query="policy:amy AND policy:roles/owner")) == {
        NESTED: ["roles/owner"]
    }
    assert search(gapic, query="policy:nobody@x.io") == []
    for unsupported in ("resource:organizations/123456789012", "amy", "policy:a OR policy:b"):
        with pytest.raises(exceptions.BadRequest) as caught:
            search(gapic, query=unsupported)
        assert "policy:VALUE" in caught.value.message


def test_permission_on_the_scope_or_an_ancestor(gapic: Make, emulator: Emulator) -> None:
    raw = with_iam(emulator, policies())
    with pytest.raises(exceptions.Forbidden) as caught:
        search(gapic, token="emulator-viewer", scope=FOLDER)
    assert caught.value.reason == "IAM_PERMISSION_DENIED"
    assert caught.value.metadata["permission"] == PERMISSION
    viewer = next(p for p in raw["principals"] if p["email"].startswith("viewer@"))
    viewer["grants"][SUB] = [PERMISSION]  # below the scope: not enough
    emulator.put_world(raw)
    with pytest.raises(exceptions.Forbidden):
        search(gapic, token="emulator-viewer", scope=FOLDER)
    assert len(search(gapic, token="emulator-viewer", scope=SUB)) == 2
    viewer["grants"].pop(SUB)
    raw["iam_policies"][0]["bindings"].append(binding("roles/cloudasset.viewer", VIEWER))
    emulator.put_world(raw)  # the role, bound on the organization
    assert len(search(gapic, token="emulator-viewer", scope=FOLDER)) == 4


def test_journaled_and_charged_to_the_asset_quota(gapic: Make, emulator: Emulator) -> None:
    with_iam(emulator, policies(), quotas={"enabled": True, "cloudasset_search_per_min": 2})
    emulator.clear_journal()
    search(gapic)
    search(gapic)
    with pytest.raises(exceptions.TooManyRequests) as caught:
        search(gapic)
    assert caught.value.reason == "RATE_LIMIT_EXCEEDED"
    assert caught.value.metadata["service"] == "cloudasset.googleapis.com"
    journal = [e for e in emulator.journal() if e["path"].endswith(METHOD)]
    assert [e["status"] for e in journal] == [200, 200, 429]
    assert journal[0]["path"] == f"/v1/{ORG}{METHOD}" and not journal[0]["mutating"]
    assert journal[0]["principal"].startswith("owner@")
    with pytest.raises(exceptions.TooManyRequests):  # one bucket with searchAllResources
        list(gapic(asset_v1.AssetServiceClient).search_all_resources(request={"scope": ORG}))
    emulator.advance(60)  # the caller's bucket refills; now the organization's runs out
    raw = with_iam(
        emulator,
        policies(),
        quotas={"cloudasset_search_per_min": 100, "cloudasset_search_per_org_per_min": 1},
    )
    viewer = next(p for p in raw["principals"] if p["email"].startswith("viewer@"))
    viewer["grants"][ORG] = [PERMISSION]
    emulator.put_world(raw)
    search(gapic)
    with pytest.raises(exceptions.TooManyRequests) as org_caught:
        search(gapic, token="emulator-viewer")
    assert org_caught.value.metadata["quota_limit"].endswith("PerOrganization")


def test_answers_current_policies_whatever_the_inventory_lag(
    gapic: Make, emulator: Emulator
) -> None:
    with_iam(emulator, policies(), timing={"inventory_lag_s": 600})
    written = [binding("roles/viewer", "user:carol@x.io")]
    gapic(resourcemanager_v3.ProjectsClient).set_iam_policy(
        request={"resource": "projects/demo-quota-zero", "policy": {"bindings": written}}
    )
    (found,) = search(gapic, scope="projects/demo-quota-zero")
    assert list(found.policy.bindings) == list(get_policy(gapic, "demo-quota-zero").bindings)
    assert [(b.role, list(b.members)) for b in found.policy.bindings] == [
        ("roles/viewer", ["user:carol@x.io"])
    ]


def test_answer_validates_against_the_discovery_schema_and_orders(emulator: Emulator) -> None:
    import jsonschema

    from tests.emulator.test_schema import find_method, to_json_schema

    with_iam(emulator, policies())
    doc = json.loads(DISCOVERY.read_text())
    method = find_method(doc, "cloudasset.searchAllIamPolicies")
    schema = {
        "$ref": f"#/definitions/{method['response']['$ref']}",
        "definitions": {k: to_json_schema(v) for k, v in doc["schemas"].items()},
    }
    order = "assetType DESC, resource"
    body = requests.get(
        f"{emulator.base_url}/v1/{ORG}{METHOD}",
        params={"pageSize": "3", "orderBy": order},
        headers={"Authorization": "Bearer emulator-owner"},
        timeout=10,
    ).json()
    jsonschema.validate(body, schema)
    assert [r["resource"] for r in body["results"]] == [READY, CLOSED, NESTED]  # Project > ...
    assert body["results"][2] == {
        "resource": NESTED,
        "assetType": PROJECT_TYPE,
        "project": "projects/100000000099",
        "folders": [SUB, FOLDER],
        "organization": ORG,
        "policy": {"version": 1, "bindings": policies()[4]["bindings"]},
    }
    via_discovery = (
        discovered(emulator).searchAllIamPolicies(scope=ORG, pageSize=3, orderBy=order).execute()
    )
    assert via_discovery.pop("nextPageToken") and body.pop("nextPageToken")
    assert via_discovery == body  # the same results, whichever client asks
    with pytest.raises(HttpError) as caught:
        discovered(emulator).searchAllIamPolicies(scope=ORG, orderBy="policy").execute()
    assert json.loads(caught.value.content)["error"]["status"] == "INVALID_ARGUMENT"
