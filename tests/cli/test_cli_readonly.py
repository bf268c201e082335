"""audit and smoke are read only: the emulator's journal holds no mutating request after them,
with the extra smoke checks too, although each sent real requests (so the check is not vacuous).
The demo world has something to fix in every project but demo-ready, so any write would show."""

from __future__ import annotations

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import Cli, mutating

DEMO = "manifests/demo.yaml"
CHECKS = ("--check", "tools", "--check", "json")


def chat_calls(emulator: Emulator) -> list[str]:
    return [e["path"] for e in emulator.journal() if e["path"].endswith("/chat/completions")]


@pytest.mark.parametrize(
    "args",
    [
        ("audit", DEMO),
        ("audit", DEMO, *CHECKS),
        ("audit", "--parent", "folders/345678901234", *CHECKS),
        ("smoke", DEMO),
        ("smoke", DEMO, *CHECKS),
    ],
    ids=["audit", "audit-checks", "audit-parent", "smoke", "smoke-checks"],
)
def test_audit_and_smoke_never_send_a_mutating_request(
    cli: Cli, cli_env: Emulator, args: tuple[str, ...]
) -> None:
    result = cli(*args, "--format", "json")
    # demo-deleting and friends fail, as designed: an audit calls them findings, smoke errors.
    assert result.exit_code == (2 if args[0] == "audit" else 1), result.output
    assert "Traceback" not in result.output
    journal = cli_env.journal()
    assert len(journal) > 5
    assert chat_calls(cli_env), "the smoke test must have streamed from demo-ready"
    assert mutating(cli_env) == []
    assert {e["method"] for e in journal if e["path"].endswith("/chat/completions")} == {"POST"}
    sent = {e["path"].rsplit(":", 1)[-1] for e in journal if ":" in e["path"]}
    assert not sent & {"enable", "batchEnable", "enableModel", "accept"}, sent


def test_the_journal_would_catch_a_write(cli: Cli, cli_env: Emulator) -> None:
    # The control experiment: apply on the same world does show up as mutating requests.
    result = cli("apply", DEMO, "--yes", "--no-smoke", "--format", "json")
    assert result.exit_code == 1, result.output
    assert mutating(cli_env)
