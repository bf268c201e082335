"""Chaos soak (issue 6 item 8): many projects, a seeded share of control-plane requests answered
by a random transient fault, and the question: does a fault-free `plan` exit 0 after at most 3
applies, with the journal invariants of the fault suite holding for every run?

    .venv/bin/python -m bench.chaos --projects 200 --seed 7

The emulator runs in process with `--seed` seeding its fault draws; the CLI runs in process
(click's runner) on a FastForwardClock, so backoff, polling and propagation lags move the
emulator's virtual clock instead of sleeping; concurrent waits overlap as on a wall clock, so
each call's deadline measures its own waiting (bootstrap/clock.py). Faults (each rule `times: -1`, `probability` p so
that about `--rate` of control-plane requests are hit): 429 with RetryInfo, 500/502/503, a
connection reset, a 300 ms delay, and on mutations "change made, answer lost" (`phase: after`
with a reset or a 504). The chat route is never faulted here; smoke runs separately, fault-free,
over the converged projects. A short version (30 projects, 10%, one seed, one apply) runs in
`make test` (tests/faults/test_soak.py); the figures are in docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from bootstrap.cli import cli
from bootstrap.clock import FastForwardClock
from bootstrap.emulator.inprocess import Emulator
from bootstrap.emulator.invariants import Run, violations

ACCOUNT = "012345-6789AB-CDEF01"
MODEL = "publishers/openai/models/gpt-oss-120b-maas"
APIS = ["aiplatform.googleapis.com", "cloudcommerceconsumerprocurement.googleapis.com"]
CONTROL = r"^/(v1|v1beta1|v3)/(?!.*chat/completions)"


def generate_world(emulator: Emulator, count: int, rng: random.Random) -> list[str]:
    """`count` projects in four starting states: no billing, APIs off, model off, ready."""
    world = emulator.get_world()
    for account in world["billing_accounts"]:
        account["link_quota"] = count * 2
    ids = []
    for index in range(count):
        project_id = f"chaos-{index:04d}"
        state = rng.choice(["no-billing", "apis-off", "model-off", "ready"])
        world["projects"].append(
            {
                "project_id": project_id,
                "number": f"3{index:011d}",
                "parent": "folders/345678901234",
                "billing_account": None if state == "no-billing" else ACCOUNT,
                "services": APIS if state in ("model-off", "ready") else [],
                "models": [MODEL] if state == "ready" else [],
            }
        )
        ids.append(project_id)
    emulator.put_world(world)
    return ids


def fault_rules(rate: float) -> list[dict[str, Any]]:
    """Rules whose chained probabilities hit about `rate` of control-plane requests."""
    reads: list[dict[str, Any]] = [
        _respond(429, _rate_limited(), "GET"),
        _respond(503, _error(503, "UNAVAILABLE"), "GET"),
        _respond(500, _error(500, "INTERNAL"), "GET"),
        {"match": {"method": "GET", "path": CONTROL}, "action": "reset"},
        {"match": {"method": "GET", "path": CONTROL}, "action": "delay", "delay_ms": 300},
    ]
    writes: list[dict[str, Any]] = [
        _respond(429, _rate_limited(), None, mutation=True),
        _respond(502, _error(502, "UNAVAILABLE"), None, mutation=True),
        _respond(503, _error(503, "UNAVAILABLE"), None, mutation=True),
        {"match": {"path": _MUTATIONS}, "action": "reset", "phase": "after"},
        _respond(504, _error(504, "DEADLINE_EXCEEDED"), None, mutation=True, phase="after"),
    ]
    rules = []
    for group in (reads, writes):
        left = 1.0
        share = rate / len(group)
        for rule in group:
            rule["probability"] = round(min(1.0, share / left), 6)
            rule["times"] = -1
            left -= share
            rules.append(rule)
    return rules


_MUTATIONS = r"(billingInfo|:batchEnable|:enable|:enableModel)$"


def _respond(
    status: int, body: dict[str, Any], method: str | None, *, mutation: bool = False, **kw: Any
) -> dict[str, Any]:
    match: dict[str, Any] = {"path": _MUTATIONS if mutation else CONTROL}
    if method:
        match["method"] = method
    return {"match": match, "action": "respond", "status": status, "body": body, **kw}


def _error(code: int, status: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": f"chaos {status}", "status": status}}


def _rate_limited() -> dict[str, Any]:
    return {
        "error": {
            "code": 429,
            "message": "Quota exceeded (chaos).",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "googleapis.com",
                    "metadata": {},
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"},
            ],
        }
    }


def write_manifest(path: Path, ids: list[str]) -> None:
    lines = [
        "version: 1",
        "defaults:",
        f"  billing_account: {ACCOUNT}",
        "  link_billing: true",
        "  models: [{model: gpt-oss-120b, locations: [global], enable: true}]",
        "projects:",
    ]
    lines += [f"  - project_id: {project_id}" for project_id in ids]
    path.write_text("\n".join(lines) + "\n")


class Soak:
    def __init__(self, emulator: Emulator, tmp: Path) -> None:
        self.emulator = emulator
        self.tmp = tmp
        self.runs: list[Run] = []
        self.counter = 0

    def run(self, *args: str) -> Run:
        self.counter += 1
        report = self.tmp / f"report-{self.counter}.json"
        start = len(self.emulator.journal())
        before = self.emulator.get_world()
        result = CliRunner().invoke(cli, [*args, "--output", str(report)], catch_exceptions=False)
        run = Run(
            command=args[0],
            args=args,
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            report=json.loads(report.read_text()) if report.exists() else None,
            journal=self.emulator.journal()[start:],
            before=before,
            after=self.emulator.get_world(),
            rules=self.emulator.faults()["rules"],
        )
        self.runs.append(run)
        return run


@contextmanager
def _cli_on(emulator: Emulator) -> Iterator[FastForwardClock]:
    """Point the in-process CLI at `emulator` on one fast-forward clock; restore it afterwards
    (the short soak runs inside the test suite's process)."""
    import os

    import bootstrap.cli.runtime as runtime

    saved_env = {k: os.environ.get(k) for k in (*_ENV, "GITHUB_STEP_SUMMARY")}
    saved_clock = runtime.make_clock
    clock = FastForwardClock(emulator.advance)
    os.environ.update({_ENV[0]: emulator.host, _ENV[1]: "emulator-owner"})
    os.environ.pop("GITHUB_STEP_SUMMARY", None)
    runtime.make_clock = lambda: clock
    try:
        yield clock
    finally:
        runtime.make_clock = saved_clock
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_ENV = ("BOOTSTRAP_EMULATOR_HOST", "BOOTSTRAP_EMULATOR_TOKEN")


def soak(projects: int, seed: int, rate: float, max_applies: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with (
        Emulator(seed=seed) as emulator,
        tempfile.TemporaryDirectory() as tmp_dir,
        _cli_on(emulator) as clock,
    ):
        tmp = Path(tmp_dir)
        manifest = tmp / "chaos.yaml"
        write_manifest(manifest, generate_world(emulator, projects, rng))
        soak = Soak(emulator, tmp)
        started = time.perf_counter()
        initial = soak.run("plan", str(manifest))
        applies: list[dict[str, Any]] = []
        for attempt in range(1, max_applies + 1):
            applies.append(_apply_round(soak, emulator, str(manifest), rate, attempt))
            if applies[-1]["plan_exit_code"] == 0:
                break
        converged = applies[-1]["plan_exit_code"] == 0
        smoke = soak.run("smoke", str(manifest))
        return {
            "command": f"python -m bench.chaos --projects {projects} --seed {seed} --rate {rate}",
            "projects": projects,
            "initial_plan_exit_code": initial.exit_code,
            "initial_projects": _statuses(initial),
            "applies": applies,
            "applies_needed": len(applies) if converged else None,
            "converged": converged,
            "smoke_exit_code": smoke.exit_code,
            "smoke_checks": dict(
                Counter(c["status"] for c in _checks(smoke) if c["name"].startswith("smoke:"))
            ),
            "invariant_violations": [f"{r.command}: {p}" for r in soak.runs for p in violations(r)],
            "wall_s": round(time.perf_counter() - started, 1),
            "clock": {"skips": clock.skips, "stalls": clock.stalls},
        }


def _apply_round(
    soak: Soak, emulator: Emulator, manifest: str, rate: float, attempt: int
) -> dict[str, Any]:
    """One apply under faults, then a fault-free plan that says whether it converged."""
    emulator.clear_faults()
    emulator.add_faults({"rules": fault_rules(rate)})
    started = time.perf_counter()
    applied = soak.run("apply", manifest, "--yes", "--no-smoke")
    wall_s = time.perf_counter() - started
    fired = {_label(r): r["fired"] for r in emulator.faults()["rules"]}
    summary = (applied.report or {}).get("summary", {})
    emulator.clear_faults()
    plan = soak.run("plan", manifest)
    return {
        "apply": attempt,
        "exit_code": applied.exit_code,
        "control_requests": sum("chat/completions" not in e["path"] for e in applied.journal),
        "faults_fired": sum(fired.values()),
        "faults_by_kind": fired,
        "retries": summary.get("retries"),
        "projects": _statuses(applied),
        "failed_checks": dict(
            Counter(
                f"{c['name'].split(':')[0]}:{c['cause']}"
                for c in _checks(applied)
                if c["status"] == "failed"
            )
        ),
        "failure_samples": _failures(applied),
        "wall_s": round(wall_s, 1),
        "virtual_s": summary.get("virtual_s"),
        "plan_exit_code": plan.exit_code,
        "plan_failures": _failures(plan) or plan.stderr.strip()[-300:]
        if plan.exit_code == 1
        else [],
    }


def _statuses(run: Run) -> dict[str, int]:
    return dict(Counter(p["status"] for p in (run.report or {}).get("projects", [])))


def _failures(run: Run) -> list[str]:
    """A few failed checks, with what they said (enough to tell one cause from another)."""
    return sorted({f"{c['name']}: {c['detail']}" for c in _checks(run) if c["status"] == "failed"})[
        :3
    ]


def _checks(run: Run) -> list[dict[str, Any]]:
    return [c for p in (run.report or {}).get("projects", []) for c in p["checks"]]


def _label(rule: dict[str, Any]) -> str:
    kind = rule.get("action", "respond")
    what = str(rule.get("status")) if kind == "respond" else kind
    target = "write" if "billingInfo" in rule["match"]["path"] else "read"
    phase = "-after" if rule.get("phase") == "after" else ""
    return f"{target}:{what}{phase}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=0.10)
    parser.add_argument("--max-applies", type=int, default=3)
    args = parser.parse_args(argv)
    result = soak(args.projects, args.seed, args.rate, args.max_applies)
    print(json.dumps(result, indent=2))
    ok = result["converged"] and not result["invariant_violations"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
