"""Observe -> plan -> apply across many projects, with bounded concurrency and no local state.

Each project is observed afresh (the three control-plane reads and one probe per model and
location run concurrently), planned by the pure planner, checked by the permission preflight when
it has changes, and, in apply mode, changed in dependency order (project -> billing -> APIs ->
model). Readiness gates replace sleeps: after each change the tool re-reads until the change is
visible. The final status of a project is the planner's verdict on what was observed last, so a
report never claims more than was seen. A failure in one project never stops the others.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import TypeVar

from bootstrap.cancel import Interrupted
from bootstrap.clock import Clock
from bootstrap.cloud import Cloud
from bootstrap.desired import DesiredModel, DesiredProject
from bootstrap.errors import ANSWER_LOST, BootstrapError, Cause, Failure
from bootstrap.gates import GateTimeout, wait_until
from bootstrap.observed import (
    BillingAccountInfo,
    ModelAccess,
    Observed,
    ObservedModel,
    PermissionReport,
    ProjectState,
    ServiceState,
)
from bootstrap.plan import (
    ACTION_ORDER,
    Action,
    Change,
    Check,
    CheckStatus,
    ProjectPlan,
    apply_preflight,
    plan_project,
    required_permissions,
)
from bootstrap.priority import REQUEST_PRIORITY

T = TypeVar("T")

# Projects worked on at once; their requests still go through `concurrency` HTTP slots.
PROJECT_THREADS = 256

# How long an enable may still be refused for missing billing after this run linked it.
BILLING_PROPAGATION_S = 300.0

# How long an interrupted run waits for its workers to notice before giving up on them.
INTERRUPT_GRACE_S = 3.0

EventSink = Callable[[str, str], None]  # (project_id, message)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    as_of: dt.date
    apply: bool = False
    allow_relink: bool = False
    probe: bool = True
    preflight: bool = True
    concurrency: int = 16
    gate_deadline_s: float = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeResult:
    change: Change
    outcome: str  # planned | applied | failed | skipped
    failure: Failure | None = None
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectResult:
    """Everything one project's run produced: the last plan and what happened to each change."""

    project_id: str
    plan: ProjectPlan
    changes: tuple[ChangeResult, ...] = ()
    observed: Observed | None = None
    gate_waits_s: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0


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
                result = _Apply(self, desired, observed, plan).run()
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


class _Apply:
    """Executes one project's plan in dependency order, with a readiness gate after each step."""

    def __init__(
        self, owner: Reconciler, desired: DesiredProject, observed: Observed, plan: ProjectPlan
    ) -> None:
        self.owner = owner
        self.cloud = owner.cloud
        self.desired = desired
        self.observed = observed
        self.plan = plan
        self.gate_waits: dict[str, float] = {}
        self._model_sent: dict[str, bool] = {}
        self._linked_billing = False  # this run linked billing (Service Usage may lag behind)

    def run(self) -> ProjectResult:
        results: list[ChangeResult] = []
        failed = False
        for change in sorted(self.plan.changes, key=lambda c: ACTION_ORDER.index(c.action)):
            if failed:
                results.append(ChangeResult(change=change, outcome="skipped"))
                continue
            self.owner._emit(self.desired.project_id, f"{change.action.value} {change.target}")
            started = self.owner.clock.now()
            try:
                outcome = self.execute(change)
            except (BootstrapError, GateTimeout) as error:
                failure = error.failure
                failed = True
                results.append(
                    ChangeResult(
                        change=change,
                        outcome="failed",
                        failure=failure,
                        duration_s=self.owner.clock.now() - started,
                    )
                )
                continue
            results.append(
                ChangeResult(
                    change=change, outcome=outcome, duration_s=self.owner.clock.now() - started
                )
            )
        final = plan_project(
            self.desired,
            self.observed,
            as_of=self.owner.options.as_of,
            allow_relink=self.owner.options.allow_relink,
            probe=self.owner.options.probe,
        )
        final = _mark_changed(final, results, self.desired)
        final = _with_failures(final, results)
        self.owner._emit(self.desired.project_id, "done")
        return ProjectResult(
            project_id=self.desired.project_id,
            plan=final,
            changes=tuple(results),
            observed=self.observed,
            gate_waits_s=self.gate_waits,
        )

    def execute(self, change: Change) -> str:
        try:
            return self._execute(change)
        except KeyboardInterrupt as interrupt:
            operation = getattr(interrupt, "operation_name", None)
            if operation:
                self.owner.pending_operations.append(
                    f"{operation} ({change.action.value} on {self.desired.project_id})"
                )
            raise

    def _execute(self, change: Change) -> str:
        match change.action:
            case Action.CREATE_PROJECT:
                return self.create_project(change)
            case Action.LINK_BILLING:
                return self.link_billing(change)
            case Action.ENABLE_SERVICES:
                return self.enable_services(change)
            case Action.ENABLE_MODEL:
                return self.enable_model(change)
        raise AssertionError(f"unknown action {change.action}")

    # Each step below updates self.observed with what its gate last read, so the final plan
    # is computed from observations, not from assumptions.

    def create_project(self, change: Change) -> str:
        assert change.parent is not None
        project = self.cloud.create_project(
            project_id=self.desired.project_id,
            parent=change.parent,
            display_name=change.display_name,
            labels=change.labels,
        )
        self.observed = replace(self.observed, project=project)
        self.refresh_after_create()
        return "applied"

    def refresh_after_create(self) -> None:
        """A new project has no billing and no APIs: read them so later steps see the truth."""
        fresh = self.owner.observe(self.desired)
        self.observed = replace(fresh, project=self.observed.project)

    def link_billing(self, change: Change) -> str:
        assert change.billing_account, "refusing to send an empty billing account (would unlink)"
        account = change.billing_account
        self.cloud.link_billing(self.desired.project_id, account)
        self._linked_billing = True
        # Reads lag a link (as on Google): re-read until the link shows, so that what this run
        # reports, and the next run observes, agree.
        billing = self.gate(
            "billing",
            lambda: self.cloud.get_billing(self.desired.project_id),
            lambda b: b.account == account and b.enabled,
            Cause.BILLING_DISABLED,
            f"billing on {self.desired.project_id} did not read as enabled after linking {account}",
        )
        self.observed = replace(self.observed, billing=billing)
        self.reprobe_blocked_models()
        return "applied"

    def enable_services(self, change: Change) -> str:
        project_id = self.desired.project_id
        if self._linked_billing:
            self._enable_after_link(change.services)
        else:
            self.cloud.enable_services(project_id, change.services)
        services = self.gate(
            "services",
            lambda: self.cloud.get_services(project_id, self.desired.services),
            lambda states: all(states.get(s) is ServiceState.ENABLED for s in change.services),
            Cause.SERVICE_DISABLED,
            f"{', '.join(change.services)} did not read as ENABLED on {project_id}",
        )
        self.observed = replace(self.observed, services=services)
        self.reprobe_blocked_models()
        return "applied"

    def _enable_after_link(self, services: tuple[str, ...]) -> None:
        """Enable right after this run linked billing: Service Usage may not see the link yet
        and answer UREQ_PROJECT_BILLING_NOT_FOUND, which is waited out (policy §1.8.4, up to
        5 minutes), re-reading the services before each re-send."""
        project_id = self.desired.project_id
        refused: list[BootstrapError] = []

        def attempt() -> bool:
            pending = services
            if refused:
                states = self.cloud.get_services(project_id, services)
                pending = tuple(s for s in services if states.get(s) is not ServiceState.ENABLED)
                if not pending:
                    return True
            try:
                self.cloud.enable_services(project_id, pending)
            except BootstrapError as error:
                if error.failure.cause is not Cause.BILLING_REQUIRED_TO_ENABLE:
                    raise
                refused.append(error)
                self.cloud.stats.add_retry()
                return False
            return True

        enabled = wait_until(
            attempt,
            bool,
            clock=self.owner.clock,
            deadline_s=BILLING_PROPAGATION_S,
            cause=Cause.BILLING_REQUIRED_TO_ENABLE,
            message="",
            raise_on_timeout=False,
        )
        if not enabled:
            raise refused[-1]

    def enable_model(self, change: Change) -> str:
        assert change.publisher_model is not None
        mine = [m for m in self.observed.models if m.publisher_model == change.publisher_model]
        if mine and all(m.access is ModelAccess.ENABLED for m in mine):
            return "skipped"  # the re-probe after the APIs came up found it already enabled
        self.gate(
            "model-enable",
            lambda: self._try_enable_model(change.publisher_model or ""),
            lambda enabled: enabled,
            Cause.SERVICE_DISABLED,
            f"enableModel for {change.publisher_model} kept failing on {self.desired.project_id}",
        )
        self.reprobe(change.publisher_model, until_enabled=True)
        return "applied"

    def _try_enable_model(self, publisher_model: str) -> bool:
        """enableModel, unless a probe shows an earlier attempt already took effect.

        SERVICE_DISABLED right after enabling the APIs means "not yet"; a lost answer means
        "maybe": both make the gate try again, and every retry re-reads (probes) before it
        sends enableModel again.
        """
        mine = [m for m in self.observed.models if m.publisher_model == publisher_model]
        blocked = any(m.access is ModelAccess.BLOCKED for m in mine)
        if self._model_sent.get(publisher_model) or (blocked and self.owner.options.probe):
            # A blocked probe could not tell whether the model was already enabled.
            self.reprobe(publisher_model, until_enabled=False)
            mine = [m for m in self.observed.models if m.publisher_model == publisher_model]
            if mine and all(m.access is ModelAccess.ENABLED for m in mine):
                return True
        self._model_sent[publisher_model] = True
        try:
            self.cloud.enable_model(self.desired.project_id, publisher_model)
        except BootstrapError as error:
            failure = error.failure
            if failure.reason == ANSWER_LOST or failure.cause in (
                Cause.SERVICE_DISABLED,
                Cause.BILLING_DISABLED,
            ):
                self.cloud.stats.add_retry()
                return False
            raise
        return True

    # ---------------------------------------------------------------- gates

    def reprobe_blocked_models(self) -> None:
        """After billing or APIs change, models that were blocked are probed until they say more."""
        if not self.owner.options.probe:
            return
        blocked = any(m.access is ModelAccess.BLOCKED for m in self.observed.models)
        if blocked and self.prerequisites_met():
            self.reprobe(None, until_enabled=False)

    def prerequisites_met(self) -> bool:
        billing = self.observed.billing
        services = self.observed.services or {}
        return bool(billing and billing.enabled) and all(
            services.get(s) is ServiceState.ENABLED for s in self.desired.services
        )

    def reprobe(self, publisher_model: str | None, *, until_enabled: bool) -> None:
        """Probe the project's models again until none is blocked (or all are enabled)."""
        targets = [
            m
            for m in self.observed.models
            if publisher_model is None or m.publisher_model == publisher_model
        ]
        by_key = {(m.publisher_model, m.location): m for m in self.observed.models}
        for model in targets:
            maybe_wanted = self._desired_model(model.publisher_model)
            if maybe_wanted is None:
                continue
            wanted: DesiredModel = maybe_wanted

            def done(observed: ObservedModel) -> bool:
                if until_enabled:
                    return observed.access is ModelAccess.ENABLED
                return observed.access is not ModelAccess.BLOCKED

            def probe(
                wanted: DesiredModel = wanted, location: str = model.location
            ) -> ObservedModel:
                return self.owner.observe_model(self.desired, wanted, location)

            latest = self.gate(
                f"model:{model.alias}@{model.location}",
                probe,
                done,
                Cause.SERVICE_DISABLED,
                f"{model.alias} in {model.location} still answers as not ready on "
                f"{self.desired.project_id}",
                raise_on_timeout=False,
            )
            by_key[(model.publisher_model, model.location)] = latest
        self.observed = replace(self.observed, models=tuple(by_key.values()))

    def _desired_model(self, publisher_model: str) -> DesiredModel | None:
        return next((m for m in self.desired.models if m.publisher_model == publisher_model), None)

    def gate(
        self,
        name: str,
        read: Callable[[], T],
        ready: Callable[[T], bool],
        cause: Cause,
        message: str,
        *,
        raise_on_timeout: bool = True,
    ) -> T:
        started = self.owner.clock.now()
        try:
            return wait_until(
                read,
                ready,
                clock=self.owner.clock,
                deadline_s=self.owner.options.gate_deadline_s,
                cause=cause,
                message=message,
                raise_on_timeout=raise_on_timeout,
            )
        finally:
            waited = self.owner.clock.now() - started
            self.gate_waits[name] = self.gate_waits.get(name, 0.0) + waited


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


_CHECK_FOR_ACTION = {
    Action.CREATE_PROJECT: "project",
    Action.LINK_BILLING: "billing",
    Action.ENABLE_SERVICES: "services",
}


def _mark_changed(
    plan: ProjectPlan, results: Iterable[ChangeResult], desired: DesiredProject
) -> ProjectPlan:
    """Checks that are ok now because this run changed them say `changed`."""
    applied = [r.change for r in results if r.outcome == "applied"]
    names = {_CHECK_FOR_ACTION[c.action] for c in applied if c.action in _CHECK_FOR_ACTION}
    enabled = {c.publisher_model for c in applied if c.action is Action.ENABLE_MODEL}
    for model in desired.models:
        if model.publisher_model in enabled:
            names.update(f"model:{model.alias}@{location}" for location in model.locations)
    checks = tuple(
        replace(check, status=CheckStatus.CHANGED)
        if check.status is CheckStatus.OK and check.name in names
        else check
        for check in plan.checks
    )
    return replace(plan, checks=checks)


def _with_failures(plan: ProjectPlan, results: Iterable[ChangeResult]) -> ProjectPlan:
    """A failed change becomes a failed check named after the step it belongs to."""
    extra = []
    for result in results:
        if result.failure is None:
            continue
        failure = result.failure
        name = _CHECK_FOR_ACTION.get(result.change.action, f"change:{result.change.action.value}")
        extra.append(
            Check(
                name=name,
                status=CheckStatus.FAILED,
                cause=failure.cause,
                remedy=failure.remedy,
                detail=failure.message,
            )
        )
    if not extra:
        return plan
    failed_names = {c.name for c in extra}
    kept = tuple(c for c in plan.checks if c.name not in failed_names)
    return replace(plan, checks=kept + tuple(extra))
