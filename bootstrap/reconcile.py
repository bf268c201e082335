"""Observe -> plan -> apply across many projects, with bounded concurrency and no local state.

Each project is observed afresh (the three control-plane reads and one probe per model and
location run concurrently), planned by the pure planner, checked by the permission preflight when
it has changes, and, in apply mode, handed to `bootstrap.apply` (the only code that writes).
Reads that do not depend on the project (billing accounts, publisher models, permissions on a
shared parent or account) happen once per run. A failure in one project never stops the others.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import replace
from typing import TypeVar

from bootstrap.apply import ProjectApply
from bootstrap.cancel import Interrupted
from bootstrap.clock import Clock
from bootstrap.cloud import Cloud
from bootstrap.desired import DesiredModel, DesiredProject
from bootstrap.errors import BootstrapError, Cause, Failure
from bootstrap.observed import (
    BillingAccountInfo,
    ModelAccess,
    Observed,
    ObservedModel,
    PermissionReport,
    ProjectState,
)
from bootstrap.plan import (
    Check,
    CheckStatus,
    ProjectPlan,
    apply_preflight,
    plan_project,
    required_permissions,
)
from bootstrap.priority import REQUEST_PRIORITY
from bootstrap.results import ChangeResult, EventSink, ProjectResult, RunOptions

T = TypeVar("T")

# Projects worked on at once; their requests still go through `concurrency` HTTP slots.
PROJECT_THREADS = 256

# How long an interrupted run waits for its workers to notice before giving up on them.
INTERRUPT_GRACE_S = 3.0


class _Once:
    """Per-run memo: the first caller computes, concurrent callers wait for the same answer."""

    def __init__(self) -> None:
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
        return future.result()


class Reconciler:
    """Runs observe/plan(/apply) for many projects against one Cloud."""

    def __init__(
        self,
        cloud: Cloud,
        *,
        options: RunOptions,
        clock: Clock,
        on_event: EventSink | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.cloud = cloud
        self.options = options
        self.clock = clock
        self._emit = on_event or (lambda _project, _message: None)
        self._once = _Once()
        self.cancel = cancel or threading.Event()
        # Operations left running by an interrupted apply, for the "rerun to resume" message.
        self.pending_operations: list[str] = []
        # Reads of one project run concurrently on their own pool so a project worker never
        # waits on a task queued behind other projects' workers.
        self._reads = ThreadPoolExecutor(
            max_workers=max(4, options.concurrency * 4), thread_name_prefix="read"
        )

    def close(self) -> None:
        self._reads.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ run

    def run(self, projects: Sequence[DesiredProject]) -> list[ProjectResult]:
        """Reconcile every project; results come back in the input order.

        Ctrl-C (KeyboardInterrupt in this thread) sets `cancel`; workers stop at their next
        wait (the clock must be a CancellableClock on this event) and `Interrupted` names the
        operations still running.
        """
        # A project thread spends most of an apply asleep (operation polls, readiness gates)
        # holding no HTTP slot, so it is the slots, not this pool, that bound the requests in
        # flight; a pool of 2 x concurrency would serialise the waits of large applies.
        workers = max(1, min(len(projects), max(self.options.concurrency * 2, PROJECT_THREADS)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="project")
        futures = [
            pool.submit(self._reconcile_in_order, index, project)
            for index, project in enumerate(projects)
        ]
        try:
            results = [future.result() for future in futures]
        except KeyboardInterrupt:
            self.cancel.set()
            pool.shutdown(wait=False, cancel_futures=True)
            wait(futures, timeout=INTERRUPT_GRACE_S)
            raise Interrupted(tuple(self.pending_operations)) from None
        pool.shutdown(wait=True)
        return results

    def _reconcile_in_order(self, index: int, desired: DesiredProject) -> ProjectResult:
        # Earlier projects' requests go first when the HTTP slots are busy (bootstrap.priority).
        REQUEST_PRIORITY.set(index)
        return self.reconcile_project(desired)

    def _read(self, function: Callable[..., T], *args: object) -> Future[T]:
        """Run a read on the read pool, carrying this project's request priority along."""
        return self._reads.submit(contextvars.copy_context().run, function, *args)

    def reconcile_project(self, desired: DesiredProject) -> ProjectResult:
        started = self.clock.now()
        self._emit(desired.project_id, "observing")
        try:
            observed = self.observe(desired)
            plan = plan_project(
                desired,
                observed,
                as_of=self.options.as_of,
                allow_relink=self.options.allow_relink,
                probe=self.options.probe,
            )
            if plan.changes and self.options.preflight:
                plan = apply_preflight(plan, self.preflight(plan, desired))
            if not self.options.apply or not plan.changes:
                planned = f", {len(plan.changes)} change(s) planned" if plan.changes else ""
                self._emit(desired.project_id, f"checked{planned}")
                result = ProjectResult(
                    project_id=desired.project_id,
                    plan=plan,
                    changes=tuple(ChangeResult(change=c, outcome="planned") for c in plan.changes),
                    observed=observed,
                )
            else:
                result = ProjectApply(self, desired, observed, plan).run()
        except BootstrapError as error:
            result = _failed_result(desired.project_id, error.failure)
        return replace(result, duration_s=self.clock.now() - started)

    # -------------------------------------------------------------- observe

    def observe(self, desired: DesiredProject) -> Observed:
        """Read the project, its billing, its APIs and its models (read only, concurrently)."""
        cloud = self.cloud
        project_id = desired.project_id
        project_f = self._read(cloud.get_project, project_id)
        billing_f = self._read(cloud.get_billing, project_id)
        services_f = self._read(cloud.get_services, project_id, desired.services)
        model_fs = [
            (model, location, self._read(self.observe_model, desired, model, location))
            for model in desired.models
            for location in model.locations
        ]
        failures: list[Failure] = []
        project = _collect(project_f, failures)
        if project is not None and project.state is not ProjectState.ACTIVE:
            # Nothing else about a missing or deleted project is worth reporting.
            billing_f.cancel()
            services_f.cancel()
            for _, _, model_f in model_fs:
                model_f.cancel()
            return Observed(project_id=project_id, project=project, failures=tuple(failures))
        billing = _collect(billing_f, failures)
        services = _collect(services_f, failures)
        models = tuple(m for _, _, f in model_fs if (m := _collect(f, failures)) is not None)
        account = self.billing_account(desired.billing_account, failures)
        return Observed(
            project_id=project_id,
            project=project,
            billing=billing,
            billing_account=account,
            services=services,
            models=models,
            failures=tuple(failures),
        )

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
        if not self.options.probe:
            return observed(ModelAccess.UNKNOWN)
        probe = self.cloud.probe_model(desired.project_id, location, model.request_model)
        return observed(probe.access, probe.failure)

    def publisher_model_exists(self, publisher_model: str) -> bool:
        """publishers.models.get, once per run per model."""
        info = self._once.get(
            ("publisher", publisher_model),
            lambda: self.cloud.get_publisher_model(publisher_model),
        )
        return info is not None

    def billing_account(
        self, account_id: str | None, failures: list[Failure]
    ) -> BillingAccountInfo | None:
        """billingAccounts.get, once per run per account (is it open?)."""
        if account_id is None:
            return None
        try:
            info = self._once.get(
                ("account", account_id), lambda: self.cloud.get_billing_account(account_id)
            )
        except BootstrapError as error:
            failures.append(error.failure)
            return None
        assert isinstance(info, BillingAccountInfo)
        return info

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


# -------------------------------------------------------------------- helpers


def _collect(future: Future[T], failures: list[Failure]) -> T | None:
    try:
        return future.result()
    except BootstrapError as error:
        failures.append(error.failure)
        return None


def _failed_result(project_id: str, failure: Failure) -> ProjectResult:
    check = Check(
        name="project",
        status=CheckStatus.FAILED,
        cause=failure.cause,
        remedy=failure.remedy,
        detail=failure.message,
    )
    return ProjectResult(
        project_id=project_id, plan=ProjectPlan(project_id=project_id, checks=(check,))
    )
