"""GcpCloud.tokens_as and --impersonate-service-account against the emulator's IAM Credentials:
tokens that act as the account, and a refusal classified as IMPERSONATION_DENIED with the grant
that fixes it (never a login remedy, never the token)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bootstrap.clock import VirtualClock
from bootstrap.emulator.inprocess import Emulator
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.client import GcpCloud, connect
from bootstrap.gcp.settings import settings_from_env

APP = "app@demo-ready.iam.gserviceaccount.com"


def with_account(emulator: Emulator, *, grants: dict[str, list[str]] | None = None) -> None:
    world = emulator.get_world()
    world["service_accounts"] = [{"email": APP, "project": "demo-ready"}]
    # The account itself may read projects (a direct grant), to tell whose calls are whose.
    world["principals"].append(
        {"email": APP, "tokens": [], "grants": grants or {"*": ["resourcemanager.projects.get"]}}
    )
    emulator.put_world(world)


def connected(
    emulator: Emulator, clock: VirtualClock, token: str, impersonate: str | None = None
) -> GcpCloud:
    env = {"BOOTSTRAP_EMULATOR_HOST": emulator.host, "BOOTSTRAP_EMULATOR_TOKEN": token}
    settings = settings_from_env(env=env, clock=clock, seed=0)
    return connect(replace(settings, impersonate_service_account=impersonate))


def test_tokens_as_act_as_the_account(
    cloud: GcpCloud, emulator: Emulator, clock: VirtualClock
) -> None:
    with_account(emulator)
    token = cloud.tokens_as(APP).token()
    assert token != cloud.tokens().token()
    assert cloud.tokens_as(APP) is cloud.tokens_as(APP)  # one source per account, per run
    mints = [e for e in emulator.journal() if e["path"].endswith(":generateAccessToken")]
    assert [m["principal"] for m in mints] == ["owner@bootstrap-emulator.iam.gserviceaccount.com"]


def test_a_caller_without_token_creator_gets_impersonation_denied(
    emulator: Emulator, clock: VirtualClock
) -> None:
    with_account(emulator)
    viewer = connected(emulator, clock, "emulator-viewer")
    with pytest.raises(BootstrapError) as caught:
        viewer.tokens_as(APP).token()
    failure = caught.value.failure
    assert failure.cause is Cause.IMPERSONATION_DENIED
    assert APP in failure.message and "iam.serviceAccounts.getAccessToken" in failure.message
    assert failure.remedy == (
        f"gcloud iam service-accounts add-iam-policy-binding {APP} --member=YOUR_PRINCIPAL "
        "--role=roles/iam.serviceAccountTokenCreator"
    )
    assert "emulator-viewer" not in failure.message + failure.remedy


def test_impersonate_service_account_works_under_the_emulator(
    emulator: Emulator, clock: VirtualClock
) -> None:
    with_account(emulator)
    cloud = connected(emulator, clock, "emulator-owner", impersonate=APP)
    try:
        assert cloud.get_project("demo-ready").project_id == "demo-ready"
    finally:
        cloud.close()
    reads = [e for e in emulator.journal() if e["path"] == "/v3/projects/demo-ready"]
    assert [r["principal"] for r in reads] == [APP]
