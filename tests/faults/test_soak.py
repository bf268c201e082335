"""The short chaos soak (issue 13): 30 projects, about 10% of control-plane requests answered by a
transient fault, must converge in ONE apply with every journal invariant holding.

The full soak (200 projects, five seeds, 10% and 20%) is `python -m bench.chaos`; its figures are
in docs/reliability.md. This one runs in process on the same code, so a regression in the retry
loop, the fast-forward clock or the apply shows up in `make test`.
"""

from __future__ import annotations

import pytest

from bench.chaos import soak


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_short_chaos_soak_converges_in_one_apply_without_violations() -> None:
    result = soak(projects=30, seed=1, rate=0.10, max_applies=1)
    (apply,) = result["applies"]
    assert apply["faults_fired"] > 0, "no fault fired: the soak proved nothing"
    assert result["converged"] and result["applies_needed"] == 1, apply
    assert apply["projects"] == {"ok": 30}, apply["failure_samples"]
    assert result["invariant_violations"] == []
    assert result["smoke_checks"] == {"ok": 30}
