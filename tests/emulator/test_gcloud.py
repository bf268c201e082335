"""gcloud, hermetic (temporary config, token file, endpoint overrides), against the emulator:
describe, list, enable, billing describe and link change the emulator's state."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator

pytestmark = pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud not installed")


def gcloud(emulator: Emulator, tmp_path: Path, *args: str) -> Any:
    token = tmp_path / "token"
    token.write_text("emulator-owner")
    url = emulator.base_url + "/"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "true",
        "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "true",
        "CLOUDSDK_AUTH_ACCESS_TOKEN_FILE": str(token),
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER": url,
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_SERVICEUSAGE": url,
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDBILLING": url,
    }
    done = subprocess.run(
        ["gcloud", *args, "--format=json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def project(emulator: Emulator, project_id: str) -> dict[str, Any]:
    return next(p for p in emulator.get_world()["projects"] if p["project_id"] == project_id)


def test_describe_and_list_enabled(emulator: Emulator, tmp_path: Path) -> None:
    described = gcloud(emulator, tmp_path, "projects", "describe", "demo-ready")
    assert described["projectNumber"] == "100000000001" and described["lifecycleState"] == "ACTIVE"
    enabled = gcloud(emulator, tmp_path, "services", "list", "--enabled", "--project", "demo-ready")
    assert {s["config"]["name"] for s in enabled} == {
        "aiplatform.googleapis.com",
        "cloudcommerceconsumerprocurement.googleapis.com",
    }


def test_gcloud_alone_links_billing_then_enables_aiplatform(
    emulator: Emulator, tmp_path: Path
) -> None:
    before = gcloud(emulator, tmp_path, "billing", "projects", "describe", "demo-no-billing")
    assert before["billingEnabled"] is False
    gcloud(
        emulator,
        tmp_path,
        "billing",
        "projects",
        "link",
        "demo-no-billing",
        "--billing-account",
        "012345-6789AB-CDEF01",
    )
    assert project(emulator, "demo-no-billing")["billing_account"] == "012345-6789AB-CDEF01"
    gcloud(
        emulator,
        tmp_path,
        "services",
        "enable",
        "aiplatform.googleapis.com",
        "--project",
        "demo-no-billing",
    )
    assert "aiplatform.googleapis.com" in project(emulator, "demo-no-billing")["services"]
    mutations = [(e["method"], e["path"]) for e in emulator.journal() if e["mutating"]]
    assert mutations == [
        ("PUT", "/v1/projects/demo-no-billing/billingInfo"),
        ("POST", "/v1/projects/demo-no-billing/services/aiplatform.googleapis.com:enable"),
    ]
    assert any(e["path"].startswith("/v1/operations/acat.") for e in emulator.journal())
