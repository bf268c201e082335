"""The reconciler's reads: one project's observed state, the permission preflight, per-run memos.

Reads of one project run concurrently on their own pool (so a project worker never waits on a
task queued behind other projects' workers), carrying the project's request priority along.
Reads that do not depend on the project (billing accounts, publisher models, permissions on a
shared parent or account) happen once per run. Nothing here writes.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any, TypeVar

from bootstrap.checks import model_check
from bootstrap.clock import Clock, SystemClock, wait_result, worker_pool
from bootstrap.cloud.inventory import Inventory
from bootstrap.cloud.observed import (
    BillingAccountInfo,
    ModelAccess,
    Observed,
    ObservedBilling,
    ObservedIamPolicy,
    ObservedModel,
    ObservedProject,
    PermissionReport,
    ProjectState,
    ServiceState,
)
from bootstrap.cloud.org_policy import (
    ALLOWED_MODELS,
    ORG_POLICY_READ,
    RESTRICT_SERVICE_USAGE,
    EffectivePolicy,
    ObservedOrgPolicy,
)
from bootstrap.cloud.protocol import Cloud
from bootstrap.cloud.quota import QUOTA_READ, ObservedQuotas
from bootstrap.errors import BootstrapError, Cause, Failure
from bootstrap.manifest.desired import DesiredModel, DesiredProject
from bootstrap.plan.model import ProjectPlan
from bootstrap.plan.preflight import required_permissions
from bootstrap.reconcile.inventory import InventoryView, compliant_view

T = TypeVar("T")


class _Once:
    """Per-run memo: the first caller computes, concurrent callers wait for the same answer."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._futures: dict[object, Future[object]] = {}

    def get(self, key: object, compute: Callable[[], object]) -> object:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = Future()
                self._futures[key] = future
        if owner:
            try:
                future.set_result(compute())
            except BaseException as error:  # re-raised to every waiter below
                future.set_exception(error)
        return wait_result(self._clock, future)


def org_policy_constraints(desired: DesiredProject) -> tuple[str, ...]:
    """The constraints worth one effective-policy read each: the model allow list when the
    manifest wants models, the service restriction when it wants APIs."""
    wanted = (
        (ALLOWED_MODELS, bool(desired.models)),
        (RESTRICT_SERVICE_USAGE, bool(desired.services)),
    )
    return tuple(constraint for constraint, needed in wanted if needed)


def _done(value: T) -> Future[T]:
    future: Future[T] = Future()
    future.set_result(value)
    return future


def _cancel(*futures: Future[Any] | None) -> None:
    for future in futures:
        if future is not None:
            future.cancel()


class Observer:
    """Read-only access to the cloud for one run: observe, probe, preflight."""

    def __init__(
        self,
        cloud: Cloud,
        *,
        probe: bool,
        concurrency: int,
        clock: Clock | None = None,
        org_policy: bool = True,
        quota: bool = True,
        inventory: Inventory | None = None,
    ) -> None:
        self.cloud = cloud
        # Prefetched bulk reads (--inventory asset): a project whose view there is compliant
        # skips its project, billing and services reads (reconcile/inventory.py).
        self.inventory = inventory
        self._judged: set[str] = set()
        self._judged_lock = threading.Lock()
        self.probe = probe
        self.org_policy = org_policy  # False: the effective org policies are not read
        self.quota = quota  # False: the models' quotas are not read (Cloud Quotas)
        # The clock only to wait as its workers do: reads count while they run, and a project
        # waiting on them lets time move (bootstrap.clock.FastForwardClock).
        self._clock = clock or SystemClock()
        self._once = _Once(self._clock)
        self._reads = worker_pool(self._clock, max(4, concurrency * 4), thread_name_prefix="read")

    def close(self) -> None:
        self._reads.shutdown(wait=False, cancel_futures=True)

    def _read(self, function: Callable[..., T], *args: object) -> Future[T]:
        """Run a read on the read pool, carrying this project's request priority along."""
        return self._reads.submit(contextvars.copy_context().run, function, *args)

    def observe(self, desired: DesiredProject) -> Observed:
        """Read the project, its billing, its APIs, its models, the effective org policies the
        manifest can hit, the models' quotas (one Cloud Quotas list) and, when the manifest names
        principals, its IAM policy (read only, concurrently). The first three (and the analyzed
        org policies, the searched IAM policy) come from the inventory when its view of the
        project is compliant."""
        project_id = desired.project_id
        view = self._inventory_view(desired)
        project_f, billing_f, services_f = self._core_reads(desired, view)
        answers = self.inventory if view is not None else None  # what the inventory may answer
        policy_f = self._iam_read(desired, answers)
        org_policy_fs = self._org_policy_reads(desired, answers)
        model_fs, quota_f, wanted = self._model_reads(desired)
        failures: dict[str, Failure] = {}
        collect = self._collect
        project = collect(project_f, failures, "project")
        if project is not None and project.state is not ProjectState.ACTIVE:
            # Nothing else about a missing or deleted project is worth reporting.
            _cancel(billing_f, services_f, policy_f, *(f for _, _, f in model_fs))
            _cancel(*(f for _, f in org_policy_fs), quota_f)
            return Observed(project_id=project_id, project=project, failures=failures)
        billing = collect(billing_f, failures, "billing")
        services = collect(services_f, failures, "services")
        models = tuple(
            m
            for model, location, f in model_fs
            if (m := collect(f, failures, model_check(model.alias, location))) is not None
        )
        return Observed(
            project_id=project_id,
            project=project,
            billing=billing,
            billing_account=self.billing_account(desired.billing_account, failures),
            services=services,
            models=models,
            iam_policy=collect(policy_f, failures, "iam_policy") if policy_f else None,
            org_policy=self._org_policy(desired, org_policy_fs, failures),
            quotas=self._quotas(quota_f, failures, wanted),
            failures=failures,
        )

    def _model_reads(
        self, desired: DesiredProject
    ) -> tuple[
        list[tuple[DesiredModel, str, Future[ObservedModel]]],
        Future[ObservedQuotas] | None,
        list[tuple[str, str]],
    ]:
        """Each model in each location (Model Garden, then the probe), and the models' quotas
        (one list; not when quota reads are off); with the (model, location) pairs wanted."""
        model_fs = [
            (model, location, self._read(self.observe_model, desired, model, location))
            for model in desired.models
            for location in model.locations
        ]
        wanted = [(m.publisher_model, loc) for m in desired.models for loc in m.locations]
        reads_quota = self.quota and bool(wanted)
        quota_f = (
            self._read(self.cloud.get_model_quotas, desired.project_id, wanted)
            if reads_quota
            else None
        )
        return model_fs, quota_f, wanted

    def _inventory_view(self, desired: DesiredProject) -> InventoryView | None:
        """The inventory's view of the project when it is compliant (and the project then
        counted as judged from it); None: read it directly."""
        view = compliant_view(self.inventory, desired) if self.inventory is not None else None
        if view is not None:
            with self._judged_lock:
                self._judged.add(desired.project_id)
        return view

    def _core_reads(
        self, desired: DesiredProject, view: InventoryView | None
    ) -> tuple[Future[ObservedProject], Future[ObservedBilling], Future[dict[str, ServiceState]]]:
        """The project, its billing and its APIs: from the inventory's view, else read."""
        if view is not None:
            return _done(view.project), _done(view.billing), _done(view.services)
        cloud, project_id = self.cloud, desired.project_id
        return (
            self._read(cloud.get_project, project_id),
            self._read(cloud.get_billing, project_id),
            self._read(cloud.get_services, project_id, desired.services),
        )

    def _iam_read(
        self, desired: DesiredProject, inventory: Inventory | None
    ) -> Future[ObservedIamPolicy] | None:
        """The project's IAM policy when the manifest names principals: from `inventory`'s
        search when it found the project there, else read."""
        if not desired.principals:
            return None
        searched = inventory.iam_policy(desired.project_id) if inventory else None
        if searched is not None:
            return _done(searched)
        return self._read(self.cloud.get_project_iam_policy, desired.project_id)

    def _org_policy_reads(
        self, desired: DesiredProject, inventory: Inventory | None
    ) -> list[tuple[str, Future[EffectivePolicy]]]:
        """One effective policy per constraint that applies: from `inventory`'s analysis of
        the organization when it has one, else read."""
        reads = []
        for constraint in org_policy_constraints(desired) if self.org_policy else ():
            analyzed = inventory.policy(constraint, desired.project_id) if inventory else None
            if analyzed is not None:
                reads.append((constraint, _done(analyzed)))
                continue
            read = self._read(self.cloud.get_effective_policy, desired.project_id, constraint)
            reads.append((constraint, read))
        return reads

    def judged_from_inventory(self, project_id: str) -> bool:
        with self._judged_lock:
            return project_id in self._judged

    def inventory_judged(self) -> frozenset[str]:
        """The projects whose project, billing and services checks rest on the inventory."""
        with self._judged_lock:
            return frozenset(self._judged)

    def add_judged(self, project_ids: frozenset[str]) -> None:
        """Projects a worker process judged from the inventory (bootstrap.reconcile.processes)."""
        with self._judged_lock:
            self._judged.update(project_ids)

    def reread_direct(self, desired: DesiredProject, observed: Observed) -> Observed:
        """Replace what the inventory answered for this project (project, billing, services, org
        policies, IAM policy) with its own reads."""
        cloud, project_id = self.cloud, desired.project_id
        with self._judged_lock:
            self._judged.discard(project_id)
        project_f = self._read(cloud.get_project, project_id)
        billing_f = self._read(cloud.get_billing, project_id)
        services_f = self._read(cloud.get_services, project_id, desired.services)
        org_policy_fs = self._org_policy_reads(desired, None)
        policy_f = self._iam_read(desired, None)
        failures = {
            k: v
            for k, v in observed.failures.items()
            if k not in ("project", "billing", "services", ORG_POLICY_READ, "iam_policy")
        }
        project = self._collect(project_f, failures, "project")
        return replace(
            observed,
            project=project,
            billing=self._collect(billing_f, failures, "billing"),
            services=self._collect(services_f, failures, "services"),
            org_policy=self._org_policy(desired, org_policy_fs, failures),
            iam_policy=self._collect(policy_f, failures, "iam_policy") if policy_f else None,
            failures=failures,
        )

    def _quotas(
        self,
        future: Future[ObservedQuotas] | None,
        failures: dict[str, Failure],
        wanted: list[tuple[str, str]],
    ) -> ObservedQuotas | None:
        """The read quotas, a `skipped` value when quota reads are off, None without models."""
        if future is not None:
            return self._collect(future, failures, QUOTA_READ)
        return ObservedQuotas(skipped=True) if wanted and not self.quota else None

    def _org_policy(
        self,
        desired: DesiredProject,
        reads: list[tuple[str, Future[EffectivePolicy]]],
        failures: dict[str, Failure],
    ) -> ObservedOrgPolicy | None:
        """The constraints read (the first failed read kept under ORG_POLICY_READ); a `skipped`
        value when the reads are off; None when no constraint applies."""
        if not self.org_policy:
            return ObservedOrgPolicy(skipped=True) if org_policy_constraints(desired) else None
        if not reads:
            return None
        policies = []
        for _constraint, future in reads:
            found: dict[str, Failure] = {}
            policy = self._collect(future, found, ORG_POLICY_READ)
            if policy is not None:
                policies.append(policy)
            for name, failure in found.items():
                failures.setdefault(name, failure)
        return ObservedOrgPolicy(policies=tuple(policies), wanted=tuple(c for c, _ in reads))

    def observe_model(
        self, desired: DesiredProject, model: DesiredModel, location: str
    ) -> ObservedModel:
        def observed(access: ModelAccess, failure: Failure | None = None) -> ObservedModel:
            return ObservedModel(
                publisher_model=model.publisher_model,
                alias=model.alias,
                location=location,
                access=access,
                failure=failure,
            )

        if not self.publisher_model_exists(model.publisher_model):
            failure = Failure(
                cause=Cause.MODEL_NOT_FOUND_OR_NO_ACCESS,
                message=f"{model.publisher_model} does not exist in Model Garden (or is hidden from you).",
                remedy="check the model name against the Model Garden catalog",
            )
            return observed(ModelAccess.NO_ACCESS, failure)
        if not self.probe:
            return observed(ModelAccess.UNKNOWN)
        probe = self.cloud.probe_model(desired.project_id, location, model.request_model)
        return observed(probe.access, probe.failure)

    def read_run_wide(self, projects: Sequence[DesiredProject]) -> None:
        """Make the once-per-run reads the projects share now (each model's Model Garden card,
        each named billing account), so that worker processes forked after it share them
        instead of each reading them again. A failure is kept, and met by the project that
        needs the answer, as it would be without this."""
        for publisher_model in sorted({m.publisher_model for p in projects for m in p.models}):
            with contextlib.suppress(BootstrapError):
                self.publisher_model_exists(publisher_model)
        for account in sorted({p.billing_account for p in projects if p.billing_account}):
            self.billing_account(account, {})

    def publisher_model_exists(self, publisher_model: str) -> bool:
        """publishers.models.get, once per run per model."""
        info = self._once.get(
            ("publisher", publisher_model),
            lambda: self.cloud.get_publisher_model(publisher_model),
        )
        return info is not None

    def billing_account(
        self, account_id: str | None, failures: dict[str, Failure]
    ) -> BillingAccountInfo | None:
        """billingAccounts.get, once per run per account (is it open?)."""
        if account_id is None:
            return None
        try:
            info = self._once.get(
                ("account", account_id), lambda: self.cloud.get_billing_account(account_id)
            )
        except BootstrapError as error:
            failures["billing_account"] = error.failure
            return None
        assert isinstance(info, BillingAccountInfo)
        return info

    def _collect(self, future: Future[T], failures: dict[str, Failure], read: str) -> T | None:
        try:
            return wait_result(self._clock, future)
        except BootstrapError as error:
            failures[read] = error.failure
            return None

    # ------------------------------------------------------------ preflight

    def preflight(self, plan: ProjectPlan, desired: DesiredProject) -> list[PermissionReport]:
        """testIamPermissions on each resource the planned changes touch (fail open on errors)."""
        reports = []
        for resource, permissions in required_permissions(plan, desired):
            try:
                held = self._test_permissions(resource, permissions)
            except BootstrapError:
                continue  # the preflight is advisory; the real call stays authoritative
            missing = tuple(p for p in permissions if p not in held)
            reports.append(PermissionReport(resource=resource, missing=missing))
        return reports

    def _test_permissions(self, resource: str, permissions: tuple[str, ...]) -> frozenset[str]:
        kind, _, ident = resource.partition("/")
        if kind == "projects":
            return self.cloud.test_project_permissions(ident, permissions)
        if kind == "billingAccounts":
            held = self._once.get(
                ("billing-perms", ident, permissions),
                lambda: self.cloud.test_billing_permissions(ident, permissions),
            )
        else:
            held = self._once.get(
                ("parent-perms", resource, permissions),
                lambda: self.cloud.test_parent_permissions(resource, permissions),
            )
        assert isinstance(held, frozenset)
        return held
