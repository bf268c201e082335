"""Cloud Asset `analyzeOrgPolicyGovernedContainers` through two real clients: the GAPIC REST
client (google-cloud-asset, its pager) and google-api-python-client built from
shared/reference/discovery/cloudasset.v1.json. Which containers are governed, the consolidated
rules against the emulator's own getEffectivePolicy (over HTTP), the policy bundle, paging, the
scope and constraint checks, the two permissions, the filter, the journal and the Asset quota."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.cloud import asset_v1, orgpolicy_v2
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from bootstrap.emulator.inprocess import Emulator

DISCOVERY = Path("/work/shared/reference/discovery/cloudasset.v1.json")
CRM = "//cloudresourcemanager.googleapis.com/"
MODELS = "constraints/vertexai.allowedModels"
SERVICES = "constraints/gcp.restrictServiceUsage"
ORG, FOLDER, SUB = "organizations/123456789012", "folders/345678901234", "folders/456789012345"
GPT = "publishers/openai/models/gpt-oss-120b-maas:predict"
GEMINI = "publishers/google/models/gemini-2.5-flash:predict"
METHOD = ":analyzeOrgPolicyGovernedContainers"
Make = Callable[..., Any]


def with_policies(emulator: Emulator, *policies: dict[str, Any], **world: Any) -> dict[str, Any]:
    raw = emulator.get_world()
    raw["org_policies"] = list(policies)
    for key, value in world.items():
        raw[key].update(value)
    emulator.put_world(raw)
    return raw


def policy(resource: str, constraint: str = MODELS, **rule: Any) -> dict[str, Any]:
    return {"resource": resource, "constraint": constraint, **rule}


def analyze(gapic: Make, token: str = "emulator-owner", **request: Any) -> list[Any]:
    client = gapic(asset_v1.AssetServiceClient, token=token)
    request = {"scope": ORG, "constraint": MODELS, **request}
    return list(client.analyze_org_policy_governed_containers(request=request))


def names(containers: list[Any]) -> list[str]:
    return [c.full_resource_name for c in containers]


def every_container(world: dict[str, Any]) -> list[str]:
    """The organization, its folders and its projects (all under ORG in the default world)."""
    folders = sorted(f"{CRM}folders/{f['id']}" for f in world["folders"])
    projects = sorted(f"{CRM}projects/{p['number']}" for p in world["projects"])
    return [f"{CRM}{ORG}", *folders, *projects]


def effective_rules(gapic: Make, project: str, constraint: str = MODELS) -> list[dict[str, Any]]:
    """What the emulator's getEffectivePolicy answers over HTTP, as JSON rules."""
    name = f"projects/{project}/policies/{constraint.removeprefix('constraints/')}"
    found = gapic(orgpolicy_v2.OrgPolicyClient).get_effective_policy(name=name)
    return [plain(r) for r in found.spec.rules]


def consolidated_rules(container: Any) -> list[dict[str, Any]]:
    return [plain(r) for r in container.consolidated_policy.rules]


def plain(rule: Any) -> dict[str, Any]:
    """An Org Policy or Cloud Asset rule (same field names) as a dict of its set fields."""
    found: dict[str, Any] = {}
    values = {
        k: list(getattr(rule.values, k))
        for k in ("allowed_values", "denied_values")
        if getattr(rule.values, k)
    }
    if values:
        found["values"] = values
    found.update({k: True for k in ("allow_all", "deny_all") if getattr(rule, k)})
    return found


def discovered(emulator: Emulator, token: str = "emulator-owner") -> Any:
    doc = json.loads(DISCOVERY.read_text())
    doc["rootUrl"] = emulator.base_url + "/"
    return discovery.build_from_document(doc, credentials=Credentials(token=token)).v1()


def test_no_policy_set_anywhere_lists_nothing(gapic: Make, emulator: Emulator) -> None:
    with_policies(emulator, policy("projects/demo-ready", constraint=SERVICES, deny_all=True))
    pager = gapic(asset_v1.AssetServiceClient).analyze_org_policy_governed_containers(
        request={"scope": ORG, "constraint": MODELS}
    )
    assert list(pager) == []
    assert pager.constraint.google_defined_constraint.name == MODELS
    assert pager.constraint.google_defined_constraint.list_constraint.supports_under


def test_org_policy_governs_the_org_every_folder_and_project(
    gapic: Make, emulator: Emulator
) -> None:
    world = with_policies(emulator, policy(ORG, allowed_values=[GPT]))
    found = analyze(gapic)
    assert names(found) == every_container(world)  # organization, folders, projects, in order
    assert all(consolidated_rules(c) == [{"values": {"allowed_values": [GPT]}}] for c in found)
    assert all(c.consolidated_policy.attached_resource == f"{CRM}{ORG}" for c in found)
    by_name = {c.full_resource_name: c for c in found}
    org = by_name[f"{CRM}{ORG}"]
    assert not org.parent and org.organization == ORG and not org.project and not org.folders
    nested = by_name[f"{CRM}projects/100000000099"]
    assert nested.project == "projects/100000000099" and nested.organization == ORG
    assert list(nested.folders) == [SUB, FOLDER] and nested.parent == f"{CRM}{SUB}"
    assert nested.consolidated_policy.applied_resource == f"{CRM}projects/100000000099"
    (bundled,) = nested.policy_bundle
    assert bundled.attached_resource == f"{CRM}{ORG}" and not bundled.inherit_from_parent
    sub = by_name[f"{CRM}{SUB}"]
    assert sub.parent == f"{CRM}{FOLDER}" and list(sub.folders) == [SUB, FOLDER]


def test_folder_policies_consolidate_as_get_effective_policy_does(
    gapic: Make, emulator: Emulator
) -> None:
    world = with_policies(
        emulator,
        policy(ORG, allowed_values=[GEMINI]),
        policy(FOLDER, inherit_from_parent=True, denied_values=["under:publishers/meta"]),
        policy(SUB, reset=True),
        policy("projects/demo-ready", inherit_from_parent=True, allowed_values=[GPT]),
        policy("projects/100000000004", deny_all=True),
        policy(ORG, constraint=SERVICES, deny_all=True),  # another constraint: not analysed
    )
    found = {c.full_resource_name: c for c in analyze(gapic)}
    active = [p for p in world["projects"] if p["state"] == "ACTIVE"]
    assert len(active) > 5
    for project in active:
        container = found[f"{CRM}projects/{project['number']}"]
        assert consolidated_rules(container) == effective_rules(gapic, project["project_id"])
    ready = found[f"{CRM}projects/100000000001"]
    assert consolidated_rules(ready) == [
        {"values": {"allowed_values": [GEMINI, GPT], "denied_values": ["under:publishers/meta"]}}
    ]
    assert [p.attached_resource for p in ready.policy_bundle] == [
        f"{CRM}projects/100000000001", f"{CRM}{FOLDER}", f"{CRM}{ORG}",
    ]  # fmt: skip
    assert [p.inherit_from_parent for p in ready.policy_bundle] == [True, True, False]
    assert list(ready.policy_bundle[0].rules[0].values.allowed_values) == [GPT]  # as set
    nested = found[f"{CRM}projects/100000000099"]  # under the reset sub-folder: the default
    assert consolidated_rules(nested) == [] and nested.policy_bundle[0].reset
    assert nested.consolidated_policy.attached_resource == f"{CRM}{SUB}"
    off = found[f"{CRM}projects/100000000004"]
    assert consolidated_rules(off) == [{"deny_all": True}]


def test_a_project_policy_governs_that_project_only(gapic: Make, emulator: Emulator) -> None:
    with_policies(emulator, policy("projects/demo-policy-blocked", allowed_values=[GEMINI]))
    (only,) = analyze(gapic)
    assert only.full_resource_name == f"{CRM}projects/100000000008"
    assert only.project == "projects/100000000008" and only.parent == f"{CRM}{FOLDER}"
    assert consolidated_rules(only) == effective_rules(gapic, "demo-policy-blocked")
    assert only.policy_bundle[0].applied_resource == f"{CRM}projects/100000000008"


def test_pages_of_two_cover_every_container_once(gapic: Make, emulator: Emulator) -> None:
    with_policies(
        emulator,
        policy(SUB, denied_values=[GPT]),
        *(policy(f"projects/{p}", allowed_values=[GPT]) for p in ("demo-ready", "demo-grant")),
        policy("projects/100000000005", allowed_values=[GPT]),
    )
    pager = gapic(asset_v1.AssetServiceClient).analyze_org_policy_governed_containers(
        request={"scope": ORG, "constraint": MODELS, "page_size": 2}
    )
    pages = [names(list(p.governed_containers)) for p in pager.pages]
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [n for p in pages for n in p]
    assert flat == [
        f"{CRM}{SUB}", *(f"{CRM}projects/{n}" for n in (100000000001, 100000000005, 100000000009)),
        f"{CRM}projects/100000000099",
    ]  # fmt: skip


def test_page_size_is_capped_at_200(emulator: Emulator) -> None:
    raw = with_policies(emulator, policy(ORG, allowed_values=[GPT]))
    raw["projects"] += [
        {**raw["projects"][1], "project_id": f"bulk-{i:03d}", "number": str(200000000000 + i)}
        for i in range(200)
    ]
    emulator.put_world(raw)
    v1 = discovered(emulator)
    first = v1.analyzeOrgPolicyGovernedContainers(
        scope=ORG, constraint=MODELS, pageSize=500
    ).execute()
    assert len(first["governedContainers"]) == 200 and first["nextPageToken"]
    rest = v1.analyzeOrgPolicyGovernedContainers(
        scope=ORG, constraint=MODELS, pageSize=500, pageToken=first["nextPageToken"]
    ).execute()
    seen = [c["fullResourceName"] for c in first["governedContainers"] + rest["governedContainers"]]
    assert (
        len(seen) == len(set(seen)) == 1 + 2 + len(raw["projects"]) and "nextPageToken" not in rest
    )
    default = v1.analyzeOrgPolicyGovernedContainers(scope=ORG, constraint=MODELS).execute()
    assert len(default["governedContainers"]) == 100


def test_scope_must_be_an_organization_and_constraint_is_required(
    gapic: Make, emulator: Emulator
) -> None:
    with_policies(emulator, policy(ORG, allowed_values=[GPT]))
    for scope in (FOLDER, "projects/demo-ready"):
        with pytest.raises(exceptions.BadRequest) as caught:
            analyze(gapic, scope=scope)
        assert "organizations/" in caught.value.message
    with pytest.raises(exceptions.BadRequest):
        analyze(gapic, constraint="")
    with pytest.raises(HttpError) as missing:
        discovered(emulator).analyzeOrgPolicyGovernedContainers(scope=ORG).execute()
    assert missing.value.resp.status == 400
    assert json.loads(missing.value.content)["error"]["status"] == "INVALID_ARGUMENT"


def test_either_permission_on_the_scope_is_enough(gapic: Make, emulator: Emulator) -> None:
    raw = with_policies(emulator, policy(ORG, allowed_values=[GPT]))
    with pytest.raises(exceptions.Forbidden) as caught:
        analyze(gapic, token="emulator-viewer")
    assert caught.value.reason == "IAM_PERMISSION_DENIED"
    assert caught.value.metadata["permission"] == "cloudasset.assets.analyzeOrgPolicy"
    viewer = next(p for p in raw["principals"] if p["email"].startswith("viewer@"))
    viewer["grants"][ORG] = ["cloudasset.assets.analyzeOrgPolicy"]
    emulator.put_world(raw)
    assert len(analyze(gapic, token="emulator-viewer")) == len(every_container(raw))
    viewer["grants"][ORG] = ["cloudasset.assets.searchAllResources"]
    emulator.put_world(raw)
    assert len(analyze(gapic, token="emulator-viewer")) == len(every_container(raw))
    viewer["grants"][ORG] = []
    viewer["grants"][FOLDER] = ["cloudasset.assets.analyzeOrgPolicy"]  # below the scope
    emulator.put_world(raw)
    with pytest.raises(exceptions.Forbidden):
        analyze(gapic, token="emulator-viewer")


def test_cloudasset_viewer_role_grants_it(gapic: Make, emulator: Emulator) -> None:
    raw = with_policies(emulator, policy(SUB, allowed_values=[GPT]))
    viewer = "serviceAccount:viewer@bootstrap-emulator.iam.gserviceaccount.com"
    raw["iam_policies"] = [
        {"resource": ORG, "bindings": [{"role": "roles/cloudasset.viewer", "members": [viewer]}]}
    ]
    emulator.put_world(raw)
    assert len(analyze(gapic, token="emulator-viewer")) == 2  # the sub-folder and demo-nested


def test_filter_by_parent(gapic: Make, emulator: Emulator) -> None:
    with_policies(emulator, policy(ORG, allowed_values=[GPT]))
    under_sub = analyze(gapic, filter=f'parent="{CRM}{SUB}"')
    assert names(under_sub) == [f"{CRM}projects/100000000099"]
    under_folder = names(analyze(gapic, filter=f"parent = {CRM}{FOLDER}"))  # quotes optional
    assert f"{CRM}{SUB}" in under_folder and f"{CRM}projects/100000000001" in under_folder
    assert f"{CRM}projects/100000000099" not in under_folder  # its parent is the sub-folder
    assert analyze(gapic, filter="consolidated_policy.rules.enforce=true") == []
    with pytest.raises(exceptions.BadRequest) as caught:
        analyze(gapic, filter=f'parent:"{CRM}{SUB}"')
    assert "parent, consolidated_policy.rules.enforce" in caught.value.message
    with pytest.raises(exceptions.BadRequest):
        analyze(gapic, filter="project=projects/100000000001")


def test_journaled_and_charged_to_the_asset_quota(gapic: Make, emulator: Emulator) -> None:
    with_policies(
        emulator,
        policy(SUB, allowed_values=[GPT]),
        quotas={"enabled": True, "cloudasset_search_per_min": 2},
    )
    emulator.clear_journal()
    analyze(gapic)
    analyze(gapic)
    with pytest.raises(exceptions.TooManyRequests) as caught:
        analyze(gapic)
    assert caught.value.reason == "RATE_LIMIT_EXCEEDED"
    assert caught.value.metadata["service"] == "cloudasset.googleapis.com"
    journal = [e for e in emulator.journal() if e["path"].endswith(METHOD)]
    assert [e["status"] for e in journal] == [200, 200, 429]
    assert journal[0]["path"] == f"/v1/{ORG}{METHOD}" and "constraint=" in journal[0]["query"]
    # A search and the analysis draw on one bucket: the search is refused too.
    with pytest.raises(exceptions.TooManyRequests):
        list(gapic(asset_v1.AssetServiceClient).search_all_resources(request={"scope": ORG}))
    # The per-organization bucket counts another caller's analyses of the same organization.
    emulator.advance(60)  # the caller's bucket refills
    raw = with_policies(
        emulator,
        policy(SUB, allowed_values=[GPT]),
        quotas={"cloudasset_search_per_min": 100, "cloudasset_search_per_org_per_min": 1},
    )
    viewer = next(p for p in raw["principals"] if p["email"].startswith("viewer@"))
    viewer["grants"][ORG] = ["cloudasset.assets.analyzeOrgPolicy"]
    emulator.put_world(raw)
    analyze(gapic)
    with pytest.raises(exceptions.TooManyRequests) as org_caught:
        analyze(gapic, token="emulator-viewer")
    assert org_caught.value.metadata["quota_limit"].endswith("PerOrganization")


def test_answer_validates_against_the_discovery_schema(emulator: Emulator) -> None:
    import jsonschema

    from tests.emulator.test_schema import find_method, to_json_schema

    with_policies(
        emulator,
        policy(FOLDER, inherit_from_parent=True, denied_values=[GPT]),
        policy(SUB, reset=True),
        policy(ORG, allowed_values=[GEMINI]),
    )
    doc = json.loads(DISCOVERY.read_text())
    method = find_method(doc, "cloudasset.analyzeOrgPolicyGovernedContainers")
    schema = {
        "$ref": f"#/definitions/{method['response']['$ref']}",
        "definitions": {k: to_json_schema(v) for k, v in doc["schemas"].items()},
    }
    body = requests.get(
        f"{emulator.base_url}/v1/{ORG}{METHOD}",
        params={"constraint": MODELS, "pageSize": "5"},
        headers={"Authorization": "Bearer emulator-owner"},
        timeout=10,
    ).json()
    assert len(body["governedContainers"]) == 5 and body["nextPageToken"]
    jsonschema.validate(body, schema)
    v1 = discovered(emulator)
    via_discovery = v1.analyzeOrgPolicyGovernedContainers(
        scope=ORG, constraint=MODELS, pageSize=5
    ).execute()
    assert via_discovery.pop("nextPageToken") and body.pop("nextPageToken")
    assert via_discovery == body  # the same containers, whichever client asks


def test_a_page_after_the_policies_changed_leaves_out_what_is_no_longer_governed(
    gapic: Make, emulator: Emulator
) -> None:
    with_policies(emulator, policy(SUB, denied_values=[GPT]), policy(ORG, allowed_values=[GPT]))
    v1 = discovered(emulator)
    first = v1.analyzeOrgPolicyGovernedContainers(
        scope=ORG, constraint=MODELS, pageSize=4
    ).execute()
    assert len(first["governedContainers"]) == 4
    with_policies(emulator, policy(SUB, denied_values=[GPT]))  # the organization's is removed
    rest = v1.analyzeOrgPolicyGovernedContainers(
        scope=ORG, constraint=MODELS, pageSize=20, pageToken=first["nextPageToken"]
    ).execute()
    assert [c["fullResourceName"] for c in rest["governedContainers"]] == [
        f"{CRM}projects/100000000099"
    ]
    denied = rest["governedContainers"][0]["consolidatedPolicy"]["rules"]
    assert denied == [{"values": {"deniedValues": [GPT]}}]
