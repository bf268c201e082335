"""What a reconcile run is asked to do: the date, whether to write, and its limits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class RunOptions:
    as_of: dt.date
    apply: bool = False
    allow_relink: bool = False
    probe: bool = True
    preflight: bool = True
    concurrency: int = 16
    gate_deadline_s: float = 600.0
