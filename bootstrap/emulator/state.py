"""The backend's store: one world, the virtual clock, operations, lags, and the IAM check.

Handlers never see this module's internals through HTTP: the per-API backends (crm, serviceusage,
billing, vertex) call the lookups and checks here. Everything runs on the event-loop thread, so
there are no locks. Operations are kept in one store keyed by full name, because Resource Manager
v1 and Service Usage share the `/v1/operations/{id}` path on a single port.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass
from typing import Any

from bootstrap.emulator import google_errors
from bootstrap.emulator.clock import VirtualClock, parse_rfc3339
from bootstrap.emulator.history import History
from bootstrap.emulator.iam import PolicyView, policy_grants
from bootstrap.emulator.world import (
    BillingAccount,
    IamPolicy,
    ModelOffer,
    Principal,
    Project,
    ProjectState,
    ServiceAccount,
    ServiceInfo,
    World,
    world_from_dict,
    world_to_dict,
)

CRM_DOMAIN = "cloudresourcemanager.googleapis.com"


@dataclass(frozen=True, slots=True)
class BillingView:
    """What getBillingInfo shows: possibly a stale view during the propagation lag."""

    account: str | None
    until: float


UNOBSERVED_SETTLE_S = 30.0


class Store:
    """All emulator state, reloadable from a world dict in one call."""

    def __init__(self, world: dict[str, Any], *, time_scale: float, seed: int) -> None:
        self.seed = seed
        self.initial = world
        self.clock = VirtualClock(
            start=parse_rfc3339("2026-11-25T12:00:00Z"), time_scale=time_scale
        )
        self.load(world)

    # -- loading and dumping -------------------------------------------------------------
    def load(self, raw: dict[str, Any], *, keep_clock: bool = False) -> None:
        """Replace the state. PUT world keeps the running clock (operation deadlines are measured
        on it) unless the world names a different start; reset restarts it."""
        previous = getattr(self, "world", None)
        self.world: World = world_from_dict(raw, seed=self.seed)
        if not (
            keep_clock and previous is not None and previous.clock_start == self.world.clock_start
        ):
            self.clock.restart(start=parse_rfc3339(self.world.clock_start))
        self.random = random.Random(self.seed)
        self.op_counter = itertools.count(1)
        self.operations: dict[str, dict[str, Any]] = {
            op["name"]: op for op in self.world.operations
        }
        self.world.operations = []
        self.service_ready_at: dict[tuple[str, str], float] = {}
        self.stale_billing: dict[str, BillingView] = {}
        self.stale_policies: dict[str, PolicyView] = {}
        # Tokens minted by IAM Credentials: token -> (the account's principal, virtual expiry).
        self.minted: dict[str, tuple[Principal, float]] = {}
        # Each project's views before its changes: the Cloud Asset inventory's lag (asset.py).
        self.history = History()
        self.reindex()

    def reindex(self) -> None:
        self.projects_by_key: dict[str, Project] = {}
        for project in self.world.projects:
            self.projects_by_key[project.project_id] = project
            self.projects_by_key[project.number] = project
        self.principals_by_token: dict[str, Principal] = {
            token: p for p in self.world.principals for token in p.tokens
        }
        self.accounts: dict[str, BillingAccount] = {b.id: b for b in self.world.billing_accounts}
        self.services: dict[str, ServiceInfo] = {s.name: s for s in self.world.services}
        self.models: dict[str, ModelOffer] = {m.name: m for m in self.world.models}
        self.folder_parent = {f"folders/{f.id}": f.parent for f in self.world.folders}
        self.service_accounts = {a.email.lower(): a for a in self.world.service_accounts}
        self.policies: dict[str, IamPolicy] = {}
        for policy in self.world.iam_policies:
            policy.resource = self.policy_key(policy.resource)
            self.policies[policy.resource] = policy

    def dump(self) -> dict[str, Any]:
        self.world.operations = list(self.operations.values())
        try:
            return world_to_dict(self.world)
        finally:
            self.world.operations = []

    # -- lookups ---------------------------------------------------------------------------
    def principal(self, token: str | None, *, service: str = "") -> Principal:
        """Who a bearer token is: a world principal's fixed token, or a minted one until it
        expires (then 401 ACCESS_TOKEN_EXPIRED, naming the service called)."""
        principal = self.principals_by_token.get(token or "")
        if principal is not None:
            return principal
        minted = self.minted.get(token or "")
        if minted is None:
            raise google_errors.unauthenticated()
        if self.clock.elapsed() >= minted[1]:
            raise google_errors.access_token_expired(service)
        return minted[0]

    def mint_token(self, account: ServiceAccount, lifetime_s: float) -> tuple[str, float]:
        """A new token acting as `account` (its world principal's grants, if it has one, and
        the bindings that name it) and the virtual time it expires."""
        email = account.email.lower()
        principal = next(
            (p for p in self.world.principals if p.email.lower() == email),
            Principal(email=account.email, tokens=[], grants={}),
        )
        token = f"ya29.emulated-{uuid.UUID(int=self.random.getrandbits(128)).hex}"
        expiry = self.clock.elapsed() + lifetime_s
        self.minted[token] = (principal, expiry)
        return token, expiry

    def project(self, key: str) -> Project | None:
        return self.projects_by_key.get(key)

    def new_project_number(self) -> str:
        while True:
            number = str(self.random.randrange(100000000000, 999999999999))
            if number not in self.projects_by_key:
                return number

    def service_info(self, name: str) -> ServiceInfo:
        info = self.services.get(name)
        return info if info else ServiceInfo(name=name, title=name)

    def billing_enabled(self, project: Project) -> bool:
        account = self.accounts.get(project.billing_account or "")
        return bool(account and account.open)

    def billing_usable(self, project: Project) -> bool:
        """Billing as a lagging data plane sees it: the pre-link view until the lag has passed."""
        view = self.stale_billing.get(project.number)
        if view is not None and self.clock.elapsed() < view.until:
            account = self.accounts.get(view.account or "")
            return bool(account and account.open)
        return self.billing_enabled(project)

    # -- IAM ---------------------------------------------------------------------------------
    def ancestors(self, resource: str) -> list[str]:
        """The resource, then its parents up to the organization, then `*`."""
        chain = [resource]
        if "/serviceAccounts/" in resource:  # projects/P/serviceAccounts/EMAIL, then P's chain
            return [resource, *self.ancestors(resource.partition("/serviceAccounts/")[0])]
        if resource.startswith("projects/"):
            project = self.project(resource.removeprefix("projects/"))
            if project is not None:
                chain = [f"projects/{project.project_id}", f"projects/{project.number}"]
                parent = project.parent
                seen = 0
                while parent and seen < 20:
                    chain.append(parent)
                    parent = self.folder_parent.get(parent, "")
                    seen += 1
        elif resource.startswith("billingAccounts/"):
            account = self.accounts.get(resource.removeprefix("billingAccounts/"))
            if account is not None and account.parent:
                chain.append(account.parent)
        elif resource.startswith("folders/"):
            parent = self.folder_parent.get(resource, "")
            while parent and len(chain) < 20:
                chain.append(parent)
                parent = self.folder_parent.get(parent, "")
        chain.append("*")
        return chain

    def allowed(
        self, principal: Principal, permission: str, resource: str, *, data_plane: bool = False
    ) -> bool:
        """A direct grant, or an allow policy's binding, on the resource or an ancestor. The
        data plane sees a policy changed less than `timing.iam_propagation_s` ago as it was."""
        for scope in self.ancestors(resource):
            granted = principal.grants.get(scope)
            if granted and ("*" in granted or permission in granted):
                return True
            bindings = self.enforced_bindings(scope, data_plane=data_plane)
            if bindings and policy_grants(bindings, principal.email, permission):
                return True
        return False

    def policy_key(self, resource: str) -> str:
        """`projects/NUMBER` and `projects/ID` name one policy, kept under the project id."""
        kind, _, ident = resource.partition("/")
        project = self.project(ident) if kind == "projects" else None
        return f"projects/{project.project_id}" if project else resource

    def policy(self, resource: str) -> IamPolicy:
        """The resource's allow policy; one never set is empty (version 0, no etag yet)."""
        key = self.policy_key(resource)
        return self.policies.get(key) or IamPolicy(resource=key)

    def write_policy(self, policy: IamPolicy) -> None:
        """Store a written policy; the data plane keeps the old one for the propagation lag."""
        lag = float(self.world.timing.iam_propagation_s)
        old = self.policies.get(policy.resource)
        if lag > 0:
            before = old.bindings if old else []
            self.stale_policies[policy.resource] = PolicyView(before, self.clock.elapsed() + lag)
        if old is None:
            self.world.iam_policies.append(policy)
        else:
            self.world.iam_policies[self.world.iam_policies.index(old)] = policy
        self.policies[policy.resource] = policy

    def enforced_bindings(self, scope: str, *, data_plane: bool) -> list[dict[str, Any]]:
        """The scope's bindings as a call sees them (the data plane: as they were, during the
        propagation lag of a change); none for `*` or a resource without a policy."""
        if scope == "*":
            return []
        key = self.policy_key(scope)
        view = self.stale_policies.get(key) if data_plane else None
        if view is not None and self.clock.elapsed() < view.until:
            return view.bindings
        policy = self.policies.get(key)
        return policy.bindings if policy else []

    def require(self, principal: Principal, permission: str, resource: str, *, domain: str) -> None:
        if not self.allowed(principal, permission, resource):
            full = f"//{domain}/{resource}" if domain == CRM_DOMAIN else resource
            raise google_errors.permission_denied(permission, full, domain=domain)

    def active_project(self, key: str, *, service: str) -> Project:
        """The project for a non-CRM API: missing or being deleted answers 403 (inferred shape)."""
        project = self.project(key)
        if project is None or project.state != ProjectState.ACTIVE:
            raise google_errors.consumer_invalid(key, service=service)
        return project

    # -- services and operations --------------------------------------------------------------
    def service_usable(self, project: Project, service: str) -> bool:
        """Enabled and past its propagation lag (what data-plane calls see)."""
        self.settle(project)
        if service not in project.services:
            return False
        return self.clock.elapsed() >= self.service_ready_at.get((project.number, service), 0.0)

    def new_operation(
        self, *, kind: str, project: Project, payload: dict[str, Any]
    ) -> dict[str, Any]:
        timing = self.world.timing
        name = self._operation_name(kind, project)
        while name in self.operations:  # PUT world reseeds the generator; names stay unique
            name = self._operation_name(kind, project)
        op: dict[str, Any] = {
            "name": name,
            "kind": kind,
            "project": project.number,
            "payload": payload,
            "polls": 0,
            "polls_needed": int(timing.operation_polls),
            "done_at": self.clock.elapsed() + float(timing.operation_seconds),
            # Real operations finish whether or not anyone polls them (a client whose answer
            # was lost never learns the name); polls only shape what a poller sees.
            "settles_at": self.clock.elapsed()
            + max(float(timing.operation_seconds), UNOBSERVED_SETTLE_S),
            "done": False,
            "error": None,
        }
        self.operations[name] = op
        self.try_complete(op)
        return op

    def _operation_name(self, kind: str, project: Project) -> str:
        if kind.startswith("crm"):
            return f"operations/cp.{self.random.randrange(10**18, 10**19)}"
        return f"operations/acat.p2-{project.number}-{uuid.UUID(int=self.random.getrandbits(128))}"

    def try_complete(self, op: dict[str, Any]) -> bool:
        if op["done"]:
            return True
        if op["polls_needed"] < 0:
            return False  # timing.operation_polls < 0: the operation never completes
        now = self.clock.elapsed()
        polled_enough = op["polls"] >= op["polls_needed"] and now >= op["done_at"]
        if not polled_enough and now < op.get("settles_at", float("inf")):
            return False
        op["done"] = True
        project = self.project(op["project"])
        if project is not None and op["kind"] in ("su_enable", "su_batch", "su_disable"):
            self.history.remember(project, self.clock.elapsed())
        if project is not None and op["kind"] in ("su_enable", "su_batch"):
            lag = float(self.world.timing.service_propagation_s)
            for service in op["payload"]["services"]:
                if service not in project.services:
                    project.services.append(service)
                    self.service_ready_at[(project.number, service)] = self.clock.elapsed() + lag
        elif project is not None and op["kind"] == "su_disable":
            for service in op["payload"]["services"]:
                if service in project.services:
                    project.services.remove(service)
        return True

    def poll(self, name: str) -> dict[str, Any] | None:
        op = self.operations.get(name)
        if op is not None and not op["done"]:
            op["polls"] += 1
            self.try_complete(op)
        return op

    def settle(self, project: Project) -> None:
        """Complete this project's operations whose time has come (those needing no more polls)."""
        for op in self.operations.values():
            if not op["done"] and op["project"] == project.number:
                self.try_complete(op)

    def activating(self, project: Project, service: str) -> bool:
        self.settle(project)
        return any(
            not op["done"]
            and op["project"] == project.number
            and service in op["payload"]["services"]
            for op in self.operations.values()
        )
