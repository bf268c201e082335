"""Apply: the only code that writes to the cloud. It executes exactly one project's planned changes.

Changes run in dependency order (project -> billing -> APIs -> model -> grants). After each one a readiness
gate re-reads until the change is visible instead of sleeping a fixed time; every re-send of a
change is preceded by a re-read. The project's final status is the planner's verdict on what
the gates observed last, so a report never claims more than was seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TypeVar

from bootstrap.checks import Check, CheckStatus, access_check, depends_on, model_check
from bootstrap.clock import Clock
from bootstrap.cloud.observed import ModelAccess, Observed, ObservedModel, ServiceState
from bootstrap.errors import ANSWER_LOST, BootstrapError, Cause, Disposition, Failure
from bootstrap.manifest.desired import DesiredModel, DesiredProject
from bootstrap.plan.model import (
    ACTION_ORDER,
    CHECK_FOR_ACTION,
    Action,
    Change,
    ChangeOutcome,
    ProjectPlan,
)
from bootstrap.reconcile.events import Finished, Started, Wait, told_wait
from bootstrap.reconcile.gates import GateTimeout, wait_until
from bootstrap.reconcile.observer import Observer
from bootstrap.reconcile.options import RunOptions, plan_with
from bootstrap.reconcile.results import ChangeResult, EventSink, ProjectResult

T = TypeVar("T")

# How long an enable may still be refused for missing billing after this run linked it.
BILLING_PROPAGATION_S = 300.0


class ProjectApply:
    """Executes one project's plan in dependency order, with a readiness gate after each step."""

    def __init__(
        self,
        desired: DesiredProject,
        observed: Observed,
        plan: ProjectPlan,
        *,
        observer: Observer,
        clock: Clock,
        options: RunOptions,
        emit: EventSink,
        pending_operations: list[str],
    ) -> None:
        self.observer = observer
        self.cloud = observer.cloud
        self.clock = clock
        self.options = options
        self.emit = emit
        # Shared with the run: operations an interrupt left running, for the "rerun" message.
        self.pending_operations = pending_operations
        self.desired = desired
        self.observed = observed
        self.plan = plan
        self.gate_waits: dict[str, float] = {}
        self._model_sent: dict[str, bool] = {}
        self._linked_billing = False  # this run linked billing (Service Usage may lag behind)

    def run(self) -> ProjectResult:
        results: list[ChangeResult] = []
        for change in sorted(self.plan.changes, key=lambda c: ACTION_ORDER.index(c.action)):
            if any(r.outcome is ChangeOutcome.FAILED for r in results):
                results.append(ChangeResult(change=change, outcome=ChangeOutcome.SKIPPED))
                continue
            results.append(self._timed(change))
        final = plan_with(self.options, self.desired, self.observed)
        final = _mark_changed(final, results, self.desired)
        final = _with_failures(final, results)
        self.emit(self.desired.project_id, Finished(applied=True))
        return ProjectResult(
            project_id=self.desired.project_id,
            plan=final,
            changes=tuple(results),
            observed=self.observed,
            gate_waits_s=self.gate_waits,
        )

    def _timed(self, change: Change) -> ChangeResult:
        """Execute one change; a failure becomes its result, never an exception."""
        self.emit(self.desired.project_id, _started(change))
        started = self.clock.now()
        try:
            outcome = self.execute(change)
        except (BootstrapError, GateTimeout) as error:
            return ChangeResult(
                change=change,
                outcome=ChangeOutcome.FAILED,
                failure=error.failure,
                duration_s=self.clock.now() - started,
            )
        return ChangeResult(change=change, outcome=outcome, duration_s=self.clock.now() - started)

    def execute(self, change: Change) -> ChangeOutcome:
        try:
            return self._execute(change)
        except KeyboardInterrupt as interrupt:
            operation = getattr(interrupt, "operation_name", None)
            if operation:
                self.pending_operations.append(
                    f"{operation} ({change.action.value} on {self.desired.project_id})"
                )
            raise

    def _execute(self, change: Change) -> ChangeOutcome:
        match change.action:
            case Action.CREATE_PROJECT:
                return self.create_project(change)
            case Action.LINK_BILLING:
                return self.link_billing(change)
            case Action.ENABLE_SERVICES:
                return self.enable_services(change)
            case Action.ENABLE_MODEL:
                return self.enable_model(change)
            case Action.GRANT_ROLE:
                return self.grant_role(change)
        raise AssertionError(f"unknown action {change.action}")

    # Each step below updates self.observed with what its gate last read, so the final plan
    # is computed from observations, not from assumptions.

    def create_project(self, change: Change) -> ChangeOutcome:
        assert change.parent is not None
        with self.waiting(Wait.OPERATION, "create"):
            project = self.cloud.create_project(
                project_id=self.desired.project_id,
                parent=change.parent,
                display_name=change.display_name,
                labels=change.labels,
            )
        self.observed = replace(self.observed, project=project)
        self.refresh_after_create()
        return ChangeOutcome.APPLIED

    def refresh_after_create(self) -> None:
        """A new project has no billing and no APIs: read them so later steps see the truth."""
        fresh = self.observer.observe(self.desired)
        self.observed = replace(fresh, project=self.observed.project)

    def link_billing(self, change: Change) -> ChangeOutcome:
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
        return ChangeOutcome.APPLIED

    def enable_services(self, change: Change) -> ChangeOutcome:
        project_id = self.desired.project_id
        if self._linked_billing:
            self._enable_after_link(change.services)
        else:
            with self.waiting(Wait.OPERATION, "enable"):
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
        return ChangeOutcome.APPLIED

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
                with self.waiting(Wait.OPERATION, "enable"):
                    self.cloud.enable_services(project_id, pending)
            except BootstrapError as error:
                if error.failure.cause is not Cause.BILLING_REQUIRED_TO_ENABLE:
                    raise
                refused.append(error)
                self.cloud.stats.add_retry()
                return False
            return True

        with self.waiting(Wait.BILLING_LINK, "enable", at_once=False) as announce:
            enabled = wait_until(
                attempt,
                bool,
                clock=self.clock,
                deadline_s=BILLING_PROPAGATION_S,
                cause=Cause.BILLING_REQUIRED_TO_ENABLE,
                message="",
                raise_on_timeout=False,
                on_wait=announce,
            )
        if not enabled:
            raise refused[-1]

    def enable_model(self, change: Change) -> ChangeOutcome:
        assert change.publisher_model is not None
        mine = [m for m in self.observed.models if m.publisher_model == change.publisher_model]
        if mine and all(m.access is ModelAccess.ENABLED for m in mine):
            return (
                ChangeOutcome.SKIPPED
            )  # the re-probe after the APIs came up found it already enabled
        self.gate(
            "model-enable",
            lambda: self._try_enable_model(change.publisher_model or ""),
            lambda enabled: enabled,
            Cause.SERVICE_DISABLED,
            f"enableModel for {change.publisher_model} kept failing on {self.desired.project_id}",
        )
        self.reprobe(change.publisher_model, until_enabled=True)
        return ChangeOutcome.APPLIED

    def grant_role(self, change: Change) -> ChangeOutcome:
        """Add the member to the role's unconditional binding (additive; see Cloud.grant_role)."""
        assert change.member and change.role, "a grant names its member and role"
        policy = self.cloud.grant_role(self.desired.project_id, change.member, change.role)
        self.observed = replace(self.observed, iam_policy=policy)
        return ChangeOutcome.APPLIED

    def _try_enable_model(self, publisher_model: str) -> bool:
        """enableModel, unless a probe shows an earlier attempt already took effect.

        SERVICE_DISABLED right after enabling the APIs means "not yet"; a lost answer means
        "maybe": both make the gate try again, and every retry re-reads (probes) before it
        sends enableModel again.
        """
        mine = [m for m in self.observed.models if m.publisher_model == publisher_model]
        blocked = any(m.access is ModelAccess.BLOCKED for m in mine)
        if self._model_sent.get(publisher_model) or (blocked and self.options.probe):
            # A blocked probe could not tell whether the model was already enabled.
            self.reprobe(publisher_model, until_enabled=False)
            mine = [m for m in self.observed.models if m.publisher_model == publisher_model]
            if mine and all(m.access is ModelAccess.ENABLED for m in mine):
                return True
        self._model_sent[publisher_model] = True
        try:
            state = self.cloud.enable_model(self.desired.project_id, publisher_model)
        except BootstrapError as error:
            failure = error.failure
            if failure.reason == ANSWER_LOST or failure.cause in (
                Cause.SERVICE_DISABLED,
                Cause.BILLING_DISABLED,
            ):
                self.cloud.stats.add_retry()
                return False
            raise
        if state == "ENABLEMENT_STATE_FAILED":  # a Cloud that returns it instead of raising
            raise BootstrapError(self._enablement_failed(publisher_model))
        return True

    def _enablement_failed(self, publisher_model: str) -> Failure:
        pid = self.desired.project_id
        return Failure(
            cause=Cause.MODEL_ENABLEMENT_FAILED,
            message=f"Project {pid}: enableModel for {publisher_model} answered "
            "ENABLEMENT_STATE_FAILED: a prerequisite is unmet.",
            remedy=f"Check billing and the Vertex AI and Consumer Procurement APIs on {pid}, "
            "then enable the model in Model Garden.",
            disposition=Disposition.HUMAN_ACTION,
        )

    # ---------------------------------------------------------------- gates

    def reprobe_blocked_models(self) -> None:
        """After billing or APIs change, models that were blocked are probed until they say more."""
        if not self.options.probe:
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
                return self.observer.observe_model(self.desired, wanted, location)

            latest = self.gate(
                model_check(model.alias, model.location),
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
        started = self.clock.now()
        try:
            with self.waiting(Wait.PROPAGATION, name, at_once=False) as announce:
                return wait_until(
                    read,
                    ready,
                    clock=self.clock,
                    deadline_s=self.options.gate_deadline_s,
                    cause=cause,
                    message=message,
                    raise_on_timeout=raise_on_timeout,
                    on_wait=announce,
                )
        finally:
            waited = self.clock.now() - started
            self.gate_waits[name] = self.gate_waits.get(name, 0.0) + waited

    # ---------------------------------------------------------------- wait events

    def waiting(
        self, wait: Wait, subject: str, *, at_once: bool = True
    ) -> AbstractContextManager[Callable[[], None]]:
        """This project's wait, told to the event sink (bootstrap.reconcile.events.told_wait)."""
        return told_wait(
            self.emit, self.desired.project_id, wait, subject, clock=self.clock, at_once=at_once
        )


def _started(change: Change) -> Started:
    """The event of a change starting: its action, how many APIs, and its model or role."""
    target = change.publisher_model or change.role or ""
    return Started(action=change.action, count=len(change.services) or 1, target=target)


def _mark_changed(
    plan: ProjectPlan, results: Iterable[ChangeResult], desired: DesiredProject
) -> ProjectPlan:
    """Checks that are ok now because this run changed them say `changed`."""
    applied = [r.change for r in results if r.outcome is ChangeOutcome.APPLIED]
    names = {CHECK_FOR_ACTION[c.action] for c in applied if c.action in CHECK_FOR_ACTION}
    enabled = {c.publisher_model for c in applied if c.action is Action.ENABLE_MODEL}
    names.update(access_check(c.member or "") for c in applied if c.action is Action.GRANT_ROLE)
    for model in desired.models:
        if model.publisher_model in enabled:
            names.update(model_check(model.alias, location) for location in model.locations)
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
        name = _check_name(result.change)
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
    # What was still pending was not sent after the failure: it waits on the failed step.
    kept = tuple(
        replace(c, status=CheckStatus.NOT_RUN, detail=depends_on(extra[0].name, CheckStatus.FAILED))
        if c.status is CheckStatus.PENDING
        else c
        for c in plan.checks
        if c.name not in failed_names
    )
    return replace(plan, checks=kept + tuple(extra))


def _check_name(change: Change) -> str:
    """The check a failed change is reported under."""
    if change.action is Action.GRANT_ROLE and change.member:
        return access_check(change.member)
    return CHECK_FOR_ACTION.get(change.action, f"change:{change.action.value}")
