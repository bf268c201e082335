"""The live view's words, columns and ETA, and the log's choice of lines, fed event values
directly (the piped apply against the emulator is tests/cli/test_cli_progress_log.py)."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from bootstrap.cli import progress as progress_module
from bootstrap.cli.progress import WAIT_LOG_AT_LEAST_S, RetryRelay, progress
from bootstrap.cli.progress_words import eta_s, retry_label, step_label, wait_label
from bootstrap.gcp.retry import RetryEvent, RetryEventKind
from bootstrap.plan.model import Action
from bootstrap.reconcile.events import (
    Finished,
    Observing,
    SmokeProgress,
    Started,
    Wait,
    Waited,
    Waiting,
)


def test_steps_and_waits_read_as_words_not_action_ids() -> None:
    assert step_label(Started(action=Action.LINK_BILLING)) == "linking billing"
    assert step_label(Started(action=Action.ENABLE_SERVICES, count=2)) == "enabling 2 APIs"
    assert step_label(Started(action=Action.ENABLE_SERVICES, count=1)) == "enabling 1 API"
    model = Started(action=Action.ENABLE_MODEL, target="publishers/openai/models/gpt-oss-120b-maas")
    assert step_label(model) == "enabling gpt-oss-120b-maas"
    operation = Waiting(wait=Wait.OPERATION, subject="enable")
    assert wait_label(operation) == "waiting for the enable operation"
    propagation = Waiting(wait=Wait.PROPAGATION, subject="services")
    assert wait_label(propagation, 12.2) == "waiting for propagation (12 s)"
    backoff = RetryEvent(kind=RetryEventKind.BACKOFF, attempts=1, delay_s=4, rate_limited=True)
    assert retry_label(backoff) == "rate limited, retrying in 4.0 s"
    unavailable = RetryEvent(
        kind=RetryEventKind.BACKOFF, attempts=1, delay_s=2, error="ServiceUnavailable (HTTP 503)"
    )
    assert retry_label(unavailable) == "HTTP 503, retrying in 2.0 s"
    throttle = RetryEvent(kind=RetryEventKind.RATE_LIMIT_WAIT, attempts=0, delay_s=3)
    assert retry_label(throttle) == "throttled by --rate-limit for 3.0 s"


def test_the_eta_comes_from_finished_projects_and_keeps_moving() -> None:
    assert eta_s([], [1.0, 2.0], 5) is None  # nothing finished: nothing to estimate from
    # Two finished in 10 s each; one running for 4 s; two queued behind it, one at a time.
    assert eta_s([10.0, 10.0], [4.0], 2) == pytest.approx(6.0 + 20.0)
    # A second later the estimate is a second shorter (it does not sit at one value).
    assert eta_s([10.0, 10.0], [5.0], 2) == pytest.approx(25.0)
    # Four running and four queued: the queued ones take one more round.
    assert eta_s([8.0], [2.0, 2.0, 2.0, 2.0], 4) == pytest.approx(6.0 + 8.0)
    # Past the mean, the longest duration seen bounds it; past that, no estimate (not 0:00:00).
    assert eta_s([5.0, 20.0], [15.0], 0) == pytest.approx(5.0)
    assert eta_s([10.0], [15.0], 0) is None


def _render(view: progress_module._LiveView, width: int = 120) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(view.render())
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def test_the_live_view_aligns_columns_and_shows_waits_retries_eta_and_smoke() -> None:
    ids = ["p-a", "a-much-longer-project-id", "p-c"]
    view = progress_module._LiveView(ids, "apply")
    view.project_event("p-a", Observing())
    view.project_event("p-a", Started(action=Action.LINK_BILLING))
    view.project_event("a-much-longer-project-id", Observing())
    view.project_event("a-much-longer-project-id", Started(action=Action.ENABLE_SERVICES, count=2))
    view.project_event("a-much-longer-project-id", Waiting(wait=Wait.OPERATION, subject="enable"))
    view.project_event("p-c", Observing())
    view.project_event("p-c", Started(action=Action.ENABLE_MODEL, target="m/gpt-oss-120b-maas"))
    view.retry(
        RetryEvent(
            kind=RetryEventKind.BACKOFF,
            attempts=1,
            delay_s=4,
            rate_limited=True,
            project_id="p-c",
        )
    )
    text = _render(view)
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  ")}
    assert "linking billing" in lines["p-a"]
    assert "enabling 2 APIs" in lines["a-much-longer-project-id"]
    assert "waiting for the enable operation" in lines["a-much-longer-project-id"]
    assert "rate limited, retrying in 4.0 s" in lines["p-c"]
    # Aligned: the step column starts at the same offset on every project line.
    starts = {pid: line.index(word) for pid, line, word in (
        ("p-a", lines["p-a"], "linking"),
        ("long", lines["a-much-longer-project-id"], "enabling"),
        ("p-c", lines["p-c"], "enabling"),
    )}  # fmt: skip
    assert len(set(starts.values())) == 1, text
    assert re.search(r"0/3 .*ETA --:--:--", text), text  # nothing finished yet
    assert "internal" not in text and "enable_services" not in text

    view.state.in_flight["p-a"].started -= 10  # p-a took 10 s (wall)
    view.project_event("p-a", Finished(applied=True))
    text = _render(view)
    assert re.search(r"1/3 .*ETA 0:00:(09|10)", text), text  # the others: about 10 s each
    assert "p-a" not in text  # finished projects leave the in-flight lines

    view.project_event("", SmokeProgress(done=2, total=5))
    assert re.search(r"smoke .*2/5", _render(view))


def test_the_log_prints_long_waits_finished_projects_and_give_ups_with_timestamps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    relay = RetryRelay()
    short, long = WAIT_LOG_AT_LEAST_S / 2, WAIT_LOG_AT_LEAST_S + 9
    with progress(["p-1", "p-22"], label="apply", relay=relay, tty=False) as sink:
        sink("p-1", Observing())
        sink("p-1", Waited(wait=Wait.PROPAGATION, subject="services", waited_s=short))
        sink("p-1", Waited(wait=Wait.PROPAGATION, subject="billing", waited_s=long))
        relay(RetryEvent(kind=RetryEventKind.RATE_LIMIT_WAIT, attempts=0, delay_s=short))
        relay(
            RetryEvent(
                kind=RetryEventKind.BACKOFF,
                attempts=1,
                delay_s=long,
                rate_limited=True,
                method="serviceusage.services.enable",
                project_id="p-22",
            )
        )
        relay(RetryEvent(kind=RetryEventKind.GAVE_UP, attempts=5, project_id="p-22"))
        sink("p-1", Finished(applied=True))
    relay(RetryEvent(kind=RetryEventKind.GAVE_UP, attempts=5, project_id="p-22"))  # view closed
    lines = capsys.readouterr().err.splitlines()
    assert all(re.match(r"\d\d:\d\d:\d\dZ apply (p-1 |p-22)  \S", line) for line in lines), lines
    texts = [line.split(maxsplit=3)[3] for line in lines]
    assert texts == [
        "waited 12 s for propagation (billing)",
        "rate limited, retrying in 12 s (serviceusage.services.enable)",
        "gave up after 5 attempt(s) (error)",
        texts[3],
    ]
    assert re.fullmatch(r"done in [\d.]+ s", texts[3])


def test_a_gate_announces_a_wait_only_when_its_first_read_is_not_ready() -> None:
    from bootstrap.clock import VirtualClock
    from bootstrap.errors import Cause
    from bootstrap.reconcile.gates import wait_until

    announced: list[float] = []
    clock = VirtualClock()
    reads = iter([False, False, True])
    wait_until(
        lambda: next(reads),
        bool,
        clock=clock,
        deadline_s=60,
        cause=Cause.SERVICE_DISABLED,
        message="",
        on_wait=lambda: announced.append(clock.now()),
    )
    assert announced == [0.0]  # once, before the first sleep
    wait_until(
        lambda: True,
        bool,
        clock=clock,
        deadline_s=60,
        cause=Cause.SERVICE_DISABLED,
        message="",
        on_wait=lambda: announced.append(clock.now()),
    )
    assert announced == [0.0]  # ready at once: no wait to show
