"""How to reach Google Cloud: concurrency, rate limits, credentials options, emulator, deadlines.

A frozen value built by the CLI (or `settings_from_env` in tests and scripts) and passed to
`bootstrap.gcp.connect`; nothing in this package reads settings from globals.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field, replace
from typing import Any

from bootstrap.catalog import today_utc
from bootstrap.clock import Clock, SystemClock

EMULATOR_HOST_ENV = "BOOTSTRAP_EMULATOR_HOST"
EMULATOR_TOKEN_ENV = "BOOTSTRAP_EMULATOR_TOKEN"
DEFAULT_EMULATOR_TOKEN = "emulator-owner"


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudSettings:
    """Everything `connect` needs.

    `rate_limits`: requests per second per "<api>.<kind>" key (see bootstrap.gcp.ratelimit);
    None means the documented default quotas, an empty dict switches limiting off.
    `timeout_s` bounds one HTTP attempt; `read_deadline_s` bounds a call with its retries;
    `operation_deadline_s` bounds waiting for a long-running operation.
    """

    concurrency: int = 16
    rate_limits: dict[str, float] | None = None
    rate_capacities: dict[str, float] | None = None  # bucket sizes of windowed --rate-limit keys
    impersonate_service_account: str | None = None
    quota_project: str | None = None
    emulator_host: str | None = None
    emulator_token: str | None = None
    timeout_s: float = 30.0
    read_deadline_s: float = 60.0
    operation_deadline_s: float = 600.0
    clock: Clock = field(default_factory=SystemClock)
    as_of: dt.date = field(default_factory=today_utc)
    seed: int | None = None  # jitter seed; None = unpredictable

    @property
    def emulated(self) -> bool:
        return bool(self.emulator_host)

    @property
    def emulator_root(self) -> str:
        """`http://HOST` of the emulator (a scheme in the host is kept)."""
        host = (self.emulator_host or "").rstrip("/")
        return host if "://" in host else f"http://{host}"


def settings_from_env(*, env: dict[str, str] | None = None, **overrides: Any) -> CloudSettings:
    """Settings with the emulator taken from BOOTSTRAP_EMULATOR_HOST / BOOTSTRAP_EMULATOR_TOKEN.

    The token defaults to `emulator-owner` when only the host is set. Keyword overrides win.
    """
    source = os.environ if env is None else env
    host = source.get(EMULATOR_HOST_ENV) or None
    token = source.get(EMULATOR_TOKEN_ENV) or (DEFAULT_EMULATOR_TOKEN if host else None)
    return replace(CloudSettings(emulator_host=host, emulator_token=token), **overrides)
