"""The emulator's pytest fixtures for the smoke tests (module-scoped server, reset per test)."""

from __future__ import annotations

from bootstrap.emulator.pytest_plugin import emulator, emulator_server

__all__ = ["emulator", "emulator_server"]
