"""Waiting out IAM propagation for a workload identity this run granted its role.

"Changes to allow policies typically propagate in 2 minutes, but could potentially take 7
minutes or longer" (IAM access-change propagation). A stream run as a member that apply has
just granted may therefore be refused (403 PERMISSION_DENIED) for a while although the grant
is right. Such streams are retried, bounded (IAM_PROPAGATION_S in all, waits doubling from
FIRST_WAIT_S); one still refused at the end is `propagating`, not failed: the grant landed and
a later `bootstrap smoke` will prove it. A refusal of a member not granted in this run is what
it says and is never retried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bootstrap.checks import Check, CheckStatus, smoke_check
from bootstrap.errors import Cause
from bootstrap.smoke.case import SmokeCase

IAM_PROPAGATION_S = 420.0
FIRST_WAIT_S = 15.0

Stream = Callable[[Sequence[SmokeCase]], list[list[Check]]]
# Told before each wait (`waited_s` None) and after it (its length), with the cases it is for,
# so a live view or a log can say why the smoke phase is quiet.
OnWait = Callable[[Sequence[SmokeCase], float | None], None]


def wait_out_grants(
    work: Sequence[SmokeCase],
    results: list[list[Check]],
    stream: Stream,
    *,
    granted_now: Callable[[str, str], bool],
    sleep: Callable[[float], None],
    on_wait: OnWait | None = None,
) -> list[list[Check]]:
    """`results` (each case's checks), with the refused streams of just-granted members run
    again until they pass or the bound is spent (then marked propagating)."""
    results = list(results)
    waited, wait = 0.0, FIRST_WAIT_S
    while denied := [i for i, case in enumerate(work) if _refused(case, results[i], granted_now)]:
        if waited >= IAM_PROPAGATION_S:
            for i in denied:
                results[i] = [_propagating(work[i], c, waited) for c in results[i]]
            break
        step = min(wait, IAM_PROPAGATION_S - waited)
        waiting = [work[i] for i in denied]
        if on_wait:
            on_wait(waiting, None)
        sleep(step)
        if on_wait:
            on_wait(waiting, step)
        waited, wait = waited + step, wait * 2
        for i, checks in zip(denied, stream([work[i] for i in denied]), strict=True):
            results[i] = checks
    return results


def _refused(case: SmokeCase, checks: list[Check], granted_now: Callable[[str, str], bool]) -> bool:
    if case.run_as is None or not granted_now(case.project_id, case.run_as):
        return False
    main = smoke_check(case.key)
    return any(c.name == main and c.cause is Cause.PERMISSION_DENIED for c in checks)


def _propagating(case: SmokeCase, check: Check, waited: float) -> Check:
    if check.name != smoke_check(case.key) or check.cause is not Cause.PERMISSION_DENIED:
        return check
    return replace(
        check,
        status=CheckStatus.PROPAGATING,
        detail=f"Project {case.project_id}: {case.run_as} was granted its role in this run and "
        f"is still refused after {waited:.0f} s; IAM changes can take 7 minutes or more to "
        "reach the model.",
        remedy="re-run `bootstrap smoke` with the same manifest in a few minutes",
    )
