"""The smoke test against the emulator over real HTTP: a pass, and every failure kind through the
emulator's fault rules. Each case must end as a pass or a classified failure, quickly: timeouts
here are one or two seconds, and pytest-timeout stops anything that would hang."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from bootstrap.checks import Check, CheckStatus
from bootstrap.emulator.inprocess import Emulator
from bootstrap.errors import Cause
from bootstrap.manifest.desired import SmokeSettings
from bootstrap.smoke.case import SmokeCase
from bootstrap.smoke.runner import run_smoke
from bootstrap.smoke.verdict import RAISE_MAX_TOKENS

pytestmark = pytest.mark.timeout(20)

TOKEN = "emulator-owner"
CHAT = "chat/completions"
LONG_PROMPT = (
    "Describe in a few plain words why the sea looks blue on a clear day and grey on a cloudy "
    "day near the coast of Brittany in early spring please"
)


def case(project: str = "demo-ready", location: str = "global") -> SmokeCase:
    return SmokeCase(
        project_id=project,
        alias="gpt-oss-120b",
        request_model="openai/gpt-oss-120b-maas",
        publisher_model="publishers/openai/models/gpt-oss-120b-maas",
        location=location,
    )


class Tokens:
    """A fake token source: hands out `first` until refreshed, then `after`."""

    def __init__(self, first: str = TOKEN, after: str = TOKEN) -> None:
        self.current = first
        self.after = after
        self.refreshes = 0

    def token(self) -> str:
        return self.current

    def refresh(self) -> str:
        self.refreshes += 1
        self.current = self.after
        return self.current


def smoke(
    emu: Emulator,
    *cases: SmokeCase,
    tokens: Tokens | None = None,
    checks: frozenset[str] = frozenset(),
    **settings: Any,
) -> list[Check]:
    result = run_smoke(
        list(cases) or [case()],
        settings=SmokeSettings(**{"timeout_s": 5.0, **settings}),
        tokens=tokens or Tokens(),
        vertex_root=lambda location: emu.base_url,
        checks=checks,
    )
    assert not [e for e in emu.journal() if e["mutating"]], "smoke must never mutate"
    return result


def one(emu: Emulator, **kwargs: Any) -> Check:
    (check,) = smoke(emu, **kwargs)
    return check


def fault(emu: Emulator, action: str, **rule: Any) -> None:
    emu.add_faults(
        {"rules": [{"match": {"method": "POST", "path": CHAT}, "action": action, **rule}]}
    )


def set_timing(emu: Emulator, **timing: Any) -> None:
    world = emu.get_world()
    world["timing"].update(timing)
    emu.put_world(world)


def assert_failed(check: Check, cause: Cause) -> None:
    assert check.status is CheckStatus.FAILED, check
    assert check.cause is cause, check
    assert TOKEN not in check.detail + check.remedy


# --- Passes -------------------------------------------------------------------------------------


def test_pass_records_metrics_and_an_excerpt(emulator: Emulator) -> None:
    check = one(emulator)
    assert check.name == "smoke:gpt-oss-120b@global"
    assert check.status is CheckStatus.OK, check
    assert check.detail == '"ok"'
    metrics = check.metrics
    assert set(metrics) == {
        "ttft_ms",
        "first_content_ms",
        "total_ms",
        "output_tokens",
        "reasoning_tokens",
        "tokens_per_s",
    }
    assert int(metrics["reasoning_tokens"]) > 0  # the emulator streams `reasoning` deltas
    assert 0 < float(metrics["ttft_ms"]) <= float(metrics["first_content_ms"])
    assert float(metrics["first_content_ms"]) <= float(metrics["total_ms"])
    assert int(metrics["output_tokens"]) > 1 and float(metrics["tokens_per_s"]) > 0


def test_tools_and_json_checks_pass(emulator: Emulator) -> None:
    checks = smoke(emulator, checks=frozenset({"tools", "json"}))
    assert [c.name for c in checks] == [
        "smoke:gpt-oss-120b@global",
        "smoke-tools:gpt-oss-120b@global",
        "smoke-json:gpt-oss-120b@global",
    ]
    assert all(c.status is CheckStatus.OK for c in checks), checks
    assert "Asia/Tokyo" in checks[1].detail  # the answer came after the tool result went back


def serve_us_central1(emulator: Emulator) -> None:
    """The default world serves gpt-oss-120b in `global` only (evidence row 20); add a region."""
    world = emulator.get_world()
    world["models"][0]["locations"] = ["global", "us-central1"]
    emulator.put_world(world)


def test_cases_run_concurrently_and_a_failure_stops_no_other(emulator: Emulator) -> None:
    serve_us_central1(emulator)
    cases = [case(), case("demo-model-off"), case(location="us-central1"), case()]
    checks = smoke(emulator, *cases)
    assert [c.status for c in checks] == [
        CheckStatus.OK,
        CheckStatus.FAILED,
        CheckStatus.OK,
        CheckStatus.OK,
    ]
    assert checks[2].name == "smoke:gpt-oss-120b@us-central1"


def test_a_shared_http_client_is_used_and_left_open(emulator: Emulator) -> None:
    serve_us_central1(emulator)
    with httpx.Client() as client:
        checks = run_smoke(
            [case(), case(location="us-central1")],
            settings=SmokeSettings(timeout_s=5.0),
            tokens=Tokens(),
            vertex_root=lambda location: emulator.base_url,
            http_client=client,
        )
        assert not client.is_closed
    assert all(c.status is CheckStatus.OK for c in checks)


# --- Failures before the stream ------------------------------------------------------------------


def test_error_before_the_stream_is_classified(emulator: Emulator) -> None:
    body = {
        "error": {
            "code": 403,
            "message": "Vertex AI API has not been used in project demo-ready before or it is disabled.",
            "status": "PERMISSION_DENIED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "SERVICE_DISABLED",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": "aiplatform.googleapis.com",
                        "consumer": "projects/demo-ready",
                    },
                }
            ],
        }
    }
    fault(emulator, "respond", status=403, body=body)
    check = one(emulator)
    assert_failed(check, Cause.SERVICE_DISABLED)
    assert "aiplatform.googleapis.com" in check.detail + check.remedy


def test_model_not_enabled(emulator: Emulator) -> None:
    (check,) = smoke(emulator, case("demo-model-off"))
    assert_failed(check, Cause.MODEL_NOT_ENABLED)


def test_429_with_retry_after_is_honoured_then_passes(emulator: Emulator) -> None:
    fault(emulator, "respond", status=429, headers={"Retry-After": "1"}, body={
        "error": {"code": 429, "message": "Resource exhausted.", "status": "RESOURCE_EXHAUSTED"}
    })  # fmt: skip
    started = time.monotonic()
    check = one(emulator)
    assert check.status is CheckStatus.OK, check
    assert time.monotonic() - started >= 1.0
    assert emulator.faults()["rules"][0]["fired"] == 1


def test_429_asking_longer_than_the_deadline_fails_fast(emulator: Emulator) -> None:
    fault(emulator, "respond", status=429, headers={"Retry-After": "300"}, body={
        "error": {"code": 429, "message": "Resource exhausted.", "status": "RESOURCE_EXHAUSTED"}
    })  # fmt: skip
    started = time.monotonic()
    check = one(emulator)
    assert time.monotonic() - started < 2.0
    assert_failed(check, Cause.RATE_LIMITED)
    assert "300" in check.detail


def test_a_503_is_retried_with_backoff_then_passes(emulator: Emulator) -> None:
    fault(emulator, "respond", status=503, body={
        "error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}
    })  # fmt: skip
    check = one(emulator)
    assert check.status is CheckStatus.OK, check
    assert emulator.faults()["rules"][0]["fired"] == 1


def test_unknown_optional_checks_are_refused() -> None:
    with pytest.raises(ValueError, match="bogus"):
        run_smoke(
            [case()],
            settings=SmokeSettings(),
            tokens=Tokens(),
            vertex_root=lambda location: "http://127.0.0.1:9",
            checks=frozenset({"bogus"}),
        )


def test_401_is_answered_by_one_refresh(emulator: Emulator) -> None:
    tokens = Tokens(first="stale-token")
    check = one(emulator, tokens=tokens)
    assert check.status is CheckStatus.OK, check
    assert tokens.refreshes == 1


def test_401_after_the_refresh_fails_as_unauthenticated(emulator: Emulator) -> None:
    tokens = Tokens(first="stale-token", after="still-stale")
    check = one(emulator, tokens=tokens)
    assert_failed(check, Cause.UNAUTHENTICATED)
    assert tokens.refreshes == 1


def test_a_stall_before_the_first_byte_times_out(emulator: Emulator) -> None:
    fault(emulator, "stall")
    started = time.monotonic()
    check = one(emulator, timeout_s=1.0)
    assert 0.9 <= time.monotonic() - started < 2.0
    assert_failed(check, Cause.TIMEOUT)


def test_a_reset_connection_is_retried_then_passes(emulator: Emulator) -> None:
    fault(emulator, "reset")
    check = one(emulator)
    assert check.status is CheckStatus.OK, check


# --- Failures mid-stream ---------------------------------------------------------------------------


def test_error_event_mid_stream_keeps_the_partial_output(emulator: Emulator) -> None:
    fault(emulator, "sse_error_after", events=25)
    check = one(emulator, prompt=LONG_PROMPT)
    assert_failed(check, Cause.STREAM_INTERRUPTED)
    assert "Internal error encountered." in check.detail
    assert 'partial output: "Emulated answer' in check.detail


def test_a_broken_stream_keeps_the_partial_output(emulator: Emulator) -> None:
    fault(emulator, "sse_break_after", events=25)
    check = one(emulator, prompt=LONG_PROMPT)
    assert_failed(check, Cause.STREAM_INTERRUPTED)
    assert 'partial output: "Emulated answer' in check.detail
    assert emulator.faults()["rules"][0]["fired"] == 1  # cut mid-stream: never retried


def test_no_done_is_incomplete(emulator: Emulator) -> None:
    fault(emulator, "sse_no_done", events=1000)
    check = one(emulator)
    assert_failed(check, Cause.STREAM_INCOMPLETE)
    assert 'partial output: "ok"' in check.detail


def test_a_stall_mid_stream_times_out_at_the_deadline(emulator: Emulator) -> None:
    # Headers at once, a first chunk at 0.6 s, then silence: a per-read timeout of the full
    # second would only fire at 1.6 s; the deadline must stop it at 1.0 s.
    set_timing(emulator, ttft_ms=600, token_interval_ms=10_000)
    started = time.monotonic()
    check = one(emulator, timeout_s=1.0)
    elapsed = time.monotonic() - started
    assert_failed(check, Cause.TIMEOUT)
    assert 0.9 <= elapsed < 1.4, elapsed


def test_a_trickle_past_the_deadline_times_out(emulator: Emulator) -> None:
    # Every read succeeds well within any read timeout; only the overall deadline can stop it.
    set_timing(emulator, ttft_ms=10, token_interval_ms=150)
    started = time.monotonic()
    check = one(emulator, timeout_s=1.0, prompt=LONG_PROMPT)
    elapsed = time.monotonic() - started
    assert_failed(check, Cause.TIMEOUT)
    assert 0.9 <= elapsed < 1.5, elapsed
    assert int(check.metrics["output_tokens"]) >= 3  # what streamed before the deadline


def test_length_without_content_is_empty_completion(emulator: Emulator) -> None:
    check = one(emulator, max_tokens=3)
    assert_failed(check, Cause.EMPTY_COMPLETION)
    assert check.remedy == RAISE_MAX_TOKENS


def test_an_unexpected_exception_becomes_an_unknown_failure(emulator: Emulator) -> None:
    class Broken(Tokens):
        def token(self) -> str:
            raise RuntimeError("token file /home/u/.config/gcloud/adc.json: ya29.a0AfH6SMBsecret")

    checks = smoke(emulator, case(), tokens=Broken())
    assert_failed(checks[0], Cause.UNKNOWN)
    assert "ya29.a0AfH6SMBsecret" not in checks[0].detail
