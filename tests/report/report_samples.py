"""Hand-built RunReports with a fixed clock and fixed durations, shared by the report tests.

`full_report()` holds one project of each status a person can see (ok, changed, will change,
needs a person, failed), a smoke check with metrics, failures with cause and remedy, skipped
checks and a warning, so every renderer's golden file shows every branch.
"""

from __future__ import annotations

import datetime as dt

from bootstrap.checks import CheckStatus
from bootstrap.plan.model import ChangeOutcome
from bootstrap.report.model import (
    ChangeReport,
    CheckReport,
    ProjectReport,
    ProjectStatus,
    RunReport,
)

STARTED_AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
MODEL = "model:gpt-oss-120b@us-central1"
SMOKE = "smoke:gpt-oss-120b@us-central1"
PUBLISHER_MODEL = "publishers/openai/models/gpt-oss-120b-maas"


def ok(name: str, duration_ms: float = 12.0) -> CheckReport:
    return CheckReport(name=name, status=CheckStatus.OK, duration_ms=duration_ms)


def smoke_ok(ttft_ms: float = 41.7, tokens_per_s: float = 85.24) -> CheckReport:
    return CheckReport(
        name=SMOKE,
        status=CheckStatus.OK,
        duration_ms=812.5,
        detail="streamed 64 tokens, finish_reason=stop",
        metrics={"ttft_ms": ttft_ms, "tokens_per_s": tokens_per_s, "output_tokens": 64},
    )


def project_ok(project_id: str = "demo-ready") -> ProjectReport:
    return ProjectReport(
        project_id=project_id,
        status=ProjectStatus.OK,
        checks=(
            ok("project"),
            ok("billing", 20.0),
            ok("services", 31.0),
            ok("permissions", 15.5),
            ok(MODEL, 44.0),
            smoke_ok(),
        ),
    )


def project_changed() -> ProjectReport:
    return ProjectReport(
        project_id="demo-fixed",
        status=ProjectStatus.OK,
        changes=(
            ChangeReport(
                action="enable_services",
                target="aiplatform.googleapis.com",
                reason="Vertex AI is off; the model needs it.",
                outcome=ChangeOutcome.APPLIED,
            ),
            ChangeReport(
                action="enable_model",
                target=PUBLISHER_MODEL,
                reason="gpt-oss-120b is wanted in us-central1.",
                outcome=ChangeOutcome.APPLIED,
            ),
        ),
        checks=(
            ok("project"),
            ok("billing"),
            CheckReport(name="services", status=CheckStatus.CHANGED, duration_ms=2500.0),
            CheckReport(name=MODEL, status=CheckStatus.CHANGED, duration_ms=1200.0),
            smoke_ok(ttft_ms=95.0, tokens_per_s=61.0),
        ),
    )


def project_new() -> ProjectReport:
    blocked = "blocked: the project does not exist yet"
    return ProjectReport(
        project_id="demo-new",
        status=ProjectStatus.CHANGES,
        changes=(
            ChangeReport(
                action="create_project",
                target="projects/demo-new",
                reason="The project does not exist.",
                outcome=ChangeOutcome.PLANNED,
            ),
            ChangeReport(
                action="link_billing",
                target="billingAccounts/0000AA-BBBBBB-CCCCCC",
                reason="The project has no billing account.",
                outcome=ChangeOutcome.PLANNED,
            ),
        ),
        checks=(
            CheckReport(name="project", status=CheckStatus.PENDING, duration_ms=9.0),
            CheckReport(name="billing", status=CheckStatus.PENDING, duration_ms=0.0),
            CheckReport(name=SMOKE, status=CheckStatus.SKIPPED, detail=blocked),
        ),
    )


def project_needs_person() -> ProjectReport:
    return ProjectReport(
        project_id="demo-terms",
        status=ProjectStatus.ACTION_REQUIRED,
        checks=(
            ok("project"),
            ok("billing"),
            ok("services"),
            CheckReport(
                name=MODEL,
                status=CheckStatus.ACTION_REQUIRED,
                cause="MODEL_NOT_ENABLED",
                remedy=(
                    "Accept the terms in the console: https://console.cloud.google.com/"
                    "vertex-ai/publishers/openai/model-garden/gpt-oss-120b-maas?project=demo-terms"
                ),
                detail="The model's terms have not been accepted for this project.",
                duration_ms=38.0,
            ),
            CheckReport(
                name=SMOKE, status=CheckStatus.SKIPPED, detail="blocked: the model is not enabled"
            ),
        ),
    )


def project_failed() -> ProjectReport:
    return ProjectReport(
        project_id="demo-closed-billing",
        status=ProjectStatus.FAILED,
        checks=(
            ok("project"),
            CheckReport(
                name="billing",
                status=CheckStatus.FAILED,
                cause="BILLING_ACCOUNT_CLOSED",
                remedy="Link an open account: gcloud billing projects link demo-closed-billing "
                "--billing-account=ACCOUNT_ID",
                detail="billingAccounts/0000AA-CLOSED is closed.\nHTTP 400 FAILED_PRECONDITION",
                duration_ms=27.25,
            ),
            CheckReport(
                name="services", status=CheckStatus.SKIPPED, detail="blocked: billing failed"
            ),
        ),
    )


def project_warning() -> ProjectReport:
    return ProjectReport(
        project_id="demo-labels",
        status=ProjectStatus.OK,
        checks=(
            CheckReport(
                name="project",
                status=CheckStatus.WARNING,
                detail="labels differ: team=ml (wanted team=research); labels are never changed",
                remedy="gcloud projects update demo-labels --update-labels=team=research",
                duration_ms=10.0,
            ),
            ok("billing"),
        ),
    )


def project_smoke_failed() -> ProjectReport:
    return ProjectReport(
        project_id="demo-stream-cut",
        status=ProjectStatus.FAILED,
        checks=(
            ok("project"),
            ok(MODEL),
            CheckReport(
                name=SMOKE,
                status=CheckStatus.FAILED,
                cause="STREAM_INCOMPLETE",
                remedy="Retry later; if it persists, check the Vertex AI status page.",
                detail="The stream ended without [DONE] after 12 tokens: 'Hello | wor'",
                duration_ms=30000.0,
                metrics={"ttft_ms": 250, "tokens_per_s": 0.4, "retries": 2},
            ),
        ),
    )


def all_projects() -> tuple[ProjectReport, ...]:
    return (
        project_ok(),
        project_changed(),
        project_new(),
        project_needs_person(),
        project_failed(),
        project_warning(),
        project_smoke_failed(),
    )


def full_report() -> RunReport:
    return RunReport(
        command="audit",
        started_at=STARTED_AT,
        duration_s=12.3456,
        exit_code=1,
        projects=all_projects(),
        warnings=("gpt-oss-20b is deprecated in the catalog; plan a move to gpt-oss-120b.",),
        metrics={"retries": 3, "gate_wait_ms": 1500.0},
    )


def empty_report() -> RunReport:
    return RunReport(command="plan", started_at=STARTED_AT, duration_s=0.25, exit_code=0)
