"""Client-side rate limits: one token bucket per "<api>.<kind>", sized from Google's default quotas.

A run that touches a thousand projects would otherwise bounce off the per-minute quotas of the
caller's project; pacing the requests makes it meet the quota instead. Each bucket refills at the
configured rate and holds one minute of requests (quotas are counted per minute, so a fresh run
may use a whole minute's allowance at once). Waiting for a token uses the injected clock, so tests
on a virtual clock pace in no real time.

Defaults (requests per minute, per caller project; shared/reference/reliability-notes.md §2):

| key                    | /min | why                                                        |
|------------------------|------|------------------------------------------------------------|
| serviceusage.read      | 240  | Service Usage read quota                                   |
| serviceusage.write     | 60   | Service Usage write quota; a batchEnable weighs 5          |
| resourcemanager.read   | 600  | CRM v3 get/list/testIamPermissions ("other reads" 10/s)    |
| resourcemanager.search | 240  | CRM v3 search (4/s)                                        |
| resourcemanager.write  | 600  | CRM writes; a CreateProject weighs 10                      |
| cloudbilling.read      | 240  | the Billing quota is 300/min for all calls: 240 reads ...  |
| cloudbilling.write     | 60   | ... plus 60 writes, so the sum never exceeds it            |
| aiplatform.read        | 600  | Model Garden reads (publisher models)                      |
| aiplatform.write       | 60   | enableModel                                                |
| aiplatform.predict     | 600  | the probe: below gpt-oss-120b's 650 QPM per region         |
| orgpolicy.read         | 600  | getEffectivePolicy: no published rate quota; CRM's read rate |
| cloudquotas.read       | 600  | quotaInfos.list, one paged list per project: no published rate quota (a 429 naming its limit lowers it) |
| cloudasset.search      | 400  | searchAllResources: 400/min per caller project (and 1,500/min per organization) |

`--rate-limit KEY=N/min` (or `/s`) overrides one key; an empty mapping switches limiting off.
`KEY=N/Ws` or `KEY=N/Wmin` (a window W) is a quota of N per window: the bucket refills at N/W and
holds N, and a 429 does not lower that rate (the user stated the quota exactly; a server counting
minutes of another clock, such as a time-scaled emulator, would otherwise slow it tenfold).
A 429 that names its limit (`ErrorInfo.metadata.quota_limit_value`) lowers that bucket's rate to
the server's figure, and one with a retry delay empties the bucket for that long.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from bootstrap.clock import Clock

DEFAULT_PER_MINUTE: dict[str, float] = {
    "serviceusage.read": 240,
    "serviceusage.write": 60,
    "resourcemanager.read": 600,
    "resourcemanager.search": 240,
    "resourcemanager.write": 600,
    "cloudbilling.read": 240,
    "cloudbilling.write": 60,
    "aiplatform.read": 600,
    "aiplatform.write": 60,
    "aiplatform.predict": 600,
    "orgpolicy.read": 600,
    "cloudquotas.read": 600,
    "cloudasset.search": 400,
}
DEFAULT_RATE_LIMITS: dict[str, float] = {k: v / 60.0 for k, v in DEFAULT_PER_MINUTE.items()}

# Requests that cost more than one unit of their quota.
BATCH_ENABLE_WEIGHT = 5.0
CREATE_PROJECT_WEIGHT = 10.0

_SPEC = re.compile(
    r"^\s*([a-z]+\.[a-z]+)\s*=\s*([0-9]*\.?[0-9]+)\s*/\s*([0-9]*\.?[0-9]+)?\s*(s|sec|min|m)\s*$"
)


def parse_rate_limit(spec: str) -> tuple[str, float]:
    """`"serviceusage.read=600/min"` -> `("serviceusage.read", 10.0)` (requests per second).

    Raises ValueError naming the accepted form and keys for anything else.
    """
    key, per_second, _capacity = parse_rate_limit_window(spec)
    return key, per_second


def parse_rate_limit_window(spec: str) -> tuple[str, float, float | None]:
    """Like parse_rate_limit, plus the bucket size when the spec names a window:
    `"serviceusage.read=240/6s"` -> `("serviceusage.read", 40.0, 240.0)`; None without one."""
    match = _SPEC.match(spec)
    if match is None:
        raise ValueError(f"rate limit {spec!r} is not of the form API.KIND=N/min or API.KIND=N/s")
    key, number, unit = match.group(1), float(match.group(2)), match.group(4)
    window = float(match.group(3)) if match.group(3) else None
    if key not in DEFAULT_PER_MINUTE:
        known = ", ".join(sorted(DEFAULT_PER_MINUTE))
        raise ValueError(f"unknown rate limit key {key!r}; known keys: {known}")
    if number <= 0:
        raise ValueError(f"rate limit {spec!r} must be positive (use --no-rate-limit to turn off)")
    if window is not None and window <= 0:
        raise ValueError(f"rate limit {spec!r}: the window must be positive")
    seconds = (60.0 if unit in ("min", "m") else 1.0) * (window or 1.0)
    return key, number / seconds, (number if window is not None else None)


@dataclass(slots=True)
class TokenBucket:
    """Tokens refill at `rate` per second up to `capacity`; a request may drive the level negative.

    Letting the level go negative turns `take` into a reservation: each caller learns how long to
    wait, and callers are served in arrival order without holding the lock while they sleep.
    """

    rate: float
    capacity: float
    level: float
    updated: float
    stated: bool = False  # the user gave the exact quota (a window): 429s never lower the rate

    def reserve(self, weight: float, now: float) -> float:
        """Take `weight` tokens; return the seconds to wait before using them."""
        self._refill(now)
        self.level -= weight
        return 0.0 if self.level >= 0 else -self.level / self.rate

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = max(self.updated, now)


class RateLimiter:
    """Token buckets per key; `acquire` waits on the clock for a token, `slow_down` obeys a 429."""

    def __init__(
        self,
        clock: Clock,
        rates: Mapping[str, float] | None = None,
        capacities: Mapping[str, float] | None = None,
    ) -> None:
        """`rates` in requests per second per key; None means the documented defaults,
        an empty mapping means no limits at all. Keys not given keep their default.
        `capacities`: bucket sizes of keys given with a window (default: one minute's worth)."""
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, TokenBucket] = {}
        self._parts = 1  # this process's share of the run's quotas is 1 / parts (`divide`)
        if rates is None or rates:
            merged = {**DEFAULT_RATE_LIMITS, **(rates or {})}
            now = clock.now()
            sizes = capacities or {}
            for key, rate in merged.items():
                size = sizes.get(key, rate * 60.0)
                self._buckets[key] = TokenBucket(rate, size, size, now, stated=key in sizes)

    @property
    def enabled(self) -> bool:
        return bool(self._buckets)

    def rate(self, key: str) -> float | None:
        bucket = self._buckets.get(key)
        return None if bucket is None else bucket.rate

    def acquire(self, key: str, weight: float = 1.0) -> float:
        """Take `weight` tokens from the bucket for `key`, sleeping on the clock when it is empty.

        Returns the seconds waited. Unknown keys and a disabled limiter never wait.
        """
        bucket = self._buckets.get(key)
        if bucket is None:
            return 0.0
        with self._lock:
            wait = bucket.reserve(weight, self._clock.now())
        if wait > 0:
            self._clock.sleep(wait)
        return wait

    def divide(self, parts: int) -> None:
        """Keep one of `parts` equal shares of every bucket (rate, size and what is left of it):
        `parts` processes each holding one send what this one would."""
        with self._lock:
            self._parts *= parts
            for bucket in self._buckets.values():
                bucket.rate /= parts
                bucket.capacity /= parts
                bucket.level /= parts

    def slow_down(
        self, key: str, *, limit_per_minute: float | None, retry_after_s: float | None
    ) -> None:
        """A 429 came back: lower the rate to the server's limit and/or pause for its delay."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return
        with self._lock:
            bucket._refill(self._clock.now())
            if limit_per_minute is not None and limit_per_minute > 0 and not bucket.stated:
                share = limit_per_minute / self._parts  # the server's limit is the whole run's
                bucket.rate = min(bucket.rate, share / 60.0)
                bucket.capacity = min(bucket.capacity, share)
            # Whatever the server says, it saw more than it allows: start from empty so the next
            # requests are paced at the rate instead of bursting again.
            pause = retry_after_s if retry_after_s and retry_after_s > 0 else 0.0
            bucket.level = min(bucket.level, -pause * bucket.rate, 0.0)
