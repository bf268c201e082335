"""Piped (a CI log), a long apply shows where its time went: a timestamped line for each wait of
a few seconds or more (propagation, a 429's backoff, the client-side rate limit) and for each
project finished. The run goes against the emulator over HTTP on the fast-forward clock."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bootstrap.cli.progress import WAIT_LOG_AT_LEAST_S
from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import FOLDER, OPEN_ACCOUNT, Cli

COUNT = 30
PROPAGATION_S = 12
STAMP = r"\d\d:\d\d:\d\dZ"


def _world(base: dict[str, Any]) -> dict[str, Any]:
    """COUNT projects with billing linked and the APIs off: apply enables 2 APIs and the model."""
    world = dict(base)
    world["projects"] = [
        {
            "project_id": f"log-{index:02d}",
            "number": f"3{index:011d}",
            "parent": f"folders/{FOLDER}",
            "state": "ACTIVE",
            "billing_account": OPEN_ACCOUNT,
            "services": [],
            "models": [],
        }
        for index in range(COUNT)
    ]
    world["timing"] = {**base.get("timing", {}), "service_propagation_s": PROPAGATION_S}
    # Service Usage writes: a third of Google's 60 a minute, so that 60 enables queue on it.
    world["quotas"] = {**base.get("quotas", {}), "enabled": True, "serviceusage_write_per_min": 20}
    world["behaviour"] = {**base.get("behaviour", {}), "retry_info_on_429": True}
    return world


def _manifest(tmp_path: Path) -> str:
    projects = "\n".join(f"  - project_id: log-{index:02d}" for index in range(COUNT))
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "version: 1\n"
        "defaults:\n"
        f"  billing_account: {OPEN_ACCOUNT}\n"
        "  link_billing: true\n"
        "  models: [{model: gpt-oss-120b, locations: [global], enable: true}]\n"
        f"projects:\n{projects}\n"
    )
    return str(path)


@pytest.fixture
def fleet(cli_env: Emulator, tmp_path: Path) -> str:
    cli_env.put_world(_world(cli_env.get_world()))
    # One 429 on an enable, asking for 5 s: the backoff must honour it and the log must say so.
    cli_env.add_faults(
        {
            "rules": [
                {
                    "match": {
                        "method": "POST",
                        "path": r"/services/aiplatform\.googleapis\.com:enable$",
                    },
                    "action": "respond",
                    "status": 429,
                    "headers": {"Retry-After": "5"},
                    "body": {
                        "error": {
                            "code": 429,
                            "status": "RESOURCE_EXHAUSTED",
                            "message": "Quota exceeded.",
                        }
                    },
                }
            ]
        }
    )
    return _manifest(tmp_path)


def _lines(stderr: str) -> list[tuple[str, str]]:
    """(project id, text) of each timestamped apply line."""
    found = []
    for line in stderr.splitlines():
        match = re.match(rf"^{STAMP} apply (\S*) +(.*)$", line)
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def test_a_piped_apply_logs_each_wait_and_each_project_with_a_timestamp(
    cli: Cli, fleet: str, cli_env: Emulator
) -> None:
    result = cli("apply", fleet, "--yes", "--no-smoke", "--format", "json")
    assert result.exit_code == 0, result.stderr[-3000:]
    lines = _lines(result.stderr)
    texts = [text for _, text in lines]

    # Every project finished gets one line.
    finished = Counter(pid for pid, text in lines if text.startswith("done in "))
    assert sorted(finished) == [f"log-{i:02d}" for i in range(COUNT)]
    assert set(finished.values()) == {1}

    # The propagation lag: every readiness gate that waited long enough (the report's
    # gate_wait_s) has its line, naming the check it waited for.
    report = json.loads(result.stdout)
    long_gates = {
        (project["project_id"], check["name"])
        for project in report["projects"]
        for check in project["checks"]
        if check["metrics"].get("gate_wait_s", 0) >= WAIT_LOG_AT_LEAST_S
    }
    logged = set()
    for pid, text in lines:
        match = re.match(r"waited ([\d.]+) s for propagation \((.+)\)$", text)
        if match:
            assert float(match.group(1)) >= WAIT_LOG_AT_LEAST_S, text
            logged.add((pid, match.group(2)))
    assert long_gates, "the world's propagation lag made no gate wait"
    assert logged == long_gates

    # The 429 fault: the backoff honoured the 5 s asked for, announced before it slept.
    assert cli_env.faults()["rules"][0]["fired"] == 1
    rate_limited = [t for t in texts if t.startswith("rate limited, retrying in ")]
    assert len(rate_limited) >= 1
    assert any("serviceusage" in t for t in rate_limited), rate_limited

    # The write quota: 30 batchEnables at 12 a minute queue on the client-side rate limit.
    throttled = [t for t in texts if t.startswith("throttled by --rate-limit for ")]
    assert throttled, texts[:40]

    # No line for waits shorter than the threshold.
    for text in texts:
        match = re.search(r"(?:waited|retrying in|for) ([\d.]+) s", text)
        if match and not text.startswith("done"):
            assert float(match.group(1)) >= WAIT_LOG_AT_LEAST_S, text

    # Said once: wait lengths are the fast-forward clock's; timestamps are wall time.
    assert "virtual seconds" in result.stderr


def test_a_piped_audit_shows_the_smoke_phase_with_its_own_count(cli: Cli) -> None:
    result = cli("audit", "manifests/demo.yaml", "--format", "json")
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    streamed = sum(
        1
        for project in report["projects"]
        for check in project["checks"]
        if check["name"].startswith("smoke:") and check["status"] not in ("not_run", "skipped")
    )
    assert streamed > 0
    assert re.search(rf"^{STAMP} audit +smoke tests started$", result.stderr, re.M)
    done = re.findall(rf"^{STAMP} audit +smoke tests: (\d+) of (\d+) done in", result.stderr, re.M)
    assert done[-1] == (str(streamed), str(streamed)), result.stderr[-2000:]
    # The smoke phase comes after every project's audit line.
    assert result.stderr.rindex(" checked") < result.stderr.index("smoke tests started")
