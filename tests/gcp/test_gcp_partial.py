"""Partial responses (bootstrap.gcp.partial): each read whose answer Google pads with what bootstrap
never reads sends an X-Goog-FieldMask; the emulator (as Google) answers with only those fields, and
the answer still reads as before. Also: Cloud Asset's library is loaded only when used."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import requests

from bootstrap.cloud.observed import ServiceState
from bootstrap.emulator.inprocess import Emulator
from bootstrap.gcp import quotas as gcp_quotas
from bootstrap.gcp.client import GcpCloud

ORG = "organizations/123456789012"
MODELS = "constraints/vertexai.allowedModels"
GPT = "publishers/openai/models/gpt-oss-120b-maas"
AIP = "aiplatform.googleapis.com"


def _answers(client: Any) -> list[tuple[str | None, dict[str, Any]]]:
    """Every (field mask sent, JSON answered) of a GAPIC REST client from now on."""
    answers: list[tuple[str | None, dict[str, Any]]] = []

    def seen(response: requests.Response, **_: Any) -> None:
        answers.append((response.request.headers.get("x-goog-fieldmask"), response.json()))

    client._transport._session.hooks["response"].append(seen)  # REST: a requests session
    return answers


def test_the_analysis_asks_for_names_and_consolidated_rules(
    cloud: GcpCloud, emulator: Emulator
) -> None:
    world = emulator.get_world()
    world["org_policies"] = [{"resource": ORG, "constraint": MODELS, "deny_all": True}]
    emulator.put_world(world)
    answers = _answers(cloud._asset_api()._client)
    found = cloud.analyze_org_policies(ORG, MODELS)
    assert answers
    for mask, body in answers:
        assert mask and "consolidatedPolicy.rules" in mask and "nextPageToken" in mask
        for container in body["governedContainers"]:
            assert set(container) <= {"fullResourceName", "consolidatedPolicy"}
    assert found and all(p.rules and p.rules[0].deny_all for p in found.values())


def test_the_quota_list_asks_for_only_the_fields_it_reads(
    cloud: GcpCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gcp_quotas, "PAGE_SIZE", 2)
    answers = _answers(cloud._quotas._client)
    found = cloud.get_model_quotas("demo-ready", [(GPT, "global")])
    assert len(answers) == found.pages == 3
    for mask, body in answers:
        assert mask and "quotaInfos.dimensionsInfos.details.value" in mask
        assert "nextPageToken" in mask
        for info in body["quotaInfos"]:
            assert set(info) <= {"quotaId", "metric", "dimensions", "dimensionsInfos"}
    quota = found.find(GPT, "global")
    assert quota is not None and quota.requests_per_minute == 650


def test_batch_get_asks_for_each_services_name_and_state(cloud: GcpCloud) -> None:
    answers = _answers(cloud._services._client)
    states = cloud.get_services("demo-ready", [AIP, "compute.googleapis.com"])
    assert [mask for mask, _ in answers] == ["services.name,services.state"]
    assert all(set(service) <= {"name", "state"} for service in answers[0][1]["services"])
    assert states == {AIP: ServiceState.ENABLED, "compute.googleapis.com": ServiceState.DISABLED}


def test_a_run_without_the_inventory_does_not_import_cloud_asset() -> None:
    """Cloud Asset's client library (~0.3 s to import) is loaded on first use, not at start-up."""
    code = (
        "import sys, bootstrap.gcp.client, bootstrap.cli.reconcile;"
        "print('google.cloud.asset_v1' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
