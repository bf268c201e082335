"""The policy analysis asks for a partial response: its requests carry the X-Goog-FieldMask the
emulator (and Google) answer with only container names and consolidated rules, and the answer
still reads as the effective policies."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import requests

from bootstrap.emulator.inprocess import Emulator
from bootstrap.gcp.client import GcpCloud

ORG = "organizations/123456789012"
MODELS = "constraints/vertexai.allowedModels"


def test_the_analysis_is_sent_with_its_field_mask(cloud: GcpCloud, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["org_policies"] = [{"resource": ORG, "constraint": MODELS, "deny_all": True}]
    emulator.put_world(world)
    masks: list[str | None] = []

    def seen(response: requests.Response, **_: Any) -> None:
        masks.append(response.request.headers.get("x-goog-fieldmask"))

    transport: Any = cloud._asset_api()._client._transport  # REST: it has a requests session
    session = transport._session
    session.hooks["response"].append(seen)
    found = cloud.analyze_org_policies(ORG, MODELS)
    assert masks and all(
        m and "consolidatedPolicy.rules" in m and "nextPageToken" in m for m in masks
    )
    assert found and all(p.rules and p.rules[0].deny_all for p in found.values())


def test_a_run_without_the_inventory_does_not_import_cloud_asset() -> None:
    """Cloud Asset's client library (~0.3 s to import) is loaded on first use, not at start-up."""
    code = (
        "import sys, bootstrap.gcp.client, bootstrap.cli.reconcile;"
        "print('google.cloud.asset_v1' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
