"""`smoke_as`: a service account among the project's principals (defaults merged), or an error
at its line naming what to write."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_manifest_rules import load, messages

SA = "serviceAccount:app@acme.iam.gserviceaccount.com"


def manifest(smoke_as: str, *, principals: str = f"[{SA}]", in_defaults: bool = False) -> str:
    defaults = f"defaults:\n  smoke_as: {smoke_as}\n" if in_defaults else ""
    own = "" if in_defaults else f"    smoke_as: {smoke_as}\n"
    return (
        f"version: 1\n{defaults}projects:\n  - project_id: acme-app\n"
        f"    principals: {principals}\n{own}"
    )


def test_a_principal_service_account_is_kept(tmp_path: Path) -> None:
    result = load(tmp_path, manifest(SA))
    assert messages(result) == [] and result.desired is not None
    assert result.desired.projects[0].smoke_as == SA


def test_defaults_apply_and_the_principal_may_come_from_defaults(tmp_path: Path) -> None:
    text = manifest(SA, in_defaults=True, principals="[]").replace(
        "defaults:\n", f"defaults:\n  principals: [{SA}]\n"
    )
    result = load(tmp_path, text)
    assert messages(result) == [] and result.desired is not None
    assert result.desired.projects[0].smoke_as == SA


@pytest.mark.parametrize(
    ("smoke_as", "principals", "expected"),
    [
        ("user:me@example.com", "[user:me@example.com]", "is not a service account member"),
        (SA, "[]", "is not one of the project's principals"),
    ],
)
def test_bad_values_are_errors_at_their_line(
    tmp_path: Path, smoke_as: str, principals: str, expected: str
) -> None:
    found = messages(load(tmp_path, manifest(smoke_as, principals=principals)))
    assert len(found) == 1 and expected in found[0], found
    assert ":5:" in found[0]  # the smoke_as line
