"""The CLI's outputs and refusals: every --format on stdout, several --output files at once (the
format from each extension), $GITHUB_STEP_SUMMARY, `bootstrap env` in its three formats, smoke
passes and failures, usage errors, and apply refusing without --yes when nobody can answer."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import junitparser
import pytest
import xmlschema

from bootstrap.emulator.inprocess import Emulator
from tests.cli.cli_support import Cli, mutating, read_json

DEMO = "manifests/demo.yaml"
XSD = Path(__file__).parent.parent / "report" / "junit.xsd"
ONE_PROJECT = """\
version: 1
smoke_test: {{enabled: true, timeout_s: 30, max_tokens: 256}}
projects:
  - project_id: {project}
    models:
      - model: gpt-oss-120b
        locations: [global]
"""


@pytest.fixture
def ready(write_manifest: Callable[[str], str]) -> str:
    return write_manifest(ONE_PROJECT.format(project="demo-ready"))


@pytest.fixture
def model_off(write_manifest: Callable[[str], str]) -> str:
    return write_manifest(ONE_PROJECT.format(project="demo-model-off"))


# -- report formats ------------------------------------------------------------------------------


def test_format_json_on_stdout_is_the_versioned_report(cli: Cli, ready: str) -> None:
    result = cli("audit", ready, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["schema_version"] == 2 and report["command"] == "audit"
    assert report["exit_code"] == 0
    assert [p["project_id"] for p in report["projects"]] == ["demo-ready"]
    run = report["run"]  # an unsharded run still says which run and population it covered
    assert (
        run["shard"] is None and run["population"]["count"] == 1 and run["id"].startswith("audit-")
    )


def test_format_junit_on_stdout_is_valid_junit(cli: Cli, ready: str, tmp_path: Path) -> None:
    result = cli("audit", ready, "--format", "junit")
    assert result.exit_code == 0, result.output
    xmlschema.XMLSchema(XSD).validate(result.stdout)
    path = tmp_path / "stdout.xml"
    path.write_text(result.stdout)
    suites = list(junitparser.JUnitXml.fromfile(str(path)))
    assert [suite.name for suite in suites] == ["demo-ready"]
    names = [case.name for case in suites[0]]
    assert "smoke:gpt-oss-120b@global" in names and "billing" in names


def test_format_markdown_and_table_on_stdout(cli: Cli, ready: str) -> None:
    markdown = cli("plan", ready, "--format", "markdown")
    assert markdown.exit_code == 0, markdown.output
    assert "| " in markdown.stdout and "demo-ready" in markdown.stdout
    table = cli("plan", ready, "--format", "table")
    assert table.exit_code == 0
    assert "demo-ready" in table.stdout and "| " not in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80


def test_several_outputs_take_their_format_from_the_extension(
    cli: Cli, ready: str, tmp_path: Path
) -> None:
    files = {ext: tmp_path / "out" / f"audit.{ext}" for ext in ("json", "xml", "md", "txt")}
    args = [arg for path in files.values() for arg in ("--output", str(path))]
    result = cli("audit", ready, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    assert read_json(files["json"]) == json.loads(result.stdout)
    root = ET.parse(files["xml"]).getroot()
    suite = root.find("testsuite")
    assert root.tag == "testsuites" and suite is not None
    assert suite.get("name") == "demo-ready"
    markdown = files["md"].read_text()
    assert markdown.lstrip().startswith("#") and "|" in markdown and "demo-ready" in markdown
    table = files["txt"].read_text()
    assert table.startswith("bootstrap audit") and "✓  demo-ready" in table


@pytest.mark.parametrize(("fmt", "ext"), [("json", "json"), ("markdown", "md")])
def test_a_file_in_the_printed_format_is_encoded_once_and_printed_as_written(
    cli: Cli, ready: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, ext: str
) -> None:
    """A fleet's JSON takes seconds to encode: the file is written, then copied to stdout."""
    import bootstrap.report.render as render

    encoded: list[str] = []
    for name in ("write_json", "render_markdown"):
        real = getattr(render, name)

        def counted(
            *args: object, _real: Callable[..., object] = real, _name: str = name
        ) -> object:
            encoded.append(_name)
            return _real(*args)

        monkeypatch.setattr(render, name, counted)
    path = tmp_path / f"audit.{ext}"
    result = cli("audit", ready, "--format", fmt, "--output", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout == path.read_text()
    assert len(encoded) == 1


def test_an_output_with_an_unknown_extension_is_a_clear_error(
    cli: Cli, ready: str, tmp_path: Path
) -> None:
    result = cli("plan", ready, "--output", str(tmp_path / "report.html"))
    assert result.exit_code == 1
    assert "report.html" in result.stderr and ".json" in result.stderr
    assert "Traceback" not in result.output


def test_step_summary_is_appended_when_the_variable_is_set(
    cli: Cli, ready: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("## an earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    cli("audit", ready, "--format", "json")
    cli("plan", ready, "--format", "json")
    text = summary.read_text()
    assert text.startswith("## an earlier step\n")
    assert text.count("demo-ready") >= 2
    assert "audit" in text and "plan" in text


def test_no_step_summary_without_the_variable(cli: Cli, ready: str, tmp_path: Path) -> None:
    result = cli("plan", ready, "--format", "json")
    assert result.exit_code == 0
    assert list(tmp_path.glob("*.md")) == []


# -- bootstrap env -------------------------------------------------------------------------------


def test_env_dotenv_and_json(cli: Cli, cli_env: Emulator) -> None:
    dotenv = cli("env", DEMO, "--project", "demo-ready")
    assert dotenv.exit_code == 0, dotenv.output
    lines = [line for line in dotenv.stdout.splitlines() if not line.startswith("#")]
    pairs = dict(line.split("=", 1) for line in lines)
    as_json = json.loads(cli("env", DEMO, "--project", "demo-ready", "--format", "json").stdout)
    assert "Application Default Credentials" in as_json.pop("auth")
    assert pairs == as_json
    assert as_json["OPENAI_MODEL"] == "openai/gpt-oss-120b-maas"
    assert as_json["GOOGLE_CLOUD_PROJECT"] == "demo-ready"
    assert as_json["GOOGLE_CLOUD_LOCATION"] == "global"
    assert as_json["OPENAI_BASE_URL"].startswith(f"http://{cli_env.host}/")
    assert "emulator-owner" not in dotenv.output  # the token is never printed


def test_env_real_cloud_uses_the_regional_https_host(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, write_manifest: Callable[[str], str]
) -> None:
    monkeypatch.delenv("BOOTSTRAP_EMULATOR_HOST")
    path = write_manifest(ONE_PROJECT.format(project="acme-app").replace("global", "us-central1"))
    values = json.loads(cli("env", path, "--project", "acme-app", "--format", "json").stdout)
    assert values["OPENAI_BASE_URL"] == (
        "https://us-central1-aiplatform.googleapis.com/v1/projects/acme-app/"
        "locations/us-central1/endpoints/openapi"
    )


def test_env_github_appends_to_github_env(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "github-env"
    target.write_text("EARLIER=1\n")
    monkeypatch.setenv("GITHUB_ENV", str(target))
    result = cli("env", DEMO, "--project", "demo-ready", "--format", "github")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = target.read_text().splitlines()
    assert lines[0] == "EARLIER=1"
    assert [line.split("=", 1)[0] for line in lines[1:]] == [
        "OPENAI_BASE_URL",
        "OPENAI_MODEL",
        "GOOGLE_CLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
    ]


def test_env_github_without_github_env_is_an_error(cli: Cli) -> None:
    result = cli("env", DEMO, "--project", "demo-ready", "--format", "github")
    assert result.exit_code == 1
    assert "GITHUB_ENV" in result.stderr


def test_env_unknown_project_is_an_error(cli: Cli) -> None:
    result = cli("env", DEMO, "--project", "nope")
    assert result.exit_code == 1
    assert "nope is not in the manifests" in result.stderr


# -- smoke ---------------------------------------------------------------------------------------


def test_smoke_with_tools_and_json_checks_passes_on_demo_ready(
    cli: Cli, ready: str, tmp_path: Path
) -> None:
    path = tmp_path / "smoke.json"
    result = cli("smoke", ready, "--check", "tools", "--check", "json", "--output", str(path))
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in read_json(path)["projects"][0]["checks"]}
    assert set(checks) == {
        "smoke:gpt-oss-120b@global",
        "smoke-tools:gpt-oss-120b@global",
        "smoke-json:gpt-oss-120b@global",
    }
    assert {c["status"] for c in checks.values()} == {"ok"}
    metrics = checks["smoke:gpt-oss-120b@global"]["metrics"]
    assert {"ttft_ms", "first_content_ms", "total_ms", "output_tokens", "tokens_per_s"} <= set(
        metrics
    )
    assert metrics["output_tokens"] > 0


def test_smoke_failure_on_a_model_not_enabled_exits_1(
    cli: Cli, model_off: str, tmp_path: Path
) -> None:
    path = tmp_path / "smoke.json"
    result = cli("smoke", model_off, "--output", str(path))
    assert result.exit_code == 1
    check = read_json(path)["projects"][0]["checks"][0]
    assert check["status"] == "failed" and check["cause"] == "MODEL_NOT_ENABLED"
    assert "enableModel" in check["remedy"] or "model-garden" in check["remedy"]
    assert "MODEL_NOT_ENABLED" in result.stdout


# -- usage errors and refusals -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("audit", DEMO, "--shard", "0/4"), "--shard"),
        (("audit", DEMO, "--shard", "5/4"), "1 <= K <= N"),
        (("plan", DEMO, "--shard", "two"), "K/N"),
        (("audit", "--parent", "projects/12"), "folders/N or organizations/N"),
        (("audit", "--parent", "folders/abc"), "folders/N or organizations/N"),
        (("audit", DEMO, "--label", "team=ml"), "--label and --model only apply with --parent"),
        (("audit", "--parent", "folders/1", "--label", "team"), "KEY=VALUE"),
        (("audit", "--parent", "folders/1", "--model", "gpt-oss-120b@mars"), "--model"),
        (("audit", DEMO, "--parent", "folders/1"), "not both"),
        (("audit",), "give at least one manifest"),
        (("plan",), "give at least one manifest"),
        (("apply", "--yes"), "give at least one manifest"),
        (("smoke",), "MANIFESTS"),
        (("env", "--project", "demo-ready"), "MANIFESTS"),
        (("plan", "no-such-file.yaml"), "no-such-file.yaml"),
    ],
)
def test_usage_errors_exit_1_with_a_clear_message_and_send_nothing(
    cli: Cli, cli_env: Emulator, args: tuple[str, ...], message: str
) -> None:
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert cli_env.journal() == []


@pytest.mark.parametrize(("index", "count"), [("x", "2"), ("2", "2"), ("-1", "2"), ("0", "0")])
def test_bad_cloud_run_variables_are_a_usage_error_not_an_empty_shard(
    cli: Cli, cli_env: Emulator, monkeypatch: pytest.MonkeyPatch, index: str, count: str
) -> None:
    # An index past the count used to select no project and report the shard compliant.
    monkeypatch.setenv("CLOUD_RUN_TASK_COUNT", count)
    monkeypatch.setenv("CLOUD_RUN_TASK_INDEX", index)
    result = cli("audit", DEMO)
    assert result.exit_code == 1, result.output
    assert "CLOUD_RUN_TASK_INDEX" in result.stderr
    assert "Traceback" not in result.output


def test_apply_without_yes_and_without_a_tty_refuses_and_changes_nothing(
    cli: Cli, cli_env: Emulator
) -> None:
    result = cli("apply", DEMO, stdin="y\n")
    assert result.exit_code == 1
    assert "--yes" in result.stderr and "not a terminal" in result.stderr
    assert mutating(cli_env) == []
    assert "Traceback" not in result.output
