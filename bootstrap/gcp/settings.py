"""How to reach Google Cloud: concurrency, rate limits, credentials options, emulator, deadlines.

A frozen value built by the CLI (or `settings_from_env` in tests and scripts) and passed to
`bootstrap.gcp.connect`; nothing in this package reads settings from globals.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from bootstrap.catalog import today_utc
from bootstrap.clock import Clock, SystemClock
from bootstrap.errors import BootstrapError, Cause, Disposition, Failure

if TYPE_CHECKING:
    from bootstrap.gcp.retry import RetryEvent

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
    # Told every retry, wait and give-up of every call (a live view, a log); None: nobody.
    on_retry_event: Callable[[RetryEvent], None] | None = None

    @property
    def emulated(self) -> bool:
        return bool(self.emulator_host)

    @property
    def emulator_root(self) -> str:
        """`http://HOST` of the emulator (a scheme in the host is kept)."""
        host = (self.emulator_host or "").rstrip("/")
        return host if "://" in host else f"http://{host}"

    @property
    def endpoint(self) -> str:
        """Where requests go and how that was chosen, for messages about an unreachable endpoint."""
        if self.emulated:
            return f"{self.emulator_host} (from {EMULATOR_HOST_ENV})"
        return f"Google's default hosts, *.googleapis.com ({EMULATOR_HOST_ENV} is not set)"

    @property
    def endpoint_remedy(self) -> str:
        """What to do when nothing answers at `endpoint`."""
        if self.emulated:
            return (
                f"start the emulator (bootstrap emulator) and set {EMULATOR_HOST_ENV} to the "
                "HOST:PORT it prints, or unset it to use Google Cloud"
            )
        return (
            "check the network, proxy and firewall between this machine and *.googleapis.com "
            "(e.g. curl -sI https://cloudresourcemanager.googleapis.com)"
        )


# HOST:PORT with an optional http(s):// scheme; HOST a name, an IPv4 address or [IPv6].
_HOST_PORT = re.compile(r"^(?:https?://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})/?$")


def check_emulator_host(value: str) -> str:
    """`value` if it is HOST:PORT (port 1-65535), else BootstrapError(INVALID_INPUT) saying so.

    Checked before any request: a malformed value would otherwise surface as a connection error
    deep inside the first call, after its retries.
    """
    match = _HOST_PORT.match(value)
    if match is None or not 1 <= int(match.group(1)) <= 65535:
        raise BootstrapError(
            Failure(
                cause=Cause.INVALID_INPUT,
                message=f"{EMULATOR_HOST_ENV}={value!r} is not HOST:PORT.",
                remedy=f"set it to the address the emulator printed (e.g. 127.0.0.1:8790), "
                f"or unset {EMULATOR_HOST_ENV} to use Google Cloud",
                disposition=Disposition.FIX_INPUT,
            )
        )
    return value


def settings_from_env(*, env: dict[str, str] | None = None, **overrides: Any) -> CloudSettings:
    """Settings with the emulator taken from BOOTSTRAP_EMULATOR_HOST / BOOTSTRAP_EMULATOR_TOKEN.

    The token defaults to `emulator-owner` when only the host is set. Keyword overrides win.
    A host that is not HOST:PORT raises BootstrapError(INVALID_INPUT).
    """
    source = os.environ if env is None else env
    host = source.get(EMULATOR_HOST_ENV) or None
    if host is not None:
        check_emulator_host(host)
    token = source.get(EMULATOR_TOKEN_ENV) or (DEFAULT_EMULATOR_TOKEN if host else None)
    return replace(CloudSettings(emulator_host=host, emulator_token=token), **overrides)
