"""Observe -> plan -> apply across many projects, with bounded concurrency and no local state.

Each project is observed afresh by the `Observer` (reads only), planned by the pure planner,
checked by the permission preflight when it has changes, and, in apply mode, handed to
`bootstrap.reconcile.apply` (the only code that writes). A failure in one project never stops
the others.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, replace
from typing import TypeVar

from bootstrap.cancel import Interrupted
from bootstrap.checks import PROJECT, Check, CheckStatus
from bootstrap.clock import Clock, is_virtual, wait_result, worker, worker_pool
from bootstrap.cloud.inventory import Inventory
from bootstrap.cloud.observed import Observed
from bootstrap.cloud.priority import REQUEST_PRIORITY
from bootstrap.cloud.protocol import Cloud, StatCounts
from bootstrap.errors import BootstrapError, Cause, Failure
from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.model import ChangeOutcome, ProjectPlan
from bootstrap.plan.preflight import apply_preflight
from bootstrap.reconcile.apply import ProjectApply
from bootstrap.reconcile.events import Finished, Observing, Wait, told_wait
from bootstrap.reconcile.gates import wait_until
from bootstrap.reconcile.inventory import needs_direct_read
from bootstrap.reconcile.observer import Observer
from bootstrap.reconcile.options import RunOptions, plan_with
from bootstrap.reconcile.processes import (
    Deliver,
    ForkUnsafe,
    WorkerInterrupted,
    run_split,
    worker_processes,
)
from bootstrap.reconcile.results import ChangeResult, EventSink, ProjectResult

X = TypeVar("X")

# Projects worked on at once; their requests still go through `concurrency` HTTP slots.
PROJECT_THREADS = 256

# How long an interrupted run waits for its workers to notice before giving up on them.
INTERRUPT_GRACE_S = 3.0


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
        inventory: Inventory | None = None,
    ) -> None:
        self.options = options
        self.clock = clock
        self.observer = Observer(
            cloud,
            probe=options.probe,
            concurrency=options.concurrency,
            clock=clock,
            org_policy=options.org_policy,
            quota=options.quota,
            inventory=inventory,
        )
        self._emit = on_event or (lambda _project, _message: None)
        self.cancel = cancel or threading.Event()
        # Operations left running by an interrupted apply, for the "rerun to resume" message.
        self.pending_operations: list[str] = []
        self.processes = 1  # how many processes the last run was split over

    def close(self) -> None:
        self.observer.close()

    def run(self, projects: Sequence[DesiredProject]) -> list[ProjectResult]:
        """Reconcile every project; results come back in the input order. A large read-only
        run is split over worker processes (bootstrap.reconcile.processes).

        Ctrl-C (KeyboardInterrupt in this thread) sets `cancel`; workers stop at their next
        wait (the clock must be a CancellableClock on this event) and `Interrupted` names the
        operations still running.
        """
        read_only = not self.options.apply
        processes = worker_processes(self.options.processes, len(projects), read_only=read_only)
        if processes > 1 and not is_virtual(self.clock):
            with contextlib.suppress(ForkUnsafe):  # a thread is alive: stay in this process
                return self._run_split(projects, processes)
        return self._run_here(projects)

    def _run_split(self, projects: Sequence[DesiredProject], processes: int) -> list[ProjectResult]:
        """`run` over `processes` forked workers, worker K taking projects K, K+N, ...: each sends
        a project's result as soon as it is done, and at its end what it counted (requests,
        projects judged from the inventory), which is added here."""
        cloud = self.observer.cloud
        self.observer.read_run_wide(projects)

        def work(
            part: Sequence[DesiredProject], emit: EventSink, deliver: Deliver[ProjectResult]
        ) -> _Part:
            cloud.divide(processes)
            cloud.stats.take()  # the parent's counts stay the parent's
            self._emit = emit

            def delivered(index: int, project: DesiredProject) -> None:
                # Sent, not kept: the parent holds the results, so a worker need not as well.
                deliver(index, self._reconcile_in_order(index, project))

            self._in_threads(part, delivered)
            return _Part(self.observer.inventory_judged(), cloud.stats.take())

        try:
            results, parts = run_split(projects, processes, work, on_event=self._emit)
        except (KeyboardInterrupt, WorkerInterrupted):
            self.cancel.set()
            raise Interrupted(()) from None  # read only: nothing was left running
        self.processes = processes
        for part in parts:
            self.observer.add_judged(part.judged)
            cloud.stats.add(part.stats)
        return results

    def _run_here(self, projects: Sequence[DesiredProject]) -> list[ProjectResult]:
        """`run` in this process, a thread per project."""
        return self._in_threads(projects, self._reconcile_in_order)

    def _in_threads(
        self, projects: Sequence[DesiredProject], task: Callable[[int, DesiredProject], X]
    ) -> list[X]:
        """`task(index, project)` for every project, a thread each; the values in order."""
        # A project thread spends most of an apply asleep (operation polls, readiness gates)
        # holding no HTTP slot, so it is the slots, not this pool, that bound the requests in
        # flight; a pool of 2 x concurrency would serialise the waits of large applies.
        workers = max(1, min(len(projects), max(self.options.concurrency * 2, PROJECT_THREADS)))
        # On a fast-forward clock the project threads are its workers: time skips only when
        # every one of them waits (bootstrap.clock.FastForwardClock).
        pool = worker_pool(self.clock, workers, thread_name_prefix=PROJECT)
        futures: list[Future[X]] = []
        try:
            # Counted while it hands out the projects, so that time cannot skip before the last one.
            with worker(self.clock):
                futures.extend(
                    pool.submit(task, index, project) for index, project in enumerate(projects)
                )
                results = [wait_result(self.clock, future) for future in futures]
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

    def reconcile_project(self, desired: DesiredProject) -> ProjectResult:
        started = self.clock.now()
        self._emit(desired.project_id, Observing())
        try:
            result = self._reconcile(desired)
        except BootstrapError as error:
            result = _failed_result(desired.project_id, error.failure)
        return replace(result, duration_s=self.clock.now() - started)

    def _reconcile(self, desired: DesiredProject) -> ProjectResult:
        observed, plan = self._observe_and_plan(desired)
        if plan.changes and self.options.preflight:
            plan = apply_preflight(plan, self.observer.preflight(plan, desired))
        if self.options.apply and plan.changes:
            return ProjectApply(
                desired,
                observed,
                plan,
                observer=self.observer,
                clock=self.clock,
                options=self.options,
                emit=self._emit,
                pending_operations=self.pending_operations,
            ).run()
        self._emit(desired.project_id, Finished(planned=len(plan.changes)))
        return ProjectResult(
            project_id=desired.project_id,
            plan=plan,
            changes=tuple(
                ChangeResult(change=c, outcome=ChangeOutcome.PLANNED) for c in plan.changes
            ),
            observed=observed,
        )

    def _observe_and_plan(self, desired: DesiredProject) -> tuple[Observed, ProjectPlan]:
        """Observe and plan; while something is propagating, with --wait-ready or in apply,
        observe and plan again until it settles (bounded)."""

        def read() -> tuple[Observed, ProjectPlan]:
            observed = self.observer.observe(desired)
            plan = plan_with(self.options, desired, observed)
            if self.observer.judged_from_inventory(desired.project_id) and needs_direct_read(plan):
                # Inventory data may lag: no finding is reported from it without a direct read.
                observed = self.observer.reread_direct(desired, observed)
                plan = plan_with(self.options, desired, observed)
            return observed, plan

        def settled(value: tuple[Observed, ProjectPlan]) -> bool:
            return not any(c.status is CheckStatus.PROPAGATING for c in value[1].checks)

        # apply waits for a change an earlier run made, as it waits for its own (readiness gates).
        deadline_s = self.options.wait_ready_s or (
            self.options.gate_deadline_s if self.options.apply else 0.0
        )
        if deadline_s <= 0:
            return read()
        # Told as a propagation wait of the whole project (the subject "project state").
        told = told_wait(
            self._emit,
            desired.project_id,
            Wait.PROPAGATION,
            "project state",
            clock=self.clock,
            at_once=False,
        )
        with told as announce:
            return wait_until(
                read,
                settled,
                clock=self.clock,
                deadline_s=deadline_s,
                cause=Cause.SERVICE_DISABLED,
                message="",
                raise_on_timeout=False,
                on_wait=announce,
            )


@dataclass(frozen=True, slots=True)
class _Part:
    """What a worker process sends back at its end (its results went as each was done)."""

    judged: frozenset[str]
    stats: StatCounts


def _failed_result(project_id: str, failure: Failure) -> ProjectResult:
    check = Check(
        name=PROJECT,
        status=CheckStatus.FAILED,
        cause=failure.cause,
        remedy=failure.remedy,
        detail=failure.message,
    )
    return ProjectResult(
        project_id=project_id, plan=ProjectPlan(project_id=project_id, checks=(check,))
    )
