"""IAM Credentials generateAccessToken: tokens that act as a service account, minted only for a
caller with iam.serviceAccounts.getAccessToken on it, expiring after the account's lifetime;
through google-auth's impersonated credentials and google-api-python-client."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import google.auth.transport.requests
import openai
import pytest
from google.auth import exceptions as auth_exceptions
from google.oauth2.credentials import Credentials
from googleapiclient import discovery
from googleapiclient.errors import HttpError

from bootstrap.emulator.inprocess import Emulator
from bootstrap.gcp.auth import impersonated

DISCOVERY = Path("/work/shared/reference/discovery")
APP = "app@demo-ready.iam.gserviceaccount.com"
OK: Any = [{"role": "user", "content": "Reply with the single word ok."}]


def with_account(emulator: Emulator, *, lifetime: int = 3600, role: str | None = None) -> None:
    """The app account (no direct grants) with `roles/aiplatform.user` on demo-ready, and the
    viewer principal as Token Creator on the account when `role` says so."""
    world = emulator.get_world()
    world["service_accounts"] = [
        {"email": APP, "project": "demo-ready", "token_lifetime_s": lifetime}
    ]
    policies: list[dict[str, Any]] = [
        {
            "resource": "projects/demo-ready",
            "bindings": [{"role": "roles/aiplatform.user", "members": [f"serviceAccount:{APP}"]}],
        }
    ]
    if role:
        viewer = "serviceAccount:viewer@bootstrap-emulator.iam.gserviceaccount.com"
        account = f"projects/demo-ready/serviceAccounts/{APP}"
        policies.append({"resource": account, "bindings": [{"role": role, "members": [viewer]}]})
    world["iam_policies"] = policies
    emulator.put_world(world)


def chat(emulator: Emulator, token: str) -> Any:
    base = f"{emulator.base_url}/v1/projects/demo-ready/locations/global/endpoints/openapi"
    client = openai.OpenAI(base_url=base, api_key=token, max_retries=0)
    return client.chat.completions.create(
        model="openai/gpt-oss-120b-maas", messages=OK, max_tokens=4
    )


def minted(emulator: Emulator, source_token: str = "emulator-owner") -> Any:
    creds = impersonated(Credentials(token=source_token), APP, iam_root=emulator.base_url)
    creds.refresh(google.auth.transport.requests.Request())
    return creds


def test_google_auth_mints_a_token_that_acts_as_the_account(emulator: Emulator) -> None:
    with_account(emulator)
    creds = minted(emulator)
    assert creds.token.startswith("ya29.") and creds.valid
    left = (creds.expiry.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
    assert 3500 < left <= 3600  # the requested hour, on the wall clock
    assert chat(emulator, creds.token).choices[0].finish_reason
    journal = [e for e in emulator.journal() if e["path"].endswith("/chat/completions")]
    assert journal[-1]["principal"] == APP  # the call ran as the account, not the operator


def test_token_creator_is_needed_and_the_refusal_is_the_real_shape(emulator: Emulator) -> None:
    with_account(emulator)
    with pytest.raises(auth_exceptions.RefreshError) as caught:
        minted(emulator, "emulator-viewer")
    error = json.loads(caught.value.args[1])["error"]
    assert error["code"] == 403
    assert error["message"] == (
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."
    )
    assert error["details"][0]["reason"] == "IAM_PERMISSION_DENIED"
    with_account(emulator, role="roles/iam.serviceAccountTokenCreator")
    assert minted(emulator, "emulator-viewer").valid
    with_account(emulator, role="roles/viewer")  # viewer on the account holds no getAccessToken
    with pytest.raises(auth_exceptions.RefreshError):
        minted(emulator, "emulator-viewer")


def test_an_expired_token_is_401_access_token_expired(emulator: Emulator) -> None:
    with_account(emulator, lifetime=5)
    creds = minted(emulator)
    assert chat(emulator, creds.token).choices[0].finish_reason
    emulator.advance(6)
    with pytest.raises(openai.AuthenticationError) as caught:
        chat(emulator, creds.token)
    body = caught.value.body
    details = body["details"] if isinstance(body, dict) else []
    assert details[0]["reason"] == "ACCESS_TOKEN_EXPIRED"
    assert details[0]["metadata"]["service"] == "aiplatform.googleapis.com"


@pytest.mark.skipif(not DISCOVERY.is_dir(), reason="no discovery documents")
def test_discovery_client_and_lifetime_cap(emulator: Emulator) -> None:
    with_account(emulator, lifetime=600)
    doc = json.loads((DISCOVERY / "iamcredentials.v1.json").read_text())
    doc["rootUrl"] = emulator.base_url + "/"
    iam = discovery.build_from_document(doc, credentials=Credentials(token="emulator-owner"))
    accounts = iam.projects().serviceAccounts()
    body = {"scope": ["https://www.googleapis.com/auth/cloud-platform"], "lifetime": "3600s"}
    answer = accounts.generateAccessToken(name=f"projects/-/serviceAccounts/{APP}", body=body)
    token = answer.execute()
    expires = datetime.strptime(token["expireTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert 590 < (expires - datetime.now(UTC)).total_seconds() <= 600  # capped by the world
    missing = accounts.generateAccessToken(
        name="projects/-/serviceAccounts/nobody@demo-ready.iam.gserviceaccount.com", body=body
    )
    with pytest.raises(HttpError) as caught:
        missing.execute()
    assert caught.value.resp.status == 403  # a missing account reads like a refusal
