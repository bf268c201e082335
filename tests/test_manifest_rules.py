"""Unit tests for the manifest rules, the defaults merge and multi-file loading."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bootstrap.manifest.diagnostics import Diagnostic, Severity
from bootstrap.manifest.loader import MAX_BYTES, LoadResult, expand_paths, load_manifests
from bootstrap.manifest.reader import read_yaml
from bootstrap.manifest.schema import (
    check_label,
    check_parent,
    check_project_id,
    check_service,
    normalize_billing_account,
)

AS_OF = date(2026, 11, 25)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str, *, as_of: date = AS_OF) -> LoadResult:
    return load_manifests([write(tmp_path, "m.yaml", text)], as_of=as_of)


def messages(result: LoadResult) -> list[str]:
    return [d.render() for d in result.diagnostics]


# --- value rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "project_id",
    [
        "ab",
        "a" * 31,
        "1abc-def",
        "my-proj-",
        "My-Project",
        "proj_id",
        "google-proj",
        "ssl-test",
        "null-proj",
        "my-undefined",
    ],
)
def test_new_project_ids_follow_the_strict_rule(project_id: str) -> None:
    assert check_project_id(project_id, create=True) is not None


@pytest.mark.parametrize("project_id", ["acme-ml-dev", "abcdef", "a" * 30, "a1-2-3-z"])
def test_good_new_project_ids(project_id: str) -> None:
    assert check_project_id(project_id, create=True) is None


def test_verify_only_accepts_legacy_and_digit_ids() -> None:
    assert check_project_id("example.com:legacy", create=False) is None
    assert check_project_id("1abc-def", create=False) is None
    assert check_project_id("example.com:legacy", create=True) is not None
    assert check_project_id("Has Space", create=False) is not None


def test_billing_accounts() -> None:
    assert normalize_billing_account("012345-567890-ABCDEF") == ("012345-567890-ABCDEF", None)
    assert normalize_billing_account("billingAccounts/012345-567890-ABCDEF")[1] is None
    _, problem = normalize_billing_account("012345-567890-abcdef")
    assert problem is not None and "012345-567890-ABCDEF" in problem.hint
    for bad in ("01234-567890-ABCDEF", "012345-567890-ABCDEG", "012345567890ABCDEF"):
        assert normalize_billing_account(bad)[1] is not None


def test_parents() -> None:
    assert check_parent("folders/1") is None
    assert check_parent("organizations/123") is None
    for bad in ("folders/", "folder/1", "projects/1", "folders/01", "organizations/x"):
        assert check_parent(bad) is not None


def test_labels() -> None:
    assert check_label("env", "dev") is None
    assert check_label("é-é_1", "日本語") is None  # international letters are allowed
    assert check_label("env", "") is None
    for key, value in [
        ("Env", "x"),
        ("1env", "x"),
        ("k" * 64, "x"),
        ("", "x"),
        ("env", "v.1"),
        ("env", "V"),
        ("env", "x" * 64),
        ("env", "中" * 43),
    ]:
        assert check_label(key, value) is not None, (key, value)


def test_services() -> None:
    assert check_service("storage.googleapis.com") is None
    assert check_service("storage") is not None
    assert check_service("Storage.googleapis.com") is not None


# --- YAML reading --------------------------------------------------------------------------------


def test_positions_are_one_based() -> None:
    parsed = read_yaml("f.yaml", "version: 1\nprojects:\n  - project_id: x\n")
    assert parsed.mark(("projects", 0, "project_id")).line == 3
    assert parsed.mark(("projects", 0, "project_id")).col == 17
    assert parsed.diagnostics == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("no", "boolean"),
        ("on", "boolean"),
        ("off", "boolean"),
        ("012", "number (10)"),
        ("0x1A", "number (26)"),
        ("0b101", "number (5)"),
        ("1_000", "number (1000)"),
        ("12:30", "number (750)"),
        ("2024-01-02", "date"),
        ("Yes", "boolean"),
        (".inf", "number"),
    ],
)
def test_yaml11_surprises_in_strings_say_quote_it(tmp_path: Path, text: str, value: str) -> None:
    result = load(
        tmp_path, f"version: 1\nprojects:\n  - project_id: acme-ml-dev\n    labels: {{v: {text}}}\n"
    )
    assert not result.ok and result.desired is None
    (diagnostic,) = result.diagnostics
    assert diagnostic.line == 4 and f"quote it: '{text}'" in diagnostic.hint
    assert value in diagnostic.message


def test_quoted_surprises_are_plain_text(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        "version: 1\nprojects:\n  - project_id: acme-ml-dev\n    labels: {a: 'no', b: \"012\", c: '12_30'}\n",
    )
    assert result.ok, messages(result)
    assert result.desired is not None
    assert result.desired.projects[0].labels == {"a": "no", "b": "012", "c": "12_30"}


def test_every_problem_is_collected(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "defaults:\n  biling_account: x\n"
        "projects:\n"
        "  - project_id: acme-one\n    labels: {env: on}\n"
        "  - project_id: acme-two\n    billing_account: bad\n"
        "  - project_id: acme-three\n    models: [{model: nope, locations: [global]}]\n"
    )
    result = load(tmp_path, text)
    lines = sorted(d.line for d in result.diagnostics)
    assert lines == [3, 6, 8, 10], messages(result)


def test_diagnostic_rendering() -> None:
    diagnostic = Diagnostic(file="m.yaml", line=3, col=5, message="bad thing", hint="fix it")
    assert diagnostic.render() == "m.yaml:3:5: bad thing (hint: fix it)"
    warning = Diagnostic(file="m.yaml", line=1, col=1, message="old", severity=Severity.WARNING)
    assert warning.render() == "m.yaml:1:1: warning: old"


def test_file_over_the_size_cap_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, "big.yaml", "version: 1\n" + "#" * MAX_BYTES + "\n")
    result = load_manifests([path], as_of=AS_OF)
    assert "1 MiB" in result.diagnostics[0].message


def test_deep_nesting_is_reported_not_raised(tmp_path: Path) -> None:
    for depth in (40, 1_000, 100_000):
        result = load(tmp_path, "version: 1\nprojects: " + "[" * depth + "]" * depth + "\n")
        assert not result.ok


def test_alias_bomb_is_rejected_quickly(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ",".join([f"*{previous}"] * 9) + "]")
    result = load(tmp_path, "\n".join(lines) + "\n")
    assert any("aliases" in d.message for d in result.diagnostics)


def test_invalid_utf8_is_a_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"version: 1\nprojects: \xff\n")
    result = load_manifests([path], as_of=AS_OF)
    assert result.diagnostics[0].line == 2 and "UTF-8" in result.diagnostics[0].message


def test_empty_and_comment_only_files(tmp_path: Path) -> None:
    assert not load(tmp_path, "").ok
    assert not load(tmp_path, "# nothing\n").ok


# --- merge ---------------------------------------------------------------------------------------

MERGE = """\
version: 1
defaults:
  billing_account: billingAccounts/012345-6789AB-CDEF01
  parent: folders/1
  link_billing: true
  labels: {team: ml, env: base}
  services: [storage.googleapis.com]
  models:
    - model: gpt-oss-120b
      locations: [global]
projects:
  - project_id: acme-one
    labels: {env: dev}
    services: [bigquery.googleapis.com, storage.googleapis.com]
  - project_id: acme-two
    link_billing: false
    billing_account: 0ABCDE-6789AB-CDEF01
    models:
      - model: openai/gpt-oss-120b-maas
        locations: [us-central1]
        enable: true
"""


def test_defaults_merge(tmp_path: Path) -> None:
    result = load(tmp_path, MERGE)
    assert result.ok, messages(result)
    assert result.desired is not None
    one, two = result.desired.projects
    assert one.billing_account == "012345-6789AB-CDEF01"  # prefix stripped
    assert one.link_billing and not two.link_billing  # scalars overridden
    assert two.billing_account == "0ABCDE-6789AB-CDEF01"
    assert one.labels == {"team": "ml", "env": "dev"}  # merged key by key, project wins
    assert one.extra_services == ("storage.googleapis.com", "bigquery.googleapis.com")  # union
    assert [(m.alias, m.locations, m.enable) for m in one.models] == [
        ("gpt-oss-120b", ("global",), False)
    ]
    assert [(m.alias, m.locations, m.enable) for m in two.models] == [
        ("gpt-oss-120b", ("us-central1",), True)
    ]  # replaced as a whole
    assert one.parent == "folders/1" and one.source.endswith("m.yaml:12")
    assert "aiplatform.googleapis.com" in one.services


def test_create_and_link_billing_need_parent_and_account(tmp_path: Path) -> None:
    result = load(
        tmp_path,
        "version: 1\nprojects:\n  - project_id: acme-one\n    create: true\n    link_billing: true\n",
    )
    text = "\n".join(messages(result))
    assert "m.yaml:4:" in text and "no parent" in text
    assert "m.yaml:5:" in text and "no billing_account" in text


def test_defaults_cannot_hold_project_id(tmp_path: Path) -> None:
    result = load(
        tmp_path, "version: 1\ndefaults: {display_name: x}\nprojects:\n  - project_id: acme-one\n"
    )
    assert "display_name cannot be a default" in messages(result)[0]


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    result = load(tmp_path, "version: 1\nprojects:\n  - project_id: acme-one\n    lables: {}\n")
    assert "did you mean 'labels'?" in messages(result)[0]


def test_bools_are_only_true_and_false(tmp_path: Path) -> None:
    for value in ("yes", "on", "True", "1", "'true'"):
        result = load(
            tmp_path, f"version: 1\nprojects:\n  - project_id: acme-one\n    create: {value}\n"
        )
        assert not result.ok and result.diagnostics[0].line == 4, value


# --- catalog rules -------------------------------------------------------------------------------

TWENTY = "version: 1\nprojects:\n  - project_id: acme-one\n    models:\n      - model: gpt-oss-20b\n        locations: [us-central1]\n"


def test_retired_model_is_an_error_with_date_and_replacement(tmp_path: Path) -> None:
    result = load(tmp_path, TWENTY, as_of=date(2026, 10, 21))
    (diagnostic,) = result.diagnostics
    assert diagnostic.severity is Severity.ERROR and diagnostic.line == 5
    assert "retired on 2026-10-21" in diagnostic.message and "gpt-oss-120b" in diagnostic.message


def test_deprecated_model_is_a_warning(tmp_path: Path) -> None:
    result = load(tmp_path, TWENTY, as_of=date(2026, 7, 21))
    assert result.ok and result.desired is not None
    (diagnostic,) = result.diagnostics
    assert diagnostic.severity is Severity.WARNING and "2026-10-21" in diagnostic.message


def test_model_before_deprecation_is_clean(tmp_path: Path) -> None:
    assert load(tmp_path, TWENTY, as_of=date(2026, 7, 20)).diagnostics == ()


def test_publisher_model_outside_catalog_is_a_warning(tmp_path: Path) -> None:
    text = "version: 1\nprojects:\n  - project_id: acme-one\n    models:\n      - model: publishers/acme/models/m-1\n        locations: [europe-west4]\n"
    result = load(tmp_path, text)
    assert result.ok and result.desired is not None
    model = result.desired.projects[0].models[0]
    assert not model.in_catalog and model.request_model == "acme/m-1"
    assert "cannot be checked" in result.diagnostics[0].message


def test_location_must_be_offered(tmp_path: Path) -> None:
    text = TWENTY.replace("us-central1", "global")
    result = load(tmp_path, text, as_of=date(2026, 1, 1))
    assert "not offered in location 'global'" in messages(result)[0]
    assert "us-central1" in result.diagnostics[0].hint


# --- files ---------------------------------------------------------------------------------------


def test_expand_paths_sorts_and_skips_dot_folders(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", "")
    write(tmp_path, "a/c.yml", "")
    write(tmp_path, ".hidden/d.yaml", "")
    write(tmp_path, "notes.txt", "")
    assert expand_paths([tmp_path]) == [tmp_path / "a" / "c.yml", tmp_path / "b.yaml"]


def test_directory_without_manifests_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = load_manifests([tmp_path / "empty", tmp_path / "missing.yaml"], as_of=AS_OF)
    assert [d.message for d in result.diagnostics] == [
        "no *.yaml or *.yml manifest in this directory",
        "no such file or directory",
    ]


def test_project_ids_unique_across_files_and_first_smoke_wins(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "version: 1\nsmoke_test: {max_tokens: 7}\nprojects:\n  - project_id: acme-one\n",
    )
    write(
        tmp_path,
        "b.yaml",
        "version: 1\nsmoke_test: {max_tokens: 9}\nprojects:\n  - project_id: acme-two\n",
    )
    result = load_manifests([tmp_path], as_of=AS_OF)
    assert result.ok and result.desired is not None
    assert result.desired.smoke.max_tokens == 7
    assert result.diagnostics[0].severity is Severity.WARNING
    assert result.desired.sources == (str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"))
    write(tmp_path, "c.yaml", "version: 1\nprojects:\n  - project_id: acme-one\n")
    result = load_manifests([tmp_path], as_of=AS_OF)
    assert not result.ok
    assert any(f"also declared at {tmp_path / 'a.yaml'}:4" in d.message for d in result.diagnostics)


# --- principals --------------------------------------------------------------------------------

SA = "serviceAccount:app@acme-one.iam.gserviceaccount.com"
WIF = (
    "principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gh/"
    "attribute.repository/acme/app"
)


def test_principals_merge_as_a_union_and_the_role_as_a_scalar(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "defaults:\n"
        f"  principals: [{SA}, 'group:ml@example.com']\n"
        "  principal_role: projects/acme-one/roles/caller\n"
        "projects:\n"
        "  - project_id: acme-one\n"
        f"    principals: ['{WIF}', {SA}]\n"
        "  - project_id: acme-two\n"
        "    principal_role: roles/aiplatform.admin\n"
        "  - project_id: acme-three\n"
    )
    result = load(tmp_path, text)
    assert result.ok, messages(result)
    assert result.desired is not None
    one, two, _ = result.desired.projects
    assert one.principals == (SA, "group:ml@example.com", WIF)  # union, no duplicates
    assert one.principal_role == "projects/acme-one/roles/caller"
    assert two.principals == (SA, "group:ml@example.com")
    assert two.principal_role == "roles/aiplatform.admin"
    bare = load(tmp_path, "version: 1\nprojects:\n  - project_id: acme-one\n")
    assert bare.desired is not None
    assert bare.desired.projects[0].principals == ()
    assert bare.desired.projects[0].principal_role == "roles/aiplatform.user"


def test_bad_principals_and_roles_are_placed_at_file_line_col(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "defaults:\n"
        "  principals: ['serviceaccount:app@acme.iam.gserviceaccount.com']\n"
        "projects:\n"
        "  - project_id: acme-one\n"
        "    principals:\n"
        "      - user:nobody\n"
        "      - allUsers\n"
        "    principal_role: aiplatform.user\n"
    )
    result = load(tmp_path, text)
    assert not result.ok
    text_out = "\n".join(messages(result))
    assert "m.yaml:3:16:" in text_out and "case sensitive" in text_out
    assert "m.yaml:7:9:" in text_out and "user:nobody" in text_out
    assert "m.yaml:8:9:" in text_out and "allUsers" in text_out
    assert "m.yaml:9:21:" in text_out and "roles/NAME" in text_out


def test_principals_must_be_a_list_of_strings(tmp_path: Path) -> None:
    text = "version: 1\nprojects:\n  - project_id: acme-one\n    principals: user:a@b.com\n"
    result = load(tmp_path, text)
    assert not result.ok and "m.yaml:4:" in "\n".join(messages(result))
