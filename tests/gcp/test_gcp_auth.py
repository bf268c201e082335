"""Credentials and settings: missing ADC is a clean UNAUTHENTICATED, the emulator env is honoured."""

from __future__ import annotations

import google.auth
import pytest
from google.auth import exceptions as auth_exceptions

from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.client import connect
from bootstrap.gcp.settings import CloudSettings, settings_from_env


def test_missing_adc_is_unauthenticated_with_the_login_remedy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_adc(**kwargs: object) -> None:
        raise auth_exceptions.DefaultCredentialsError(
            "File /home/alice/.config/gcloud/application_default_credentials.json was not found."
        )

    monkeypatch.setattr(google.auth, "default", no_adc)
    with pytest.raises(BootstrapError) as info:
        connect(CloudSettings())
    failure = info.value.failure
    assert failure.cause is Cause.UNAUTHENTICATED
    assert failure.remedy == "gcloud auth application-default login"
    assert "/home/alice" not in str(info.value)


def test_settings_from_env_reads_the_emulator_variables() -> None:
    settings = settings_from_env(env={"BOOTSTRAP_EMULATOR_HOST": "127.0.0.1:9"})
    assert settings.emulated and settings.emulator_token == "emulator-owner"
    assert settings.emulator_root == "http://127.0.0.1:9"
    viewer = settings_from_env(
        env={
            "BOOTSTRAP_EMULATOR_HOST": "127.0.0.1:9",
            "BOOTSTRAP_EMULATOR_TOKEN": "emulator-viewer",
        },
        concurrency=4,
    )
    assert viewer.emulator_token == "emulator-viewer" and viewer.concurrency == 4
    assert not settings_from_env(env={}).emulated


def test_real_mode_uses_regional_vertex_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    from google.oauth2.credentials import Credentials

    monkeypatch.setattr(google.auth, "default", lambda **kw: (Credentials("t"), "p"))
    cloud = connect(CloudSettings(concurrency=4))
    assert cloud.vertex_root("global") == "https://aiplatform.googleapis.com"
    assert cloud.vertex_root("us-central1") == "https://us-central1-aiplatform.googleapis.com"
