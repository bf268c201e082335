"""The record of one CLI run against the emulator, and the journal invariants every run must
keep (reliability-notes §5 legend N, issue 6 item 3). Shared by the fault suite
(tests/faults/faults_support.py, which records runs with pytest) and the chaos soak
(`python -m bench.chaos`); like `pytest_plugin`, a testing aid, and it imports neither pytest nor
anything outside bootstrap/emulator/.

The invariants are read from the emulator's journal, sliced per CLI run, and from the emulator's
world as it was just before and just after each run:

- plan, audit and smoke send no mutating request;
- never a disable, a delete or an unlink (a project's billing account never goes from set to
  unset);
- per apply run, at most one effective enable per API and project, one effective enableModel per
  model and project, one effective setIamPolicy per project and member added (a grant never
  removes a member or a binding), and one effective link per project ("effective" = answered 2xx, or applied
  by a `phase: after` fault that replaced its answer);
- no mutation is sent for a resource that was already in the desired state when the run began;
- every re-send of a mutation is preceded by a re-read of what it changes (billingInfo for a link,
  services:batchGet for an enable, a probe chat completion for enableModel, getIamPolicy for a
  setIamPolicy), except after a 401,
  which the server rejected before doing anything.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

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
        found: list[dict[str, Any]] = [c for c in checks if c["name"] == name]
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

_PROJECT_PATH = re.compile(r"^/v(?:1|1beta1|3)/projects/([^/:]+)")


def project_of(path: str, numbers: dict[str, str]) -> str | None:
    found = _PROJECT_PATH.match(path)
    if found is None:
        return None
    ident = found.group(1)
    return numbers.get(ident, ident)


def kind_of(entry: dict[str, Any]) -> str | None:
    """The mutation an entry is ("link", "enable:<svc>", "batchEnable", ...), or None."""
    path: str = entry["path"]
    if entry["method"] == "PUT" and path.endswith("/billingInfo"):
        return "link"
    if path.endswith(":batchEnable"):
        return "batchEnable"
    if path.endswith(":enable"):
        return "enable:" + path.rsplit("/", 1)[1].removesuffix(":enable")
    if path.endswith(":enableModel"):
        return "enableModel:" + path.split("/publishers/", 1)[1].removesuffix(":enableModel")
    if path.endswith(":setIamPolicy"):
        return "setIamPolicy"
    if entry["method"] == "POST" and path in ("/v3/projects", "/v1/projects"):
        return "create"
    if entry["mutating"]:
        return "other:" + path
    return None


def _reread_for(kind: str, entry: dict[str, Any]) -> bool:
    """Is `entry` a re-read of what a mutation of `kind` changes?"""
    path: str = entry["path"]
    method: str = entry["method"]
    if kind == "link":
        return method == "GET" and path.endswith("/billingInfo")
    if kind == "batchEnable" or kind.startswith("enable:"):
        return method == "GET" and "/services" in path
    if kind.startswith("enableModel:"):
        return method == "POST" and path.endswith("/chat/completions")
    if kind == "setIamPolicy":
        return path.endswith(":getIamPolicy")
    return kind == "create" and method == "GET"


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
    status: int = entry["status"]
    return 200 <= status < 300 or status == 401


def effective(entry: dict[str, Any], rules: list[dict[str, Any]]) -> bool:
    return 200 <= entry["status"] < 300 or _applied_by_fault(entry, rules)


def _projects(world: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each project of a world dump, with its allow policy (world `iam_policies`) attached."""
    policies = {p["resource"]: p for p in world.get("iam_policies", [])}
    return {
        p["project_id"]: {**p, "iam_policy": policies.get(f"projects/{p['project_id']}")}
        for p in world.get("projects", [])
    }


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
        problems += _removed_members(project_id, old, new)
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
    return problems + _over_limit(counts, before, after)


def _over_limit(
    counts: Counter[tuple[str, str]],
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
) -> list[str]:
    """Each (project, kind) that took effect more times than one apply run allows: once, or
    once per project created (create) or member added (setIamPolicy)."""
    problems: list[str] = []
    for (project, kind), count in counts.items():
        allowed = 1
        if kind == "create":
            allowed = max(1, len(set(after) - set(before)))
        if kind == "setIamPolicy":  # one per member added
            added = _members(after.get(project, {})) - _members(before.get(project, {}))
            allowed = max(1, len(added))
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


def _members(project: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(role, condition, member) for every member of a project's IAM policy in a world dump."""
    policy = project.get("iam_policy") or {}
    return {
        (b["role"], repr(b.get("condition")), m)
        for b in policy.get("bindings", [])
        for m in b.get("members", [])
    }


def _removed_members(project_id: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """A grant only adds: no member of any binding (with its condition) may disappear."""
    gone = _members(old) - _members(new)
    return [f"{member} lost {role} on {project_id}" for role, _, member in sorted(gone)]
