"""`bootstrap smoke` reads no state before streaming, so a vague refusal of the chat route
(SERVICE_DISABLED, BILLING_DISABLED, "not found or forbidden") is re-explained from the
project's state: billing first when billing is off, "enabled, still propagating" for an API
that is on, undelete for a project being deleted. Against the emulator over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import APIS, Cli, read_json


def _smoke(cli: Cli, tmp_path: Path, project: str) -> dict[str, Any]:
    out = tmp_path / f"{project}.json"
    result = cli("smoke", "manifests/demo.yaml", "--format", "json", "--output", str(out))
    assert result.exit_code == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    report = read_json(out)
    [found] = [p for p in report["projects"] if p["project_id"] == project]
    [check] = [c for c in found["checks"] if c["name"].startswith("smoke:")]
    return check


def test_billing_off_says_billing_first_not_enable_the_api(cli: Cli, tmp_path: Path) -> None:
    check = _smoke(cli, tmp_path, "demo-no-billing")
    assert check["cause"] == "BILLING_DISABLED"
    assert check["remedy"].startswith("link billing first: gcloud billing projects link ")
    assert "--billing-account=012345-6789AB-CDEF01" in check["remedy"]
    assert "gcloud services enable" not in check["remedy"]


def test_a_closed_account_is_not_offered_again(cli: Cli, tmp_path: Path) -> None:
    check = _smoke(cli, tmp_path, "demo-closed-billing")
    assert check["cause"] == "BILLING_DISABLED"
    assert "closed or disabled" in check["detail"]
    assert "--billing-account=0FEDCB-A98765-432101" not in check["remedy"]
    assert "gcloud services enable" not in check["remedy"]


def test_apis_off_with_billing_on_names_the_apis_to_enable(cli: Cli, tmp_path: Path) -> None:
    check = _smoke(cli, tmp_path, "demo-api-disabled")
    assert check["cause"] == "SERVICE_DISABLED"
    assert check["remedy"] == (
        "gcloud services enable " + " ".join(APIS) + " --project=demo-api-disabled"
    )


def test_delete_requested_is_undelete_not_does_not_exist(cli: Cli, tmp_path: Path) -> None:
    check = _smoke(cli, tmp_path, "demo-deleting")
    assert check["cause"] == "PROJECT_DELETE_REQUESTED"
    assert check["remedy"].startswith("gcloud projects undelete demo-deleting")
    assert "roles/browser" not in check["remedy"]
    assert "does not exist" not in check["detail"]


def test_an_enabled_api_still_propagating_is_not_called_disabled(
    cli: Cli, cli_env: Emulator, tmp_path: Path, world: Callable[..., None]
) -> None:
    def lag(w: dict[str, Any]) -> None:
        w["timing"] = {**w["timing"], "operation_polls": 0, "service_propagation_s": 3600}

    world(lag)
    answer = requests.post(
        f"http://{cli_env.host}/v1/projects/demo-api-disabled/services:batchEnable",
        headers={"Authorization": "Bearer emulator-owner"},
        data=json.dumps({"serviceIds": APIS}),
        timeout=10,
    )
    assert answer.ok, answer.text
    check = _smoke(cli, tmp_path, "demo-api-disabled")
    assert check["cause"] == "SERVICE_DISABLED"
    assert "enabled, still propagating" in check["detail"]
    assert "is disabled" not in check["detail"]
    assert "--wait-ready" in check["remedy"]
    assert "gcloud services enable" not in check["remedy"]
