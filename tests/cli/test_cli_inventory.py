"""`--inventory asset` against the emulator over HTTP: the same findings as `--inventory direct`
on a world with drift and a lagging inventory, far fewer per-project reads, discovery equal to
the folder walk, the report saying what the inventory judged, and the fallback when the caller
may not search."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import FOLDER, MODEL_120B, Cli, kind_of, read_json, scale_world
from tests.iam_support import with_project_policy

COUNT = 60
PARENT = f"folders/{FOLDER}"
PER_PROJECT = ("/v3/projects/", "/billingInfo", "/services:batchGet")
SEARCH = "cloudasset.assets.searchAllResources"


@pytest.fixture
def lagging_world(cli_env: Emulator) -> Emulator:
    """The scale world with a 10-minute inventory lag and changes made after the load: one
    project fixed (billing linked) and one drifted (its Vertex AI API disabled), both inside
    the lag, so the inventory shows each of them as it was."""
    world = scale_world(cli_env.get_world(), COUNT)
    # No read-after-write lags besides the inventory's: every run sees the changes settled.
    world["timing"].update(
        inventory_lag_s=600,
        operation_polls=0,
        operation_seconds=0,
        billing_propagation_s=0,
        service_propagation_s=0,
    )
    cli_env.put_world(world)
    cli_env.advance(5)
    _call(cli_env, "PUT", "/v1/projects/scale-no-billing-001/billingInfo",
          {"billingAccountName": "billingAccounts/012345-6789AB-CDEF01"})  # fmt: skip
    _call(
        cli_env,
        "POST",
        "/v1/projects/scale-ready-000/services/aiplatform.googleapis.com:disable",
        {},
    )
    cli_env.clear_journal()
    return cli_env


def _call(emulator: Emulator, method: str, path: str, body: dict[str, Any]) -> None:
    import requests

    answer = requests.request(
        method, emulator.base_url + path, json=body,
        headers={"Authorization": "Bearer emulator-owner"}, timeout=10,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text


def audit(cli: Cli, tmp_path: Path, name: str, *args: str) -> tuple[int, dict[str, Any], str]:
    path = tmp_path / f"{name}.json"
    result = cli("audit", "--parent", PARENT, "--no-smoke", *args, "--output", str(path))
    assert "Traceback" not in result.output
    report = read_json(path)
    assert report["exit_code"] == result.exit_code
    return result.exit_code, report, result.stderr


def findings(report: dict[str, Any]) -> dict[str, Any]:
    """Per project: its status and every check's status, cause and detail (not timings)."""
    return {
        p["project_id"]: (
            p["status"],
            [(c["name"], c["status"], c["cause"], c["detail"]) for c in p["checks"]],
        )
        for p in report["projects"]
    }


def per_project_reads(emulator: Emulator) -> Counter[str]:
    """Projects by how many of their project, billing and services reads were sent."""
    reads: Counter[str] = Counter()
    for entry in emulator.journal():
        path = entry["path"]
        if any(marker in path for marker in PER_PROJECT):
            reads[path.split("/")[3].split(":")[0]] += 1
    return reads


def test_asset_and_direct_agree_on_a_drifted_lagging_world(
    cli: Cli, lagging_world: Emulator, tmp_path: Path
) -> None:
    code_direct, direct, _ = audit(cli, tmp_path, "direct", "--inventory", "direct")
    direct_reads = per_project_reads(lagging_world)
    lagging_world.clear_journal()
    code_asset, asset, _ = audit(cli, tmp_path, "asset", "--inventory", "asset")
    asset_reads = per_project_reads(lagging_world)
    assert code_asset == code_direct == 2
    assert findings(asset) == findings(direct)
    statuses = {p["project_id"]: p["status"] for p in asset["projects"]}
    fixed = next(p for p in asset["projects"] if p["project_id"] == "scale-no-billing-001")
    assert next(c for c in fixed["checks"] if c["name"] == "billing")["status"] == "ok"
    assert statuses["scale-ready-000"] != "ok", "the drift inside the lag is still found"
    # Converged projects were judged from the inventory: none of their three reads was sent.
    judged = {
        p["project_id"]
        for p in asset["projects"]
        if any(c["metrics"].get("observed_from") == "inventory" for c in p["checks"])
    }
    ready = {p for p in statuses if kind_of(p) == "ready"} - {"scale-ready-000"}
    assert judged == ready and asset["summary"]["inventory_projects"] == len(ready)
    assert asset["summary"]["inventory"] == "asset" and direct["summary"]["inventory"] == "direct"
    assert asset["summary"]["inventory_stale_at_most_s"] >= 0
    assert all(direct_reads[p] == 3 for p in ready)
    assert not any(asset_reads[p] for p in ready), "judged projects were not read one by one"
    assert asset_reads["scale-ready-000"] == 3 and asset_reads["scale-no-billing-001"] == 3
    searches = [e for e in lagging_world.journal() if e["path"].endswith(":searchAllResources")]
    assert 1 <= len(searches) <= 3


def test_parent_discovery_from_the_inventory_equals_the_folder_walk(
    cli: Cli, lagging_world: Emulator, tmp_path: Path
) -> None:
    _, walked, _ = audit(cli, tmp_path, "walk", "--inventory", "direct")
    assert any(e["path"] == "/v3/folders" for e in lagging_world.journal())
    lagging_world.clear_journal()
    _, swept, _ = audit(cli, tmp_path, "swept", "--inventory", "asset")
    assert not any(e["path"] == "/v3/folders" for e in lagging_world.journal())
    assert [p["project_id"] for p in swept["projects"]] == [
        p["project_id"] for p in walked["projects"]
    ]
    _, labelled, _ = audit(cli, tmp_path, "lab", "--inventory", "asset", "--label", "kind=ready")
    assert {kind_of(p["project_id"]) for p in labelled["projects"]} == {"ready"}


def test_without_permission_to_search_the_run_reads_directly_and_says_why(
    cli: Cli, lagging_world: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", "emulator-viewer")
    _, viewer_direct, _ = audit(cli, tmp_path, "viewer-direct", "--inventory", "direct")
    code, fallback, stderr = audit(cli, tmp_path, "fallback", "--inventory", "asset")
    assert findings(fallback) == findings(viewer_direct)
    warning = next(w for w in fallback["warnings"] if w.startswith("--inventory asset"))
    assert SEARCH in warning and "billing.resourceAssociations.list" in warning
    assert PARENT in warning and "roles/cloudasset.viewer" in warning
    assert fallback["summary"]["inventory"] == "direct"
    assert "Traceback" not in stderr and "ya29" not in json.dumps(fallback)
    assert code in (1, 2)


def test_auto_sweeps_above_500_projects_under_one_parent_only(
    cli: Cli, cli_env: Emulator, tmp_path: Path
) -> None:
    cli_env.put_world(scale_world(cli_env.get_world(), 510, kinds=("ready",)))
    fast = ("--no-probe", "--skip", "policy", "--skip", "quota")

    def sweeps() -> int:
        return sum(1 for e in cli_env.journal() if e["path"].endswith(":searchAllResources"))

    cli_env.clear_journal()
    _, few, _ = audit(cli, tmp_path, "few", *fast, "--label", "env=prod")  # 255 projects
    assert len(few["projects"]) == 255 and sweeps() == 0 and "inventory" not in few["summary"]
    cli_env.clear_journal()
    _, many, _ = audit(cli, tmp_path, "many", *fast)
    # 500 results a page: 2 pages of projects, then 3 of their 1,020 enabled services.
    assert len(many["projects"]) == 510 and sweeps() == 2 + 3
    assert many["summary"]["inventory"] == "asset"
    assert many["summary"]["inventory_projects"] == 510


MODELS = "constraints/vertexai.allowedModels"
SERVICES = "constraints/gcp.restrictServiceUsage"
DENIED = "scale-ready-006"


def _check(report: dict[str, Any], project_id: str, name: str) -> dict[str, Any]:
    project = next(p for p in report["projects"] if p["project_id"] == project_id)
    return dict(next(c for c in project["checks"] if c["name"] == name))


def test_org_policies_come_from_one_analysis_per_constraint_and_a_denial_is_reread(
    cli: Cli, cli_env: Emulator, tmp_path: Path
) -> None:
    world = scale_world(cli_env.get_world(), COUNT)
    world["org_policies"] = [
        {
            "resource": "organizations/123456789012",
            "constraint": MODELS,
            "allowed_values": [f"is:{MODEL_120B}:predict"],
        },
        {
            "resource": f"projects/{DENIED}",
            "constraint": MODELS,
            "denied_values": [f"{MODEL_120B}:predict"],
            "inherit_from_parent": True,
        },
    ]
    cli_env.put_world(world)
    cli_env.clear_journal()
    _, direct, _ = audit(cli, tmp_path, "direct", "--inventory", "direct")
    cli_env.clear_journal()
    _, asset, _ = audit(cli, tmp_path, "asset", "--inventory", "asset")
    assert findings(asset) == findings(direct)
    denied = _check(asset, DENIED, "policy")
    assert (denied["status"], denied["cause"]) == ("action_required", "ORG_POLICY_DENIED")
    journal = cli_env.journal()
    # One analysis of the organization per constraint (60 projects: one page each) ...
    analyses = [e for e in journal if e["path"].endswith(":analyzeOrgPolicyGovernedContainers")]
    asked = sorted(parse_qs(e["query"])["constraint"][0] for e in analyses)
    assert asked == [SERVICES, MODELS]
    assert {e["path"] for e in analyses} == {
        "/v1/organizations/123456789012:analyzeOrgPolicyGovernedContainers"
    }
    assert asset["summary"]["inventory_org_policies"] == f"{SERVICES}, {MODELS}"
    # ... stands in for the effective-policy reads of every project judged from the inventory;
    # the denied project (a finding) and the drifted ones are read directly before reporting.
    judged = {
        p["project_id"]
        for p in asset["projects"]
        if _check(asset, p["project_id"], "project")["metrics"].get("observed_from")
    }
    read_directly = {
        e["path"].split("/")[3] for e in journal if e["path"].endswith(":getEffectivePolicy")
    }
    assert DENIED in read_directly and DENIED not in judged
    assert judged and not judged & read_directly
    assert all(
        _check(asset, p, "policy")["metrics"]["observed_from"] == "inventory" for p in judged
    )


MEMBER = "serviceAccount:app@ml-apps.iam.gserviceaccount.com"
UNGRANTED_IN = "scale-ready-005"


def _principal_manifest(ids: list[str]) -> str:
    """The projects under the folder, each wanting gpt-oss-120b and MEMBER able to call it."""
    listed = "".join(f"  - project_id: {pid}\n" for pid in ids)
    return (
        "version: 1\ndefaults:\n"
        f"  parent: {PARENT}\n"
        "  link_billing: false\n"
        f"  principals: [{MEMBER}]\n"
        "  models:\n    - model: gpt-oss-120b\n      locations: [global]\n"
        f"projects:\n{listed}"
    )


def test_iam_policies_come_from_one_search_and_a_missing_grant_is_reread(
    cli: Cli, cli_env: Emulator, tmp_path: Path
) -> None:
    world = scale_world(cli_env.get_world(), 12, kinds=("ready",))
    ids = [p["project_id"] for p in world["projects"] if p["parent"] == PARENT]
    policy = {"bindings": [{"role": "roles/aiplatform.user", "members": [MEMBER]}]}
    for pid in ids:
        with_project_policy(world, pid, None if pid == UNGRANTED_IN else policy)
    cli_env.put_world(world)
    manifest = tmp_path / "principals.yaml"
    manifest.write_text(_principal_manifest(ids))

    def run(path: str) -> dict[str, Any]:
        out = tmp_path / f"{path}.json"
        result = cli(
            "audit", str(manifest), "--no-smoke", "--inventory", path, "--output", str(out)
        )
        assert "Traceback" not in result.output
        return read_json(out)

    cli_env.clear_journal()
    direct = run("direct")
    cli_env.clear_journal()
    asset = run("asset")
    assert findings(asset) == findings(direct)
    missing = _check(asset, UNGRANTED_IN, f"access:{MEMBER}")
    assert missing["status"] != "ok"
    journal = cli_env.journal()
    searches = [e for e in journal if e["path"].endswith(":searchAllIamPolicies")]
    assert [e["path"] for e in searches] == [f"/v1/{PARENT}:searchAllIamPolicies"]
    # The search stands in for getIamPolicy of every project judged from the inventory; the
    # project without the grant (a finding) is read directly before it is reported.
    read_directly = {
        e["path"].split("/")[3].split(":")[0]
        for e in journal
        if e["path"].endswith(":getIamPolicy")
    }
    assert read_directly == {UNGRANTED_IN}
    for pid in set(ids) - {UNGRANTED_IN}:
        access = _check(asset, pid, f"access:{MEMBER}")
        assert access["status"] == "ok" and access["metrics"]["observed_from"] == "inventory"
