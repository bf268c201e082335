"""Shared test setup: the emulator's fixtures (`emulator_server`, `emulator`, `emulator_env`)."""

pytest_plugins = ["bootstrap.emulator.pytest_plugin"]
