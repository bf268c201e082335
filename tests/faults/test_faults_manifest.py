"""Cases 1-10 (reliability-notes §5, manifest and input): every bad manifest is refused by the CLI
with the rule it broke and its location, before a single request reaches the cloud."""

from __future__ import annotations

import datetime as dt
import re
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from bootstrap.manifest.loader import load_manifests
from tests.faults.faults_support import ACCOUNT, Harness


def refused(cli: Harness, path: str, *expected: str) -> str:
    """plan exits 1 with every expected text on stderr, no traceback, and no API call."""
    run = cli("plan", path)
    assert run.exit_code == 1, run.output
    for text in expected:
        assert text in run.stderr, run.stderr
    assert "Traceback" not in run.output and "Diagnostic(" not in run.stderr
    assert re.search(rf"{re.escape(path)}:\d+:\d+: ", run.stderr), "file:line:col: expected"
    assert run.journal == [], "a refused manifest must not reach the cloud"
    return run.stderr


def test_case_01_python_tag_is_refused_and_nothing_runs(
    cli: Harness, manifest: Callable[[str], str], tmp_path: Path
) -> None:
    marker = tmp_path / "executed"
    path = manifest(
        f"""\
        version: 1
        projects:
          - project_id: !!python/object/apply:os.system ["touch {marker}"]
        """
    )
    refused(cli, path, "YAML tags are not allowed")
    assert not marker.exists()


def _alias_bomb() -> str:
    text = 'version: 1\nl0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for level in range(1, 9):
        text += f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]\n"
    return text + "projects: []\n"


def test_case_02_billion_laughs_is_refused_fast_with_flat_memory(
    cli: Harness, manifest: Callable[[str], str]
) -> None:
    path = manifest(_alias_bomb())
    tracemalloc.start()
    started = time.perf_counter()
    result = load_manifests([path], as_of=dt.date(2026, 11, 25))
    took = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.desired is None
    assert took < 0.1, f"{took:.3f} s"
    assert peak < 5_000_000, f"peak {peak} bytes"
    refused(cli, path, "anchors (&l0) are not allowed", "aliases (*l0) are not allowed")


def test_case_03_duplicate_key_names_the_key_and_both_lines(
    cli: Harness, manifest: Callable[[str], str]
) -> None:
    path = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-ready
            project_id: demo-no-billing
        """
    )
    refused(cli, path, "duplicate key 'project_id' on lines 3 and 4")


def test_case_04_yaml11_label_values_are_refused_not_coerced(
    cli: Harness, manifest: Callable[[str], str]
) -> None:
    path = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-ready
            labels: {env: no, tier: on, cost: 012}
        """
    )
    stderr = refused(cli, path, "quote it: 'no'", "quote it: 'on'", "quote it: '012'")
    assert "(False)" in stderr and "(10)" in stderr  # says what YAML would have made of it


def test_case_05_oversized_file_is_refused_before_parsing(
    cli: Harness, manifest: Callable[[str], str]
) -> None:
    path = manifest("version: 1\nprojects: []\n" + "#" * (10 * 1024 * 1024) + "\n")
    refused(cli, path, "manifests are limited to")


def test_case_05_deep_nesting_is_a_clean_message(
    cli: Harness, manifest: Callable[[str], str]
) -> None:
    path = manifest("version: 1\nx: " + "[" * 10_000 + "]" * 10_000 + "\nprojects: []\n")
    refused(cli, path, "exceeded maximum nesting depth")


def test_case_06_multi_document_stream_is_refused(
    cli: Harness, manifest: Callable[[str], str]
) -> None:
    path = manifest(
        """\
        version: 1
        projects: [{project_id: demo-ready}]
        ---
        version: 1
        projects: []
        """
    )
    refused(cli, path, "exactly one YAML document")


@pytest.mark.parametrize(
    ("project_id", "rule"),
    [
        ("ab", "not 6-30"),
        ("a" * 31, "not 6-30"),
        ("1abc-def", "must start with a lower-case letter"),
        ("my-proj-", "must not end with a hyphen"),
        ("My-Project", "only lower-case letters, digits and hyphens"),
        ("proj_id", "only lower-case letters, digits and hyphens"),
        ("google-proj", "restricted word 'google'"),
        ("ssl-test", "restricted word 'ssl'"),
        ("null-proj", "restricted word 'null'"),
        ("example.com:legacy", "only lower-case letters, digits and hyphens"),
    ],
)
def test_case_07_project_ids_to_create_follow_the_rules(
    cli: Harness, manifest: Callable[[str], str], project_id: str, rule: str
) -> None:
    path = manifest(
        f"""\
        version: 1
        projects:
          - project_id: '{project_id}'
            create: true
            parent: folders/345678901234
        """
    )
    refused(cli, path, f"project_id '{project_id}' cannot be created", rule)


@pytest.mark.diverges("the legacy project does not exist in the emulator")
def test_case_07_legacy_domain_id_is_accepted_in_verify_mode(
    cli: Harness, manifest: Callable[[str], str]
) -> None:
    path = manifest(
        """\
        version: 1
        projects:
          - project_id: 'example.com:legacy'
        """
    )
    run = cli("plan", path)
    assert "cannot be created" not in run.stderr
    assert run.journal, "a valid manifest is observed"
    assert run.check("example.com:legacy", "project")["cause"] == "PROJECT_NOT_FOUND_OR_FORBIDDEN"


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("01234-567890-ABCDEF", "is not of the form"),
        ("012345-567890-ABCDEG", "is not of the form"),
        ("012345567890ABCDEF", "is not of the form"),
        ("012345-567890-abcdef", "must be upper case (hint: write 012345-567890-ABCDEF)"),
    ],
)
def test_case_08_billing_account_ids_are_checked(
    cli: Harness, manifest: Callable[[str], str], account: str, expected: str
) -> None:
    path = manifest(
        f"""\
        version: 1
        projects:
          - project_id: demo-no-billing
            billing_account: '{account}'
            link_billing: true
        """
    )
    refused(cli, path, expected)


def test_case_08_billing_accounts_prefix_is_stripped(
    cli: Harness, manifest: Callable[[str], str]
) -> None:
    path = manifest(
        f"""\
        version: 1
        projects:
          - project_id: demo-no-billing
            billing_account: 'billingAccounts/{ACCOUNT}'
            link_billing: true
        """
    )
    plan = cli("plan", path)
    assert plan.exit_code == 2, plan.output
    link = next(c for c in plan.project("demo-no-billing")["changes"] if "billing" in c["action"])
    assert ACCOUNT in link["target"] and "billingAccounts/billingAccounts" not in link["target"]
    assert cli("apply", path, "--yes", "--no-smoke").exit_code == 0


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ("{Env: ml}", "Env"),
        ("{1env: ml}", "1env"),
        ("{" + "k" * 64 + ": ml}", "k" * 64),
        ("{" + ", ".join(f"k{i}: v" for i in range(65)) + "}", "65"),
        ("{env: 'a.b'}", "a.b"),
        ("{env: '" + "é" * 64 + "'}", "at most 63"),
    ],
    ids=["upper-key", "digit-key", "64-char-key", "65-labels", "dot-value", "128-byte-value"],
)
def test_case_09_labels_are_checked(
    cli: Harness, manifest: Callable[[str], str], labels: str, expected: str
) -> None:
    path = manifest(
        f"""\
        version: 1
        projects:
          - project_id: demo-ready
            labels: {labels}
        """
    )
    refused(cli, path, expected)


def test_case_09_international_lower_case_labels_are_accepted(
    cli: Harness, manifest: Callable[[str], str]
) -> None:
    path = manifest(
        """\
        version: 1
        projects:
          - project_id: demo-ready
            labels: {équipe: données-ml}
        """
    )
    run = cli("plan", path)
    assert "error" not in run.stderr.lower(), run.stderr
    assert run.journal, "a valid manifest is observed"


def test_case_10_unknown_key_is_refused_with_a_suggestion(
    cli: Harness, manifest: Callable[[str], str]
) -> None:
    path = manifest(
        f"""\
        version: 1
        projects:
          - project_id: demo-no-billing
            biling_account: {ACCOUNT}
        """
    )
    refused(cli, path, "biling_account", "billing_account")
