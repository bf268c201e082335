"""The apply-run invariants of `bootstrap.emulator.invariants` on hand-built run records.

The fault suite only ever sees runs that keep the invariants, so a check that stopped finding
anything would pass there silently; these records break them on purpose and pin what is said.
"""

from __future__ import annotations

from typing import Any

from bootstrap.emulator.invariants import Run, violations

LINK = "/v1/projects/p1/billingInfo"
SET_IAM = "/v1/projects/p1:setIamPolicy"
ENABLE = "/v1/projects/p1/services/x.googleapis.com:enable"


def _entry(method: str, path: str, status: int = 200) -> dict[str, Any]:
    return {"method": method, "path": path, "status": status, "mutating": method != "GET"}


def _world(*projects: dict[str, Any], members: tuple[str, ...] = ()) -> dict[str, Any]:
    policy = {"resource": "projects/p1", "bindings": [{"role": "r", "members": list(members)}]}
    return {"projects": list(projects), "iam_policies": [policy]}


def _apply(
    journal: list[dict[str, Any]], before: dict[str, Any], after: dict[str, Any]
) -> list[str]:
    run = Run("apply", (), 0, "", "", None, journal=journal, before=before, after=after)
    return violations(run)


P1 = {"project_id": "p1", "number": "101", "services": []}


def test_a_link_that_took_effect_twice_is_reported() -> None:
    linked = {**P1, "billing_account": "A"}
    journal = [_entry("PUT", LINK), _entry("GET", LINK), _entry("PUT", LINK)]

    assert _apply(journal, _world(P1), _world(linked)) == [
        "link on p1 took effect 2 times (at most 1)"
    ]


def test_set_iam_policy_may_take_effect_once_per_member_added() -> None:
    before = _world(P1)
    after = _world(P1, members=("user:a", "user:b"))
    twice = [_entry("POST", SET_IAM), _entry("POST", SET_IAM)]

    assert _apply(twice, before, after) == []
    assert _apply([*twice, _entry("POST", SET_IAM)], before, after) == [
        "setIamPolicy on p1 took effect 3 times (at most 2)"
    ]


def test_create_may_take_effect_once_per_new_project() -> None:
    p2 = {"project_id": "p2", "number": "102"}
    p3 = {"project_id": "p3", "number": "103"}
    creates = [_entry("POST", "/v3/projects"), _entry("POST", "/v3/projects")]

    assert _apply(creates, _world(P1), _world(P1, p2, p3)) == []
    assert _apply(creates, _world(P1), _world(P1, p2)) == [
        "create on - took effect 2 times (at most 1)"
    ]


def test_enables_are_counted_by_the_operations_they_started() -> None:
    started = [
        {
            "name": f"operations/{n}",
            "kind": "su_enable",
            "project": "101",
            "payload": {"services": ["x.googleapis.com"]},
        }
        for n in (1, 2)
    ]
    before = _world(P1)
    after = {**_world({**P1, "services": ["x.googleapis.com"]}), "operations": started}
    journal = [
        _entry("POST", ENABLE),
        _entry("GET", "/v1/projects/p1/services"),
        _entry("POST", ENABLE),
    ]

    assert _apply(journal, before, after) == [
        "enable:x.googleapis.com on p1 took effect 2 times (at most 1)"
    ]


def test_journal_findings_come_before_the_counts() -> None:
    """A re-send with no re-read between is found while reading the journal, ahead of the
    per-kind counts, so the report reads in the order the run went."""
    linked = {**P1, "billing_account": "A"}
    journal = [
        _entry("PUT", LINK, status=503),
        _entry("PUT", LINK),
        _entry("POST", SET_IAM),
        _entry("POST", SET_IAM),
    ]

    assert _apply(journal, _world(P1), _world(linked, members=("user:a",))) == [
        "link on p1 re-sent without a re-read first",
        "setIamPolicy on p1 took effect 2 times (at most 1)",
    ]
