"""Faults as data (storage-testbench style): rules that match requests and replace, delay,
stall, reset or break their answers. The public format is documented in docs/emulator.md:

    {"rules": [{"match": {"method", "path" (re.search on the path), "body_contains"},
                "after", "times" (1; -1 = always), "probability", "phase": "before"|"after",
                "action", "status", "body", "headers", "delay_ms", "events"}]}

The first rule that matches (and is due: past `after`, not used up, probability drawn) wins.
GET faults reports every rule with `matched`, `fired` and `remaining`, so tests can assert that
each rule was consumed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    RESPOND = "respond"
    DELAY = "delay"
    RESET = "reset"
    STALL = "stall"
    SSE_BREAK_AFTER = "sse_break_after"
    SSE_ERROR_AFTER = "sse_error_after"
    SSE_NO_DONE = "sse_no_done"


class Phase(StrEnum):
    BEFORE = "before"
    AFTER = "after"


RULE_KEYS = {
    "match", "after", "times", "probability", "phase", "action", "status", "body", "headers",
    "delay_ms", "events",
}  # fmt: skip


@dataclass(slots=True)
class Rule:
    raw: dict[str, Any]
    method: str | None
    path: re.Pattern[str] | None
    body_contains: bytes | None
    after: int
    times: int
    probability: float
    phase: Phase
    action: Action
    status: int
    body: Any
    headers: dict[str, str]
    delay_ms: float
    events: int
    matched: int = 0
    fired: int = 0

    @property
    def remaining(self) -> int:
        return -1 if self.times < 0 else max(0, self.times - self.fired)


def _choice(kind: type[StrEnum], value: Any, what: str) -> Any:
    """`kind(value)`, or a ValueError naming the allowed values."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValueError(f"fault rule: unknown {what} {value!r} (one of {allowed})") from None


def parse_rule(raw: dict[str, Any]) -> Rule:
    if not isinstance(raw, dict):
        raise ValueError(f"fault rule: expected a mapping, got {raw!r}")
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise ValueError(f"fault rule: unknown keys {sorted(unknown)}")
    match = raw.get("match") or {}
    extra = set(match) - {"method", "path", "body_contains"}
    if extra:
        raise ValueError(f"fault rule match: unknown keys {sorted(extra)}")
    contains = match.get("body_contains")
    return Rule(
        raw=dict(raw),
        method=str(match["method"]).upper() if match.get("method") else None,
        path=re.compile(match["path"]) if match.get("path") else None,
        body_contains=str(contains).encode() if contains else None,
        after=int(raw.get("after", 0)),
        times=int(raw.get("times", 1)),
        probability=float(raw.get("probability", 1.0)),
        phase=_choice(Phase, raw.get("phase", "before"), "phase"),
        action=_choice(Action, raw.get("action", "respond"), "action"),
        status=int(raw.get("status", 500)),
        body=raw.get("body"),
        headers={str(k): str(v) for k, v in (raw.get("headers") or {}).items()},
        delay_ms=float(raw.get("delay_ms", 0)),
        events=int(raw.get("events", 0)),
    )


class Faults:
    def __init__(self, *, seed: int) -> None:
        self.seed = seed
        self.rules: list[Rule] = []
        self.random = random.Random(seed)

    def add(self, spec: dict[str, Any]) -> None:
        rules = spec.get("rules")
        if not isinstance(rules, list):
            raise ValueError('faults must be {"rules": [...]}')
        self.rules.extend(parse_rule(r) for r in rules)

    def clear(self) -> None:
        self.rules = []
        self.random = random.Random(self.seed)

    def pick(self, method: str, path: str, body: bytes) -> Rule | None:
        for rule in self.rules:
            if rule.method and rule.method != method:
                continue
            if rule.path and not rule.path.search(path):
                continue
            if rule.body_contains and rule.body_contains not in body:
                continue
            rule.matched += 1
            if rule.matched <= rule.after or rule.remaining == 0:
                continue
            if rule.probability < 1.0 and self.random.random() >= rule.probability:
                continue
            rule.fired += 1
            return rule
        return None

    def snapshot(self) -> dict[str, Any]:
        return {
            "rules": [
                {**r.raw, "matched": r.matched, "fired": r.fired, "remaining": r.remaining}
                for r in self.rules
            ]
        }
