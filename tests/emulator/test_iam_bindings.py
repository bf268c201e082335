"""Allow policies decide what a principal may do: bindings with the role table, inheritance from
folders, conditions and groups granting nothing, the data plane's propagation lag, and
getIamPolicy/setIamPolicy (v1 and v3) answered as recorded, through google-api-python-client,
the GAPIC client and gcloud."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from google.api_core import exceptions
from google.cloud import resourcemanager_v3
from google.oauth2.credentials import Credentials
from googleapiclient import discovery

from bootstrap.emulator.iam import role_holds
from bootstrap.emulator.inprocess import Emulator
from tests.emulator.test_gcloud import gcloud
from tests.iam_support import project_policy, with_project_policy

Make = Callable[..., Any]
DISCOVERY = Path("/work/shared/reference/discovery")
APP = "app@demo-ready.iam.gserviceaccount.com"
MEMBER = f"serviceAccount:{APP}"
OK: Any = [{"role": "user", "content": "Reply with the single word ok."}]


def with_app(emulator: Emulator, *policies: dict[str, Any], **timing: Any) -> None:
    """The world plus an app service account with no direct grants and the given policies."""
    world = emulator.get_world()
    world["principals"].append({"email": APP, "tokens": ["app-token"], "grants": {}})
    world["iam_policies"] = list(policies)
    world["timing"].update(timing)
    emulator.put_world(world)


def chat_as(emulator: Emulator, token: str) -> Any:
    base = f"{emulator.base_url}/v1/projects/demo-ready/locations/global/endpoints/openapi"
    client = openai.OpenAI(base_url=base, api_key=token, max_retries=0)
    return client.chat.completions.create(
        model="openai/gpt-oss-120b-maas", messages=OK, max_tokens=4
    )


def built(emulator: Emulator, name: str, token: str = "emulator-owner") -> Any:
    doc = json.loads((DISCOVERY / f"{name}.json").read_text())
    doc["rootUrl"] = emulator.base_url + "/"
    return discovery.build_from_document(doc, credentials=Credentials(token=token))


def test_role_table() -> None:
    assert role_holds("roles/aiplatform.user", "aiplatform.endpoints.predict")
    assert role_holds("roles/viewer", "serviceusage.services.get")
    assert role_holds("roles/viewer", "resourcemanager.projects.getIamPolicy")
    assert not role_holds("roles/viewer", "serviceusage.services.enable")
    assert not role_holds("roles/editor", "resourcemanager.projects.setIamPolicy")
    assert role_holds("roles/owner", "resourcemanager.projects.setIamPolicy")
    assert not role_holds("roles/owner", "iam.serviceAccounts.getAccessToken")
    assert role_holds("roles/iam.serviceAccountTokenCreator", "iam.serviceAccounts.getAccessToken")
    assert not role_holds("roles/unknown", "resourcemanager.projects.get")


def test_a_project_binding_lets_the_principal_call_the_model(emulator: Emulator) -> None:
    with_app(emulator)
    with pytest.raises(openai.PermissionDeniedError):
        chat_as(emulator, "app-token")
    binding = {"role": "roles/aiplatform.user", "members": [MEMBER]}
    with_app(emulator, {"resource": "projects/demo-ready", "bindings": [binding]})
    assert chat_as(emulator, "app-token").choices[0].finish_reason


def test_a_folder_binding_is_inherited_and_a_condition_or_group_grants_nothing(
    gapic: Make, emulator: Emulator
) -> None:
    condition = {"expression": "request.time < timestamp('2030-01-01T00:00:00Z')"}
    with_app(
        emulator,
        {
            "resource": "folders/345678901234",
            "bindings": [{"role": "roles/browser", "members": [MEMBER]}],
        },
        {
            "resource": "projects/demo-ready",
            "bindings": [
                {"role": "roles/aiplatform.user", "members": [MEMBER], "condition": condition},
                {"role": "roles/aiplatform.user", "members": ["group:apps@example.com"]},
            ],
        },
    )
    client = gapic(resourcemanager_v3.ProjectsClient, token="app-token")
    assert client.get_project(name="projects/demo-ready").project_id == "demo-ready"
    with pytest.raises(exceptions.Forbidden):  # browser holds no setIamPolicy
        client.set_iam_policy(request={"resource": "projects/demo-ready", "policy": {}})
    with pytest.raises(openai.PermissionDeniedError):  # conditional and group bindings
        chat_as(emulator, "app-token")


def test_the_data_plane_sees_a_grant_only_after_it_propagates(emulator: Emulator) -> None:
    with_app(emulator, iam_propagation_s=120)
    crm = built(emulator, "cloudresourcemanager.v3")
    policy = crm.projects().getIamPolicy(resource="projects/demo-ready", body={}).execute()
    policy["bindings"] = [{"role": "roles/aiplatform.user", "members": [MEMBER]}]
    body = {"policy": policy}
    crm.projects().setIamPolicy(resource="projects/demo-ready", body=body).execute()
    read = crm.projects().getIamPolicy(resource="projects/demo-ready", body={}).execute()
    assert read["bindings"] == policy["bindings"]  # the control plane sees it at once
    with pytest.raises(openai.PermissionDeniedError):
        chat_as(emulator, "app-token")
    emulator.advance(121)
    assert chat_as(emulator, "app-token").choices[0].finish_reason


def test_v1_answers_as_recorded(emulator: Emulator) -> None:
    """k8s-config-connector iampartialpolicy/resources/project(-conditions)/_http.log: a policy
    never set answers only its etag; a policy set at version 3 without conditions is stored
    and answered at version 1; with a condition at version 3; an emptied policy at version 1."""
    crm = built(emulator, "cloudresourcemanager.v1").projects()
    options = {"options": {"requestedPolicyVersion": 3}}
    fresh = crm.getIamPolicy(resource="demo-ready", body=options).execute()
    assert list(fresh) == ["etag"]
    plain = [{"members": ["user:test@example.com", MEMBER], "role": "roles/viewer"}]
    sent = {"policy": {"bindings": plain, "etag": fresh["etag"], "version": 3}}
    answer = crm.setIamPolicy(resource="demo-ready", body=sent).execute()
    assert (answer["bindings"], answer["version"]) == (plain, 1)
    assert answer["etag"] != fresh["etag"]
    condition = {"expression": 'request.time < timestamp("2025-01-01T00:00:00Z")', "title": "t"}
    conditional = [{**plain[0], "condition": condition}]
    sent = {"policy": {"bindings": conditional, "etag": answer["etag"], "version": 3}}
    answer = crm.setIamPolicy(resource="demo-ready", body=sent).execute()
    assert answer["version"] == 3
    assert crm.getIamPolicy(resource="demo-ready", body=options).execute() == answer
    emptied = {"policy": {"etag": answer["etag"], "version": 3}}
    answer = crm.setIamPolicy(resource="demo-ready", body=emptied).execute()
    assert sorted(answer) == ["etag", "version"] and answer["version"] == 1


def test_set_keeps_audit_configs_unless_the_mask_names_them(emulator: Emulator) -> None:
    audit = [{"service": "allServices", "auditLogConfigs": [{"logType": "DATA_READ"}]}]
    world = emulator.get_world()
    with_project_policy(world, "demo-ready", {"bindings": [], "audit_configs": audit})
    emulator.put_world(world)
    crm = built(emulator, "cloudresourcemanager.v3").projects()
    read = crm.getIamPolicy(resource="projects/demo-ready", body={}).execute()
    assert read["auditConfigs"] == audit
    body: dict[str, Any] = {
        "policy": {
            "etag": read["etag"],
            "bindings": [{"role": "roles/viewer", "members": [MEMBER]}],
        }
    }
    kept = crm.setIamPolicy(resource="projects/demo-ready", body=body).execute()
    assert kept["auditConfigs"] == audit  # default mask: bindings,etag
    body = {"policy": {"etag": kept["etag"], "auditConfigs": []}, "updateMask": "auditConfigs"}
    cleared = crm.setIamPolicy(resource="projects/demo-ready", body=body).execute()
    assert "auditConfigs" not in cleared
    assert cleared["bindings"] == kept["bindings"]  # not in the mask: kept as they were


def test_a_condition_needs_version_3_and_a_stale_etag_is_409(emulator: Emulator) -> None:
    crm = built(emulator, "cloudresourcemanager.v3").projects()
    read = crm.getIamPolicy(resource="projects/demo-ready", body={}).execute()
    binding = {"role": "roles/viewer", "members": [MEMBER], "condition": {"expression": "true"}}
    body = {"policy": {"etag": read["etag"], "bindings": [binding], "version": 1}}
    with pytest.raises(Exception, match="version 3") as caught:
        crm.setIamPolicy(resource="projects/demo-ready", body=body).execute()
    assert caught.value.resp.status == 400  # type: ignore[attr-defined]
    crm.setIamPolicy(
        resource="projects/demo-ready", body={"policy": {"etag": read["etag"]}}
    ).execute()
    with pytest.raises(Exception, match="concurrent policy changes") as stale:
        crm.setIamPolicy(
            resource="projects/demo-ready", body={"policy": {"etag": read["etag"]}}
        ).execute()
    assert stale.value.resp.status == 409  # type: ignore[attr-defined]


@pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud not installed")
def test_gcloud_get_and_add_binding(emulator: Emulator, tmp_path: Path) -> None:
    world = emulator.get_world()
    kept = {"role": "roles/viewer", "members": ["user:ops@example.com"]}
    with_project_policy(world, "demo-ready", {"bindings": [kept], "etag": "BwYAAAAAAAE="})
    emulator.put_world(world)
    read = gcloud(emulator, tmp_path, "projects", "get-iam-policy", "demo-ready")
    assert read["bindings"] == [kept] and read["etag"] == "BwYAAAAAAAE="
    gcloud(
        emulator,
        tmp_path,
        "projects",
        "add-iam-policy-binding",
        "demo-ready",
        f"--member={MEMBER}",
        "--role=roles/aiplatform.user",
        "--condition=None",
    )
    after = project_policy(emulator.get_world(), "demo-ready")
    assert after["bindings"] == [kept, {"role": "roles/aiplatform.user", "members": [MEMBER]}]
