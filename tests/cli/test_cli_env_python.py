"""`bootstrap env --format python`: the printed client keeps working across a token's expiry
(tokens from google-auth, refreshed before expiry and once on a 401), where a fixed token stops
with 401 ACCESS_TOKEN_EXPIRED; and no format recommends a fixed token."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from google.oauth2.credentials import Credentials

from bootstrap.emulator.inprocess import Emulator
from bootstrap.gcp.auth import impersonated
from tests.cli.cli_support import Cli

DEMO = "manifests/demo.yaml"
APP = "app@demo-ready.iam.gserviceaccount.com"
SAY: Any = [{"role": "user", "content": "Say hello."}]


def with_app(emulator: Emulator, lifetime: int) -> None:
    world = emulator.get_world()
    world["service_accounts"] = [
        {"email": APP, "project": "demo-ready", "token_lifetime_s": lifetime}
    ]
    world["iam_policies"] = [
        {
            "resource": "projects/demo-ready",
            "bindings": [{"role": "roles/aiplatform.user", "members": [f"serviceAccount:{APP}"]}],
        }
    ]
    emulator.put_world(world)


def streamed_text(client: openai.OpenAI, model: str) -> str:
    stream = client.chat.completions.create(model=model, messages=SAY, stream=True)
    return "".join((chunk.choices[0].delta.content or "") for chunk in stream if chunk.choices)


@pytest.mark.parametrize(
    "lifetime",
    [
        3,  # a few seconds: google-auth refreshes before every request (inside its margin)
        300,  # longer than that margin: the emulator expires it first, the 401 makes it refresh
    ],
)
def test_the_python_client_survives_token_expiry(
    cli: Cli, cli_env: Emulator, lifetime: int
) -> None:
    with_app(cli_env, lifetime=lifetime)
    result = cli("env", DEMO, "--project", "demo-ready", "--format", "python")
    assert result.exit_code == 0, result.output
    namespace: dict[str, Any] = {"__name__": "snippet"}
    exec(compile(result.stdout, "snippet.py", "exec"), namespace)
    credentials = impersonated(Credentials(token="emulator-owner"), APP, iam_root=cli_env.base_url)
    client = namespace["make_client"](credentials)
    model = namespace["MODEL"]
    assert streamed_text(client, model)
    first_token = credentials.token
    cli_env.advance(lifetime + 1)  # past the token's lifetime, for the emulator
    fixed = openai.OpenAI(base_url=namespace["BASE_URL"], api_key=first_token, max_retries=0)
    with pytest.raises(openai.AuthenticationError) as expired:
        streamed_text(fixed, model)
    assert "ACCESS_TOKEN_EXPIRED" in json.dumps(expired.value.body)
    assert streamed_text(client, model)  # refreshed (before expiry, or once on the 401)
    assert credentials.token != first_token
    mints = [e for e in cli_env.journal() if e["path"].endswith(":generateAccessToken")]
    assert len(mints) == 2


@pytest.mark.parametrize("fmt", ["dotenv", "shell", "json", "python"])
def test_no_format_recommends_a_fixed_token(cli: Cli, fmt: str) -> None:
    result = cli("env", DEMO, "--project", "demo-ready", "--format", fmt)
    assert result.exit_code == 0, result.output
    for line in result.stdout.splitlines():
        if "print-access-token" in line:
            assert line.startswith("# "), line  # only ever a commented shortcut
    assert "Application Default Credentials" in result.stdout
