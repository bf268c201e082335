"""Fixtures for the emulator's fidelity tests: the plugin's fixtures plus client factories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from bootstrap.emulator.pytest_plugin import emulator, emulator_env, emulator_server

__all__ = ["emulator", "emulator_env", "emulator_server"]


@pytest.fixture
def gapic(emulator: Emulator) -> Callable[..., Any]:
    """Build a GAPIC REST client class pointed at the emulator with a bearer token."""
    from google.oauth2.credentials import Credentials

    def make(cls: Any, token: str = "emulator-owner") -> Any:
        return cls(
            transport="rest",
            credentials=Credentials(token=token),
            client_options={"api_endpoint": emulator.base_url},
        )

    return make


@pytest.fixture
def session(emulator: Emulator) -> Any:
    """An authorised requests session (what Vertex calls use: there is no light client)."""
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2.credentials import Credentials

    return AuthorizedSession(Credentials(token="emulator-owner"))


def fast(world: dict[str, Any], **timing: Any) -> dict[str, Any]:
    world["timing"].update(timing)
    return world
