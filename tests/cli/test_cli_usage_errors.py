"""Options that contradict each other are usage errors, never silently dropped; usage errors
name the way out (`audit` without arguments mentions --parent); every emulator option has help."""

from __future__ import annotations

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import Cli, run_cli

DEMO = "manifests/demo.yaml"


def test_audit_without_arguments_mentions_parent(cli: Cli) -> None:
    result = cli("audit")
    assert result.exit_code == 1
    assert "give at least one manifest" in result.stderr
    assert "--parent" in result.stderr


def test_plan_without_arguments_does_not_offer_parent(cli: Cli) -> None:
    result = cli("plan")
    assert result.exit_code == 1
    assert "--parent" not in result.stderr


@pytest.mark.parametrize("command", [("apply", DEMO, "--yes"), ("audit", DEMO)])
def test_no_smoke_with_check_is_a_usage_error(
    cli: Cli, cli_env: Emulator, command: tuple[str, ...]
) -> None:
    result = cli(*command, "--no-smoke", "--check", "tools")
    assert result.exit_code == 1
    assert "--check tools" in result.stderr and "--no-smoke" in result.stderr
    assert "Traceback" not in result.output
    assert not cli_env.journal(), "a usage error sends nothing"


@pytest.mark.parametrize("command", [("plan", DEMO), ("audit", DEMO), ("smoke", DEMO)])
def test_rate_limit_with_no_rate_limit_is_a_usage_error(
    cli: Cli, cli_env: Emulator, command: tuple[str, ...]
) -> None:
    result = cli(*command, "--rate-limit", "serviceusage.read=600/min", "--no-rate-limit")
    assert result.exit_code == 1
    assert "--rate-limit or --no-rate-limit, not both" in result.stderr
    assert not cli_env.journal(), "a usage error sends nothing"


def test_rate_limit_alone_and_no_rate_limit_alone_still_work(cli: Cli) -> None:
    for extra in (("--rate-limit", "serviceusage.read=600/min"), ("--no-rate-limit",)):
        result = cli("plan", DEMO, "--no-probe", "--format", "json", *extra)
        assert "not both" not in result.stderr
        assert "Traceback" not in result.output
        assert result.stdout.startswith("{"), result.output


def test_emulator_world_and_faults_have_help() -> None:
    text = " ".join(run_cli(["emulator", "--help"]).stdout.split())
    assert "--world FILE Initial state" in text
    assert "--faults FILE Fault rules" in text
