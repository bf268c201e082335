"""`bootstrap env --format shell` prints `export KEY='value'` lines that survive any value, and
the README's `eval "$(bootstrap env ...)"` example, run in a real shell, reaches a child process;
dotenv stays plain `KEY=value` for docker and systemd."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from bootstrap.cli.env import shell_exports
from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import Cli

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DEMO = "manifests/demo.yaml"


def readme_eval_line() -> str:
    lines = [line for line in README.read_text().splitlines() if line.startswith("eval ")]
    assert len(lines) == 1, lines
    return lines[0].split("   #")[0].strip()


def test_the_readme_eval_example_asks_for_the_shell_format() -> None:
    assert re.fullmatch(r'eval "\$\(bootstrap env .* --format shell\)"', readme_eval_line())


def test_a_child_of_the_readme_eval_sees_the_variables(cli_env: Emulator) -> None:
    bootstrap = shlex.quote(str(Path(sys.executable).with_name("bootstrap")))
    example = readme_eval_line().replace("$(bootstrap ", f"$({bootstrap} ", 1)
    child = (
        f"{shlex.quote(sys.executable)} -c 'import json, os; print(json.dumps(dict(os.environ)))'"
    )
    completed = subprocess.run(
        ["sh", "-c", f"set -e\n{example}\n{child}"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)
    assert seen["OPENAI_BASE_URL"] == (
        f"http://{cli_env.host}/v1/projects/acme-ci-gpt-oss/locations/global/endpoints/openapi"
    )
    assert seen["GOOGLE_CLOUD_PROJECT"] == "acme-ci-gpt-oss"
    assert seen["OPENAI_MODEL"] and seen["GOOGLE_CLOUD_LOCATION"]


def test_shell_format_exports_every_value_single_quoted(cli: Cli) -> None:
    result = cli("env", DEMO, "--project", "demo-ready", "--format", "shell")
    assert result.exit_code == 0, result.output
    comments = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    lines = [line for line in result.stdout.splitlines() if not line.startswith("# ")]
    assert "# OPENAI_API_KEY=$(gcloud auth print-access-token)" in comments  # never live
    assert [line.split("=")[0] for line in lines] == [
        "export OPENAI_BASE_URL",
        "export OPENAI_MODEL",
        "export GOOGLE_CLOUD_PROJECT",
        "export GOOGLE_CLOUD_LOCATION",
    ]
    assert all(re.fullmatch(r"export [A-Z_]+='[^']*'", line) for line in lines), lines


def test_dotenv_stays_plain(cli: Cli) -> None:
    result = cli("env", DEMO, "--project", "demo-ready")
    assert result.exit_code == 0, result.output
    values = [line for line in result.stdout.splitlines() if not line.startswith("# ")]
    assert values[0].startswith("OPENAI_BASE_URL=http") and len(values) == 4
    assert not any("export" in line or "'" in line for line in values)


@pytest.mark.parametrize(
    "value", ["it's", "$HOME `id` $(id)", "a b\nc", "", "'", "plain", '\\ " ;&|<>*?']
)
def test_shell_quoting_survives_any_value(value: str) -> None:
    script = shell_exports({"VALUE": value}) + 'printf %s "$VALUE"'
    completed = subprocess.run(
        ["sh", "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == value
