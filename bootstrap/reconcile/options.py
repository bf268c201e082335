"""What a reconcile run is asked to do (the date, whether to write, its limits), and the plan
those options ask the planner for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bootstrap.cloud.observed import Observed
from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.model import ProjectPlan
from bootstrap.plan.planner import plan_project


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    as_of: dt.date
    apply: bool = False
    allow_relink: bool = False
    probe: bool = True
    org_policy: bool = True  # False (audit --skip policy): effective org policies not read
    quota: bool = True  # False (audit --skip quota): the models' quotas not read
    preflight: bool = True
    concurrency: int = 16
    gate_deadline_s: float = 600.0
    findings: bool = False  # audit: pending checks are worded as findings
    wait_ready_s: float = 0.0  # wait this long for propagating changes before judging
    processes: int | None = 1  # read-only runs: worker processes, None for auto (processes.py)


def plan_with(options: RunOptions, desired: DesiredProject, observed: Observed) -> ProjectPlan:
    return plan_project(
        desired,
        observed,
        as_of=options.as_of,
        allow_relink=options.allow_relink,
        probe=options.probe,
        findings=options.findings,
    )
