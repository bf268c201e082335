"""Helpers shared by the CLI tests: running `bootstrap.cli.main` in process, and world builders.

`main` (not the click group) is what the console script runs, so usage errors exit 1 here as
they do for users; click's runner only captures the streams.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bootstrap.cli import main
from bootstrap.emulator.inprocess import Emulator

FOLDER = "345678901234"
OTHER_FOLDER = "345678909999"
OPEN_ACCOUNT = "012345-6789AB-CDEF01"
CLOSED_ACCOUNT = "0FEDCB-A98765-432101"
MODEL_120B = "publishers/openai/models/gpt-oss-120b-maas"
APIS = ["aiplatform.googleapis.com", "cloudcommerceconsumerprocurement.googleapis.com"]
OWNER = "owner@bootstrap-emulator.iam.gserviceaccount.com"
VIEWER = "viewer@bootstrap-emulator.iam.gserviceaccount.com"


_ONE_PROJECT = """\
version: 1
smoke_test: {{enabled: true, timeout_s: 30, max_tokens: 64}}
projects:
  - project_id: {project}
    models:
      - model: gpt-oss-120b
        locations: [global]
        enable: true{extra}
"""


def one_project(project: str, extra: str = "") -> str:
    """A manifest of one project wanting gpt-oss-120b in global (enable: true), with a short
    smoke test; `extra` adds lines to the model entry (indent them by 8 spaces)."""
    return _ONE_PROJECT.format(project=project, extra=extra)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(args: Sequence[str], *, stdin: str | None = None) -> CliResult:
    """Run the console entry point with captured streams; never lets SystemExit escape."""
    runner = CliRunner()
    code: int = 0
    with runner.isolation(input=stdin) as streams:
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        stdout = streams[0].getvalue().decode()
        stderr = streams[1].getvalue().decode()
    return CliResult(code, stdout, stderr)


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def mutating(emulator: Emulator) -> list[dict[str, Any]]:
    return [entry for entry in emulator.journal() if entry["mutating"]]


# -- a large world -------------------------------------------------------------------------------
# Each kind of project is built to give one status in `audit --parent` with the default policy
# (gpt-oss-120b@global): ok, findings (billing off, APIs off, model off), errors (deleting, closed).
KINDS = ("ready", "no-billing", "api-off", "model-off", "closed", "deleting")
EXPECTED_STATUS = {
    "ready": "ok",
    "no-billing": "action_required",  # the policy never enables the model itself
    "api-off": "changes",  # APIs off: the model cannot be judged until apply enables them
    "model-off": "action_required",
    "closed": "action_required",
    "deleting": "failed",
}


def _project(kind: str, index: int, *, parent: str, labels: dict[str, str]) -> dict[str, Any]:
    ready = kind in ("ready", "model-off", "deleting")
    return {
        "project_id": f"scale-{kind}-{index:03d}",
        "number": f"2{index:011d}",
        "parent": parent,
        "state": "DELETE_REQUESTED" if kind == "deleting" else "ACTIVE",
        "display_name": f"Scale {index}",
        "labels": labels,
        "billing_account": {"no-billing": None, "closed": CLOSED_ACCOUNT}.get(kind, OPEN_ACCOUNT),
        "services": APIS if ready else [],
        "models": [MODEL_120B] if kind in ("ready", "deleting") else [],
    }


def labels_for(index: int, kind: str) -> dict[str, str]:
    """team=ml on 2 of 3 projects, env=prod on every other one (four label combinations), and
    the project's kind, so a label filter can pick one kind."""
    return {
        "team": "ml" if index % 3 else "web",
        "env": "prod" if index % 2 == 0 else "dev",
        "kind": kind,
    }


def scale_world(
    base: dict[str, Any], count: int, *, kinds: Sequence[str] = KINDS
) -> dict[str, Any]:
    """`base` with `count` projects under the folder, cycling through `kinds`, plus a few
    projects under another folder (which `--parent folders/FOLDER` must not discover)."""
    world = dict(base)
    projects = [
        _project(
            kinds[i % len(kinds)],
            i,
            parent=f"folders/{FOLDER}",
            labels=labels_for(i, kinds[i % len(kinds)]),
        )
        for i in range(count)
    ]
    world["folders"] = [
        *base["folders"],
        {"id": OTHER_FOLDER, "parent": "organizations/123456789012", "display_name": "other"},
    ]
    projects += [
        _project("ready", 900 + i, parent=f"folders/{OTHER_FOLDER}", labels={"team": "ml"})
        for i in range(3)
    ]
    world["projects"] = projects
    timing = dict(base.get("timing", {}))
    timing.update(ttft_ms=0, token_interval_ms=0)
    world["timing"] = timing
    return world


def kind_of(project_id: str) -> str:
    return project_id.removeprefix("scale-").rsplit("-", 1)[0]


def index_of(project_id: str) -> int:
    return int(project_id.rsplit("-", 1)[1])


Cli = Callable[..., CliResult]
