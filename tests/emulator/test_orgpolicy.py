"""Org Policy v2 `projects.policies.getEffectivePolicy` against the emulator, through the GAPIC
REST client and google-api-python-client built from shared/reference/discovery/orgpolicy.v2.json:
hierarchy resolution (organization -> folders -> project, `inherit_from_parent`, `reset`,
`allow_all`, `deny_all`), the permission it checks, and the chat route enforcing the same answer
with row 23's 400."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from google.api_core import exceptions
from google.cloud import orgpolicy_v2
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from bootstrap.emulator.inprocess import Emulator
from bootstrap.emulator.world import world_from_dict

DISCOVERY = Path("/work/shared/reference/discovery/orgpolicy.v2.json")
MODELS = "constraints/vertexai.allowedModels"
SERVICES = "constraints/gcp.restrictServiceUsage"
ORG, FOLDER, SUBFOLDER = (
    "organizations/123456789012",
    "folders/345678901234",
    "folders/456789012345",
)
GPT = "publishers/openai/models/gpt-oss-120b-maas"
Make = Callable[..., Any]


def policy(resource: str, constraint: str = MODELS, **rule: Any) -> dict[str, Any]:
    return {"resource": resource, "constraint": constraint, **rule}


def with_policies(emulator: Emulator, *policies: dict[str, Any]) -> None:
    world = emulator.get_world()
    world["org_policies"] = list(policies)
    emulator.put_world(world)


def effective(gapic: Make, project: str, constraint: str = MODELS) -> orgpolicy_v2.Policy:
    name = f"projects/{project}/policies/{constraint.removeprefix('constraints/')}"
    return gapic(orgpolicy_v2.OrgPolicyClient).get_effective_policy(name=name)


def values(found: orgpolicy_v2.Policy) -> tuple[list[str], list[str]]:
    (rule,) = found.spec.rules
    return list(rule.values.allowed_values), list(rule.values.denied_values)


def discovered(emulator: Emulator, token: str = "emulator-owner") -> Any:
    doc = json.loads(DISCOVERY.read_text())
    doc["rootUrl"] = emulator.base_url + "/"
    return discovery.build_from_document(doc, credentials=Credentials(token=token))


def test_nothing_set_answers_the_name_and_no_rules(gapic: Make, emulator: Emulator) -> None:
    found = effective(gapic, "demo-ready")
    assert found.name == "projects/demo-ready/policies/vertexai.allowedModels"
    assert list(found.spec.rules) == [] and not found.etag


def test_the_nearest_policy_replaces_those_above(gapic: Make, emulator: Emulator) -> None:
    with_policies(
        emulator,
        policy(ORG, allowed_values=["is:publishers/google/models/gemini-2.5-flash:predict"]),
        policy(FOLDER, allowed_values=[f"{GPT}:predict"]),
    )
    assert values(effective(gapic, "demo-ready")) == ([f"{GPT}:predict"], [])
    # demo-nested sits under a sub-folder with no policy: the folder above still decides.
    assert values(effective(gapic, "demo-nested")) == ([f"{GPT}:predict"], [])


def test_inherit_from_parent_merges_values(gapic: Make, emulator: Emulator) -> None:
    with_policies(
        emulator,
        policy(ORG, allowed_values=["publishers/google/models/gemini-2.5-flash:predict"]),
        policy(FOLDER, inherit_from_parent=True, denied_values=["under:publishers/meta"]),
        policy(
            "projects/100000000001", inherit_from_parent=True, allowed_values=[f"{GPT}:predict"]
        ),
    )
    allowed, denied = values(effective(gapic, "demo-ready"))
    assert allowed == ["publishers/google/models/gemini-2.5-flash:predict", f"{GPT}:predict"]
    assert denied == ["under:publishers/meta"]


def test_reset_allow_all_and_deny_all(gapic: Make, emulator: Emulator) -> None:
    with_policies(
        emulator,
        policy(FOLDER, constraint=SERVICES, deny_all=True),
        policy("projects/demo-ready", constraint=SERVICES, reset=True),
        policy(SUBFOLDER, constraint=SERVICES, inherit_from_parent=True, denied_values=["x"]),
        policy(FOLDER, allow_all=True),
    )
    assert list(effective(gapic, "demo-ready", SERVICES).spec.rules) == []
    (rule,) = effective(gapic, "demo-nested", SERVICES).spec.rules
    assert rule.deny_all  # a parent's denyAll stays when a child merges into it
    (rule,) = effective(gapic, "demo-model-off", SERVICES).spec.rules
    assert rule.deny_all
    (rule,) = effective(gapic, "demo-ready").spec.rules
    assert rule.allow_all


def test_discovery_client_reads_the_same_shape(emulator: Emulator) -> None:
    with_policies(
        emulator,
        policy(FOLDER, constraint=SERVICES, denied_values=["is:aiplatform.googleapis.com"]),
    )
    name = "projects/100000000001/policies/gcp.restrictServiceUsage"
    body = discovered(emulator).projects().policies().getEffectivePolicy(name=name).execute()
    assert body == {
        "name": name,
        "spec": {"rules": [{"values": {"deniedValues": ["is:aiplatform.googleapis.com"]}}]},
    }


def test_the_read_needs_orgpolicy_policy_get(gapic: Make, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["principals"].append(
        {
            "email": "no-policy@example.com",
            "tokens": ["no-policy"],
            "grants": {"*": ["resourcemanager.projects.get"]},
        }
    )
    emulator.put_world(world)
    client = gapic(orgpolicy_v2.OrgPolicyClient, token="no-policy")
    with pytest.raises(exceptions.Forbidden) as caught:
        client.get_effective_policy(name="projects/demo-ready/policies/vertexai.allowedModels")
    assert caught.value.reason == "IAM_PERMISSION_DENIED"
    assert caught.value.metadata["permission"] == "orgpolicy.policy.get"
    with pytest.raises(HttpError) as missing:
        name = "projects/nope-nope/policies/vertexai.allowedModels"
        discovered(emulator).projects().policies().getEffectivePolicy(name=name).execute()
    assert missing.value.resp.status == 403
    # The default world's viewer holds what an audit needs, this read included.
    viewer = gapic(orgpolicy_v2.OrgPolicyClient, token="emulator-viewer")
    assert viewer.get_effective_policy(name="projects/demo-ready/policies/vertexai.allowedModels")


def _chat(emulator: Emulator, project: str) -> Any:
    base = f"{emulator.base_url}/v1/projects/{project}/locations/global/endpoints/openapi"
    client = openai.OpenAI(base_url=base, api_key="emulator-owner", max_retries=0)
    return client.chat.completions.create(
        model="openai/gpt-oss-120b-maas",
        messages=[{"role": "user", "content": "Reply with the single word ok."}],
        max_tokens=8,
    )


def test_the_chat_route_enforces_the_same_resolution(emulator: Emulator) -> None:
    # The folder denies gpt-oss; demo-ready merges into it (still denied), demo-nested's
    # sub-folder resets the constraint (allowed again).
    with_policies(
        emulator,
        policy(FOLDER, denied_values=[f"is:{GPT}:predict"]),
        policy("projects/demo-ready", inherit_from_parent=True, allowed_values=[f"{GPT}:predict"]),
        policy(SUBFOLDER, reset=True),
    )
    with pytest.raises(openai.BadRequestError) as caught:
        _chat(emulator, "demo-ready")
    error = caught.value.body if isinstance(caught.value.body, dict) else {}
    assert "constraints/vertexai.allowedModels violated for `projects/100000000001`" in str(error)
    assert f"add {GPT}:predict to the allowed values" in str(error)
    assert _chat(emulator, "demo-nested").choices[0].finish_reason


@pytest.mark.parametrize(
    "bad",
    [
        policy(ORG, allow_all=True, deny_all=True),
        policy(ORG, allow_all=True, allowed_values=["x"]),
        policy(ORG, reset=True, denied_values=["x"]),
        policy(ORG, reset=True, inherit_from_parent=True),
        policy(ORG, deny_all="yes"),
    ],
)
def test_bad_policies_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="org_policies"):
        world_from_dict({"org_policies": [bad]})
