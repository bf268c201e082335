"""Operation polling with a fake poll function on a virtual clock."""

from __future__ import annotations

import itertools

import pytest

from bootstrap.clock import VirtualClock
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.operations import OperationInterrupted, OpState, poll_delays, wait_operation

NAME = "operations/acat.p2-1-abc"
PENDING = OpState(name=NAME, done=False)
DONE = OpState(name=NAME, done=True, has_response=True)


def after(polls: int, final: OpState = DONE) -> tuple[list[str], object]:
    seen: list[str] = []

    def poll(name: str) -> OpState:
        seen.append(name)
        return final if len(seen) >= polls else PENDING

    return seen, poll


def test_schedule_is_2_x1_5_capped_at_20() -> None:
    delays = list(itertools.islice(poll_delays(), 9))
    assert delays == [2, 3, 4.5, 6.75, 10.125, 15.1875, 20, 20, 20]


def test_polls_follow_the_schedule_until_done() -> None:
    clock = VirtualClock()
    seen, poll = after(5)
    waited = wait_operation(PENDING, poll, clock=clock)  # type: ignore[arg-type]
    assert waited.polls == 5 and seen == [NAME] * 5
    assert clock.slept == [2, 3, 4.5, 6.75, 10.125]
    assert waited.duration_s == pytest.approx(26.375)


def test_an_operation_returned_done_is_never_polled() -> None:
    clock = VirtualClock()
    seen, poll = after(1)
    first = OpState(name="operations/noop.DONE_OPERATION", done=True, has_response=True)
    waited = wait_operation(first, poll, clock=clock)  # type: ignore[arg-type]
    assert waited.polls == 0 and seen == [] and clock.slept == []


def test_done_with_error_is_operation_failed_with_its_text() -> None:
    failed = OpState(name=NAME, done=True, error_code=9, error_message="billing account closed")
    _, poll = after(1, failed)
    with pytest.raises(BootstrapError) as info:
        wait_operation(PENDING, poll, clock=VirtualClock())  # type: ignore[arg-type]
    assert info.value.failure.cause is Cause.OPERATION_FAILED
    assert "billing account closed" in info.value.failure.message


def test_done_with_neither_is_an_unexpected_state() -> None:
    _, poll = after(1, OpState(name=NAME, done=True))
    with pytest.raises(BootstrapError) as info:
        wait_operation(PENDING, poll, clock=VirtualClock())  # type: ignore[arg-type]
    assert info.value.failure.cause is Cause.OPERATION_FAILED
    assert "unexpected LRO state" in info.value.failure.message


def test_deadline_names_the_pending_operation() -> None:
    clock = VirtualClock()
    _, poll = after(10_000)
    with pytest.raises(BootstrapError) as info:
        wait_operation(PENDING, poll, clock=clock, deadline_s=600)  # type: ignore[arg-type]
    failure = info.value.failure
    assert failure.cause is Cause.OPERATION_TIMEOUT
    assert f"still pending: {NAME}" in failure.message and "rerun to resume" in failure.message
    assert clock.now() == pytest.approx(600)


def test_ctrl_c_names_the_operation() -> None:
    def poll(name: str) -> OpState:
        raise KeyboardInterrupt

    with pytest.raises(OperationInterrupted) as info:
        wait_operation(PENDING, poll, clock=VirtualClock())
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.operation_name == NAME
