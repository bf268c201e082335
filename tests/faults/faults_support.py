"""The fault suite's shared values: Google-shaped error bodies, the run record, and the journal
invariants every fault test is checked against (reliability-notes §5 legend N, issue 6 item 3).

The invariants are read from the emulator's journal, sliced per CLI run, and from the emulator's
world as it was just before and just after each run:

- plan, audit and smoke send no mutating request;
- never a disable, a delete or an unlink (a project's billing account never goes from set to
  unset);
- per apply run, at most one effective enable per API and project, one effective enableModel per
  model and project, and one effective link per project ("effective" = answered 2xx, or applied
  by a `phase: after` fault that replaced its answer);
- no mutation is sent for a resource that was already in the desired state when the run began;
- every re-send of a mutation is preceded by a re-read of what it changes (billingInfo for a link,
  services:batchGet for an enable, a probe chat completion for enableModel), except after a 401,
  which the server rejected before doing anything.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from error_payloads import envelope, error_info, retry_info

from bootstrap.cli import cli as bootstrap_cli
from bootstrap.emulator.inprocess import Emulator

TOKEN_PATTERNS = ("ya29.", "1//", "AIza", "-----BEGIN PRIVATE KEY-----", "Authorization:")
CREDENTIAL_PATH = "/home/u/.config/gcloud/application_default_credentials.json"

ACCOUNT = "012345-6789AB-CDEF01"
CLOSED_ACCOUNT = "0FEDCB-A98765-432101"
MODEL = "publishers/openai/models/gpt-oss-120b-maas"
AIPLATFORM = "aiplatform.googleapis.com"
PROCUREMENT = "cloudcommerceconsumerprocurement.googleapis.com"


UNAVAILABLE = envelope(503, "UNAVAILABLE", "The service is currently unavailable.")
ACTIVATION_IN_PROGRESS = envelope(
    400,
    "FAILED_PRECONDITION",
    "Another activation or deactivation is in progress for service(s) "
    "'aiplatform.googleapis.com'. Please retry later.",
)
PRECONDITION = envelope(400, "FAILED_PRECONDITION", "Precondition check failed.")
BILLING_NOT_FOUND = envelope(
    400,
    "FAILED_PRECONDITION",
    "Precondition check failed.",
    error_info("UREQ_PROJECT_BILLING_NOT_FOUND", "serviceusage.googleapis.com"),
    {
        "@type": "type.googleapis.com/google.rpc.PreconditionFailure",
        "violations": [
            {
                "type": "googleapis.com/billing-enabled",
                "subject": "?error_code=390001&services=aiplatform.googleapis.com",
                "description": "Billing account for project '100000000002' is not found. "
                "Billing must be enabled for activation of service(s) "
                "'aiplatform.googleapis.com' to proceed.",
            }
        ],
    },
)
BILLING_QUOTA = envelope(
    400,
    "FAILED_PRECONDITION",
    "Precondition check failed.",
    {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [
            {"subject": f"billingAccounts/{ACCOUNT}", "description": "Cloud billing quota exceeded"}
        ],
    },
)


def rate_limited(delay: str, *, service: str = "cloudbilling.googleapis.com") -> dict[str, Any]:
    return envelope(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute'.",
        error_info(
            "RATE_LIMIT_EXCEEDED",
            service=service,
            quota_metric=f"{service}/write_requests",
            quota_limit="WritesPerMinutePerProject",
        ),
        retry_info(delay),
    )


def service_disabled(service: str, consumer: str) -> dict[str, Any]:
    return envelope(
        403,
        "PERMISSION_DENIED",
        f"{service} has not been used in project {consumer} before or it is disabled.",
        error_info(
            "SERVICE_DISABLED",
            service=service,
            consumer=f"projects/{consumer}",
            activationUrl=f"https://console.developers.google.com/apis/api/{service}/overview?project={consumer}",
        ),
    )


def rule(path: str, *, method: str | None = None, **fields: Any) -> dict[str, Any]:
    """A fault rule matching `path` (regex) and `method`; the rest are the rule's keys."""
    match: dict[str, Any] = {"path": path}
    if method:
        match["method"] = method
    return {"match": match, **fields}


def respond(path: str, status: int, body: Any, *, method: str | None = None, **kw: Any) -> Any:
    return rule(path, method=method, action="respond", status=status, body=body, **kw)


# ------------------------------------------------------------------------------------- runs


@dataclass
class Run:
    command: str
    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    report: dict[str, Any] | None
    journal: list[dict[str, Any]] = field(default_factory=list)  # this run's requests only
    before: dict[str, Any] = field(default_factory=dict)  # the emulator's world before
    after: dict[str, Any] = field(default_factory=dict)  # ... and after
    rules: list[dict[str, Any]] = field(default_factory=list)  # fault rules during the run

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def project(self, project_id: str) -> dict[str, Any]:
        assert self.report is not None, self.output
        return next(p for p in self.report["projects"] if p["project_id"] == project_id)

    def check(self, project_id: str, name: str) -> dict[str, Any]:
        checks = self.project(project_id)["checks"]
        found = [c for c in checks if c["name"] == name]
        assert found, f"no check {name!r} in {[c['name'] for c in checks]}"
        return found[0]

    def mutations(self) -> list[dict[str, Any]]:
        return [e for e in self.journal if e["mutating"]]

    def sent(self, pattern: str, method: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.journal
            if re.search(pattern, e["path"]) and (method is None or e["method"] == method)
        ]


# ------------------------------------------------------------------------------ invariants

_PROJECT_PATH = re.compile(r"^/v1(?:beta1)?/projects/([^/:]+)")


def project_of(path: str, numbers: dict[str, str]) -> str | None:
    found = _PROJECT_PATH.match(path)
    if found is None:
        return None
    ident = found.group(1)
    return numbers.get(ident, ident)


def kind_of(entry: dict[str, Any]) -> str | None:
    """The mutation an entry is ("link", "enable:<svc>", "batchEnable", ...), or None."""
    path = entry["path"]
    if entry["method"] == "PUT" and path.endswith("/billingInfo"):
        return "link"
    if path.endswith(":batchEnable"):
        return "batchEnable"
    if path.endswith(":enable"):
        return "enable:" + path.rsplit("/", 1)[1].removesuffix(":enable")
    if path.endswith(":enableModel"):
        return "enableModel:" + path.split("/publishers/", 1)[1].removesuffix(":enableModel")
    if entry["method"] == "POST" and path in ("/v3/projects", "/v1/projects"):
        return "create"
    if entry["mutating"]:
        return "other:" + path
    return None


def _reread_for(kind: str, entry: dict[str, Any]) -> bool:
    """Is `entry` a re-read of what a mutation of `kind` changes?"""
    path = entry["path"]
    if kind == "link":
        return entry["method"] == "GET" and path.endswith("/billingInfo")
    if kind == "batchEnable" or kind.startswith("enable:"):
        return entry["method"] == "GET" and "/services" in path
    if kind.startswith("enableModel:"):
        return entry["method"] == "POST" and path.endswith("/chat/completions")
    return kind == "create" and entry["method"] == "GET"


def _applied_by_fault(entry: dict[str, Any], rules: list[dict[str, Any]]) -> bool:
    """Did a `phase: after` rule run this request and replace its answer?"""
    for raw in rules:
        if raw.get("phase") != "after" or not raw.get("fired"):
            continue
        match = raw.get("match") or {}
        if match.get("method") and match["method"].upper() != entry["method"]:
            continue
        if match.get("path") and not re.search(match["path"], entry["path"]):
            continue
        replaced = raw.get("status", 500) if raw.get("action", "respond") == "respond" else 0
        if entry["status"] == replaced:
            return True
    return False


def effective_2xx(entry: dict[str, Any]) -> bool:
    return 200 <= entry["status"] < 300 or entry["status"] == 401


def effective(entry: dict[str, Any], rules: list[dict[str, Any]]) -> bool:
    return 200 <= entry["status"] < 300 or _applied_by_fault(entry, rules)


def _projects(world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["project_id"]: p for p in world.get("projects", [])}


def _numbers(*worlds: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for world in worlds:
        for project in world.get("projects", []):
            if project.get("number"):
                found[str(project["number"])] = project["project_id"]
    return found


def violations(run: Run) -> list[str]:
    """Every invariant this run broke (empty when it kept them all)."""
    problems: list[str] = []
    for entry in run.journal:
        path = entry["path"]
        if ":disable" in path or "delete" in path.lower() or entry["method"] == "DELETE":
            problems.append(f"destructive request {entry['method']} {path}")
    before, after = _projects(run.before), _projects(run.after)
    for project_id, old in before.items():
        new = after.get(project_id)
        if new is None:
            problems.append(f"project {project_id} disappeared")
            continue
        if old.get("billing_account") and not new.get("billing_account"):
            problems.append(f"billing of {project_id} was unlinked")
        if set(old.get("services", [])) - set(new.get("services", [])):
            problems.append(f"an API of {project_id} was disabled")
    if run.command in ("plan", "audit", "smoke"):
        problems += [f"{run.command} sent {e['method']} {e['path']}" for e in run.mutations()]
        return problems
    if run.command == "apply" and run.before:
        problems += _apply_violations(run, before, after)
    return problems


def _apply_violations(
    run: Run, before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> list[str]:
    problems: list[str] = []
    numbers = _numbers(run.before, run.after)
    counts: Counter[tuple[str, str]] = Counter()
    last_send: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(run.journal):
        kind = kind_of(entry)
        if kind is None:
            continue
        project = project_of(entry["path"], numbers) or "-"
        key = (project, kind)
        enabling = kind == "batchEnable" or kind.startswith("enable:")
        if not enabling and effective(entry, run.rules):
            counts[key] += 1  # enables are counted by the operations they started, below
        old = before.get(project, {})
        problems += _already_desired(kind, entry, project, old, after.get(project, {}))
        previous = last_send.get(key)
        # A re-send follows a send that did not visibly succeed (a 2xx before it means this is
        # the next chunk); a 401 was rejected before anything was done.
        if previous is not None and not effective_2xx(run.journal[previous]):
            between = run.journal[previous + 1 : index]
            if not any(
                _reread_for(kind, e) and project_of(e["path"], numbers) in (project, None)
                for e in between
            ):
                problems.append(f"{kind} on {project} re-sent without a re-read first")
        last_send[key] = index
    problems += _noop_enables(run, numbers)
    known = {op["name"] for op in run.before.get("operations", [])}
    for op in run.after.get("operations", []):
        if op["name"] not in known and str(op.get("kind", "")).startswith("su_"):
            project = numbers.get(str(op["project"]), str(op["project"]))
            for service in op.get("payload", {}).get("services", []):
                counts[(project, f"enable:{service}")] += 1
    for (project, kind), count in counts.items():
        allowed = 1
        if kind == "create":
            allowed = max(1, len(set(after) - set(before)))
        if count > allowed:
            problems.append(f"{kind} on {project} took effect {count} times (at most {allowed})")
    return problems


def _noop_enables(run: Run, numbers: dict[str, str]) -> list[str]:
    """Enables answered 2xx without starting an operation: sent for services already enabled
    (Service Usage answers those with operations/noop.DONE_OPERATION)."""
    known = {op["name"] for op in run.before.get("operations", [])}
    started: Counter[str] = Counter()
    for op in run.after.get("operations", []):
        if op["name"] not in known and str(op.get("kind", "")).startswith("su_"):
            started[numbers.get(str(op["project"]), str(op["project"]))] += 1
    answered: Counter[str] = Counter()
    for entry in run.journal:
        kind = kind_of(entry) or ""
        if (kind == "batchEnable" or kind.startswith("enable:")) and 200 <= entry["status"] < 300:
            answered[project_of(entry["path"], numbers) or "-"] += 1
    return [
        f"{answered[p] - started[p]} enable(s) sent to {p} for services already enabled"
        for p in answered
        if answered[p] > started[p]
    ]


def _already_desired(
    kind: str, entry: dict[str, Any], project: str, old: dict[str, Any], new: dict[str, Any]
) -> list[str]:
    """A mutation sent for something that was already as wanted when the run began."""
    if not old:
        return []
    if (
        kind == "link"
        and old.get("billing_account")
        and old["billing_account"] == new.get("billing_account")
    ):
        return [f"link sent to {project}, already on {old['billing_account']}"]
    if kind.startswith("enable:") and kind.removeprefix("enable:") in old.get("services", []):
        return [f"{kind} sent to {project}, already enabled"]
    if kind.startswith("enableModel:"):
        model = "publishers/" + kind.removeprefix("enableModel:")
        if model in old.get("models", []):
            return [f"enableModel sent to {project} for {model}, already enabled"]
    return []


DEFAULT_TIMING = {
    "operation_polls": 1,
    "operation_seconds": 0,
    "service_propagation_s": 2,
    "billing_propagation_s": 1,
}

WorldEdit = Callable[[Callable[[dict[str, Any]], None]], None]


class Harness:
    """Runs the CLI in process and keeps every run with its slice of the journal."""

    def __init__(self, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
        self.emulator = emulator
        self.monkeypatch = monkeypatch
        self.tmp = tmp
        self.runs: list[Run] = []
        self._counter = iter(range(10_000))

    def __call__(self, *args: str, token: str | None = None, report: bool = True) -> Run:
        if token is not None:
            self.monkeypatch.setenv("BOOTSTRAP_EMULATOR_TOKEN", token)
        path = self.tmp / f"report-{next(self._counter)}.json"
        extra = ["--output", str(path)] if report else []
        start = len(self.emulator.journal())
        before = self.emulator.get_world()
        result = CliRunner().invoke(bootstrap_cli, [*args, *extra], catch_exceptions=False)
        journal = self.emulator.journal()[start:]
        data = json.loads(path.read_text()) if report and path.exists() else None
        run = Run(
            command=args[0],
            args=tuple(args),
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            report=data,
            journal=journal,
            before=before,
            after=self.emulator.get_world(),
            rules=self.emulator.faults()["rules"],
        )
        self.runs.append(run)
        return run

    def check_invariants(self) -> None:
        problems = [
            f"{r.command} #{i}: {p}" for i, r in enumerate(self.runs) for p in violations(r)
        ]
        assert not problems, "\n".join(problems)

    def converge(self) -> None:
        """Faults gone, operations allowed to finish: plan is 0 after at most one more apply."""
        applied = [r for r in self.runs if r.command == "apply"]
        if not applied:
            return
        manifests = [a for a in applied[-1].args if a.endswith(".yaml")]
        self.emulator.clear_faults()
        current = self.emulator.get_world()
        current["timing"].update(DEFAULT_TIMING)
        for op in current.get("operations", []):
            op["polls_needed"] = 0
        self.emulator.put_world(current)
        self.emulator.advance(31)  # past the unobserved-settle time of any pending operation
        owner = "emulator-owner"
        first = self("plan", *manifests, token=owner)
        if first.exit_code != 0:
            again = self("apply", *manifests, "--yes", "--no-smoke", token=owner)
            assert again.exit_code == 0, again.output
            final = self("plan", *manifests, token=owner)
            assert final.exit_code == 0, final.output
        self.check_invariants()


def leaked(text: str) -> list[str]:
    """The token patterns (and the credential path) found in `text`."""
    found = [p for p in TOKEN_PATTERNS if p in text]
    if CREDENTIAL_PATH in text:
        found.append(CREDENTIAL_PATH)
    return found


def times(entries: list[dict[str, Any]]) -> list[float]:
    """The journal entries' (virtual clock) times, in seconds."""
    return [
        dt.datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp() for e in entries
    ]
