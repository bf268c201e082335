"""One truth for "ok": for every project state of the default world (and the propagating and
unreadable cases), the real CLI's exit code, JSON, JUnit, Markdown and table say the same thing,
and a project is ok exactly when the emulator's world says it is ready.

What "ready" means is computed here from the world itself (project active, an open billing account
linked, every required API on, the model enabled, its quota not 0, and every principal the demo
manifest names bound to roles/aiplatform.user), not from a table of expected strings.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bootstrap.catalog import MAAS_REQUIRED_SERVICES, lookup
from bootstrap.checks import PASSED, CheckStatus, junit_element
from bootstrap.emulator.inprocess import Emulator
from bootstrap.exitcodes import Command, ExitCode, check_exit_code, combine
from bootstrap.manifest.loader import load_manifests
from tests.cli.cli_support import Cli
from tests.error_payloads import envelope

DEMO = "manifests/demo.yaml"
_MODEL = lookup("gpt-oss-120b")
assert _MODEL is not None
PUBLISHER_MODEL = _MODEL.publisher_model
OK_SHOWN = ("ok", "changed")


def ready_in_world(world: dict[str, Any], project_id: str) -> bool:
    """The project can call the model today, by the world's own state."""
    accounts = {a["id"]: a for a in world["billing_accounts"]}
    project = next((p for p in world["projects"] if p["project_id"] == project_id), None)
    if project is None or project["state"] != "ACTIVE":
        return False
    account = accounts.get(project["billing_account"] or "")
    return (
        account is not None
        and account["open"]
        and set(MAAS_REQUIRED_SERVICES) <= set(project["services"])
        and PUBLISHER_MODEL in project["models"]
        and not _zero_quota(world, project)
        and _principals_can_call(world, project_id)
    )


def _principals_can_call(world: dict[str, Any], project_id: str) -> bool:
    """Every principal the demo manifest names for the project is in an unconditional
    roles/aiplatform.user binding of the project's policy (the workload can call the model)."""
    desired = load_manifests([Path(DEMO)], as_of=dt.date(2026, 11, 25)).desired
    assert desired is not None
    wanted = next((p.principals for p in desired.projects if p.project_id == project_id), ())
    policy: dict[str, Any] = next(
        (p for p in world.get("iam_policies", []) if p["resource"] == f"projects/{project_id}"),
        {"bindings": []},
    )
    granted = {
        m
        for b in policy["bindings"]
        if b["role"] == "roles/aiplatform.user" and "condition" not in b
        for m in b["members"]
    }
    return set(wanted) <= granted


def _zero_quota(world: dict[str, Any], project: dict[str, Any]) -> bool:
    """A `model_quotas` entry that refuses every call to the model for the project."""
    model = PUBLISHER_MODEL.rsplit("/", 1)[-1]
    return any(
        q["project"] in (project["project_id"], project["number"])
        and q["model"] == model
        and 0 in (q.get("requests_per_minute"), q.get("tokens_per_minute"))
        for q in world.get("model_quotas", [])
    )


def audit(
    cli: Cli, tmp_path: Path, *extra: str, manifest: str = DEMO
) -> tuple[int, dict[str, Any], str, str, str]:
    """(exit code, JSON, JUnit XML, Markdown, table) of one `bootstrap audit`."""
    files = [tmp_path / f"r.{ext}" for ext in ("json", "xml", "md")]
    outputs = [arg for path in files for arg in ("--output", str(path))]
    result = cli("audit", manifest, *outputs, *extra)
    assert "Traceback" not in result.output
    report = json.loads(files[0].read_text())
    return result.exit_code, report, files[1].read_text(), files[2].read_text(), result.stdout


def assert_formats_agree(
    code: int, report: dict[str, Any], junit: str, markdown: str, table: str
) -> None:
    projects = report["projects"]
    statuses = [CheckStatus(c["status"]) for p in projects for c in p["checks"]]
    # Exit code: one definition, and its two promises.
    assert (
        code == report["exit_code"] == combine(check_exit_code(Command.AUDIT, s) for s in statuses)
    )
    all_ok = all(p["status"] == "ok" for p in projects)
    assert (code == ExitCode.OK) == all_ok
    assert (code == ExitCode.ERROR) == (CheckStatus.UNKNOWN in statuses)
    suites = {s.get("name"): s for s in ET.fromstring(junit).iter("testsuite")}
    rows: dict[str, str] = {}  # the projects table comes before the smoke table
    for line in markdown.splitlines():
        if line.startswith("| ") and "`" in line:
            rows.setdefault(line.split("`")[1], line)
    for project in projects:
        pid, checks = project["project_id"], project["checks"]
        ok = all(CheckStatus(c["status"]) in PASSED | {CheckStatus.SKIPPED} for c in checks)
        assert (project["status"] == "ok") == ok, project
        # JUnit: the suite's status property, and one failure per check that did not pass.
        suite = suites[pid]
        assert suite.find("properties/property[@name='status']").get("value") == project["status"]  # type: ignore[union-attr]
        failed = [
            c
            for c in checks
            if junit_element(CheckStatus(c["status"]), planning=False) == "failure"
        ]
        assert int(suite.get("failures", "-1")) == len(failed) + sum(
            ch["outcome"] == "failed" for ch in project["changes"]
        ), pid
        assert (len(failed) == 0) == ok, pid
        # Markdown: a not-ok project names what needs attention, and the first cause among it.
        cells = [cell.strip() for cell in rows[pid].split(" | ")]
        attention = cells[-1].rstrip("|").strip()
        assert (attention == "") == ok, rows[pid]
        first_cause = next((c["cause"] for c in checks if c["cause"] and c in failed), None)
        if first_cause:
            assert first_cause in attention
        # Table: the project's line reads ok (or changed) exactly when it is ok.
        line = next(line for line in table.splitlines() if f" {pid} " in f"{line} ")
        assert any(f" {word}" in line for word in OK_SHOWN) == ok, line
    summary = report["summary"]
    assert summary["projects"] == len(projects)
    assert sum(summary[k] for k in ("ok", "changed", "changes", "propagating", "unknown",
                                     "action_required", "failed")) == len(projects)  # fmt: skip


def test_every_project_of_the_default_world_agrees_across_formats_and_with_the_world(
    cli: Cli, cli_env: Emulator, tmp_path: Path
) -> None:
    world = cli_env.get_world()
    code, report, junit, markdown, table = audit(cli, tmp_path)
    assert_formats_agree(code, report, junit, markdown, table)
    for project in report["projects"]:
        pid = project["project_id"]
        assert (project["status"] == "ok") == ready_in_world(world, pid), project
    assert code == ExitCode.CHANGES  # findings, and every read succeeded


API_OFF_ONLY = """
version: 1
projects:
  - project_id: demo-api-disabled
    billing_account: 012345-6789AB-CDEF01
    models: [{model: gpt-oss-120b, locations: [global], enable: false}]
"""


def apis_enabled_a_moment_ago(
    cli: Cli, emulator: Emulator, write_manifest: Callable[[str], str]
) -> str:
    """demo-api-disabled with its model enabled earlier and its APIs enabled just now, while the
    data plane lags Service Usage by 600 s; returns the manifest of that one project."""
    world = emulator.get_world()
    world["timing"]["service_propagation_s"] = 600
    world["projects"] = [
        {**p, "models": [PUBLISHER_MODEL]} if p["project_id"] == "demo-api-disabled" else p
        for p in world["projects"]
    ]
    emulator.put_world(world)
    manifest = write_manifest(API_OFF_ONLY)
    # Enable the APIs without probing (so apply does not wait the lag out).
    assert cli("apply", manifest, "--yes", "--no-probe", "--no-smoke").exit_code != 130
    api = next(
        p for p in emulator.get_world()["projects"] if p["project_id"] == "demo-api-disabled"
    )
    assert set(MAAS_REQUIRED_SERVICES) <= set(api["services"]), "Service Usage says ENABLED"
    return manifest


def test_apis_enabled_a_moment_ago_are_propagating_not_ok_until_wait_ready(
    cli: Cli, cli_env: Emulator, tmp_path: Path, write_manifest: Callable[[str], str]
) -> None:
    manifest = apis_enabled_a_moment_ago(cli, cli_env, write_manifest)
    code, report, junit, markdown, table = audit(cli, tmp_path, manifest=manifest)
    assert_formats_agree(code, report, junit, markdown, table)
    (lagging,) = report["projects"]
    assert lagging["status"] == "propagating"
    (model,) = [c for c in lagging["checks"] if c["name"].startswith("model:")]
    assert model["status"] == "propagating" and "--wait-ready" in model["remedy"]
    smoke = [c for c in lagging["checks"] if c["name"].startswith("smoke:")]
    assert [c["status"] for c in smoke] == ["not_run"] and model["name"] in smoke[0]["detail"]
    assert code == ExitCode.CHANGES

    code, report, *_ = audit(cli, tmp_path, "--wait-ready", "20m", manifest=manifest)
    (ready,) = report["projects"]
    assert ready["status"] == "ok", ready
    assert code == ExitCode.OK


def test_smoke_wait_ready_waits_out_the_lag_before_it_streams(
    cli: Cli, cli_env: Emulator, write_manifest: Callable[[str], str]
) -> None:
    manifest = apis_enabled_a_moment_ago(cli, cli_env, write_manifest)
    assert cli("smoke", manifest).exit_code == ExitCode.ERROR  # SERVICE_DISABLED while it lags
    result = cli("smoke", manifest, "--wait-ready", "20m", "--format", "json")
    assert result.exit_code == ExitCode.OK, result.output
    assert [c["status"] for c in json.loads(result.stdout)["projects"][0]["checks"]] == ["ok"]


def test_an_unreadable_billing_read_is_unknown_not_off_and_exits_1(
    cli: Cli, cli_env: Emulator, tmp_path: Path
) -> None:
    body = envelope(503, "UNAVAILABLE", "The service is currently unavailable.")
    rule = {
        "match": {"method": "GET", "path": "projects/demo-ready/billingInfo"},
        "status": 503,
        "times": 1000,
    }
    cli_env.add_faults({"rules": [{**rule, "body": body}]})
    code, report, junit, markdown, table = audit(cli, tmp_path)
    assert_formats_agree(code, report, junit, markdown, table)
    project = next(p for p in report["projects"] if p["project_id"] == "demo-ready")
    checks = {c["name"]: c for c in project["checks"]}
    assert checks["billing"]["status"] == "unknown" and checks["billing"]["cause"] == "UNAVAILABLE"
    assert checks["services"]["status"] == "ok", "the APIs were read: billing unknown is not off"
    assert "BILLING_REQUIRED_TO_ENABLE" not in json.dumps(project)
    assert project["status"] == "unknown"
    assert code == ExitCode.ERROR


@pytest.mark.parametrize(
    ("labels", "why"), [((), "no project found"), (("--label", "x=y"), "none of the")]
)
def test_an_audit_of_nothing_fails_unless_allowed(
    cli: Cli, cli_env: Emulator, labels: tuple[str, ...], why: str
) -> None:
    parent = "folders/999" if not labels else "folders/345678901234"
    result = cli("audit", "--parent", parent, *labels, "--format", "json")
    assert result.exit_code == ExitCode.ERROR
    assert why in result.stderr and "Traceback" not in result.output
    allowed = cli("audit", "--parent", parent, *labels, "--allow-empty", "--format", "json")
    assert allowed.exit_code == ExitCode.OK
    assert json.loads(allowed.stdout)["projects"] == []
