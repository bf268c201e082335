"""apply converges through slow operations, lags, rate limits, 503s, resets and lost answers.

Faults come from the emulator's rules; time passes on its virtual clock (the CLI's clock
fast-forwards it), so nothing here sleeps through a delay.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from bootstrap.emulator.inprocess import Emulator
from tests.e2e.e2e_support import Invoke, mutations

ONE_FRESH = """\
version: 1
projects:
  - project_id: demo-no-billing
    billing_account: 012345-6789AB-CDEF01
    link_billing: true
    models: [{model: gpt-oss-120b, locations: [global], enable: true}]
"""

RATE_LIMITED = {
    "error": {
        "code": 429,
        "message": "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {"quota_limit_value": "240"},
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"},
        ],
    }
}
UNAVAILABLE = {
    "error": {
        "code": 503,
        "message": "The service is currently unavailable.",
        "status": "UNAVAILABLE",
    }
}


def _converged(invoke: Invoke, path: str, emulator: Emulator) -> None:
    emulator.clear_faults()
    emulator.clear_journal()
    plan = invoke("plan", path)
    assert plan.exit_code == 0, plan.stdout
    assert mutations(emulator) == []


SERVICE_ENABLE = r"/services/[^/]+:enable$"  # services.enable, not enableModel

# Each mutation, and the read that must come before any re-send of it.
REREAD_BEFORE_RESEND = {
    "billingInfo": ("GET", "billingInfo"),
    ":enable": ("GET", "services:batchGet"),
    ":enableModel": ("POST", "chat/completions"),
}


def _effective(emulator: Emulator, suffix: str, rule: dict[str, Any]) -> dict[str, int]:
    """Per target path, the sends that changed state: 2xx answers, or applied by a
    `phase: after` fault (whose answer the fault replaced)."""
    applied: dict[str, int] = {}
    for entry in mutations(emulator):
        path = entry["path"]
        if not path.endswith(suffix):
            continue
        lost = (
            rule.get("phase") == "after"
            and re.search(rule["match"]["path"], path) is not None
            and entry["status"] == rule.get("status", 0)
        )
        if 200 <= entry["status"] < 300 or lost:
            applied[path] = applied.get(path, 0) + 1
    return applied


def _assert_reread_before_every_resend(emulator: Emulator, suffix: str) -> None:
    method, marker = REREAD_BEFORE_RESEND[suffix]
    sent: set[str] = set()
    for entry in emulator.journal():
        path = entry["path"]
        if entry["mutating"] and path.endswith(suffix):
            assert path not in sent, f"{path} re-sent without re-reading first"
            sent.add(path)
        elif entry["method"] == method and marker in path:
            sent.clear()


@pytest.mark.parametrize(
    "rule",
    [
        {
            "match": {"method": "GET", "path": "services:batchGet"},
            "times": 2,
            "action": "respond",
            "status": 429,
            "body": RATE_LIMITED,
        },
        {
            "match": {"method": "PUT", "path": "billingInfo"},
            "times": 2,
            "action": "respond",
            "status": 503,
            "body": UNAVAILABLE,
        },
        {"match": {"method": "GET", "path": "billingInfo"}, "times": 1, "action": "reset"},
        {"match": {"method": "POST", "path": SERVICE_ENABLE}, "times": 1, "action": "reset"},
        {
            "match": {"method": "PUT", "path": "billingInfo"},
            "times": 1,
            "action": "reset",
            "phase": "after",
        },
        {
            "match": {"method": "POST", "path": SERVICE_ENABLE},
            "times": 1,
            "action": "respond",
            "status": 500,
            "body": {"error": {"code": 500, "message": "lost", "status": "INTERNAL"}},
            "phase": "after",
        },
        {
            "match": {"method": "POST", "path": ":enableModel"},
            "times": 1,
            "action": "reset",
            "phase": "after",
        },
    ],
    ids=[
        "429-retryinfo",
        "503-burst",
        "reset-read",
        "reset-enable",
        "link-answer-lost",
        "enable-answer-lost",
        "enable-model-answer-lost",
    ],
)
def test_apply_converges_through_faults(
    invoke: Invoke, manifest: Callable[[str], str], emulator: Emulator, rule: dict[str, Any]
) -> None:
    path = manifest(ONE_FRESH)
    emulator.add_faults({"rules": [rule]})
    run = invoke("apply", path, "--yes", "--no-smoke")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert emulator.faults()["rules"][0]["remaining"] == 0, "the fault was never hit"
    assert run.report is not None
    assert run.report["summary"]["retries"] >= 1
    # Each change takes effect exactly once, and nothing is re-sent without a re-read.
    for suffix, targets in (("billingInfo", 1), (":enable", 2), (":enableModel", 1)):
        assert list(_effective(emulator, suffix, rule).values()) == [1] * targets, suffix
        _assert_reread_before_every_resend(emulator, suffix)
    _converged(invoke, path, emulator)


def test_slow_operations_and_propagation_lags_are_waited_out(
    invoke: Invoke,
    manifest: Callable[[str], str],
    emulator: Emulator,
    world: Callable[[Callable[[dict[str, Any]], None]], None],
) -> None:
    def slow(w: dict[str, Any]) -> None:
        w["timing"].update(operation_polls=5, service_propagation_s=90, billing_propagation_s=30)

    world(slow)
    path = manifest(ONE_FRESH)
    run = invoke("apply", path, "--yes", "--no-smoke")
    assert run.exit_code == 0, run.stdout + run.stderr
    polls = [e for e in emulator.journal() if e["path"].startswith("/v1/operations/")]
    assert len(polls) >= 5
    services = run.check("demo-no-billing", "services")
    assert services["status"] == "changed"
    model = run.check("demo-no-billing", "model:gpt-oss-120b@global")
    assert model["status"] == "changed"
    assert list(_effective(emulator, ":enableModel", {}).values()) == [1]
    _converged(invoke, path, emulator)
