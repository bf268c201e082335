"""The sessions under every client read the environment's proxy and CA settings once per host,
and still honour them (bootstrap.gcp.sessions)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from bootstrap.gcp.sessions import tune_session


def _settings(session: requests.Session, url: str) -> dict[str, Any]:
    return dict(session.merge_environment_settings(url, {}, None, None, None))


def _proxy(settings: dict[str, Any]) -> str | None:
    proxy: str | None = settings["proxies"].get("https")
    return proxy


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> requests.Session:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "direct.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/corp-bundle.pem")
    made = requests.Session()
    tune_session(made, concurrency=4)
    return made


def test_the_environment_proxy_and_ca_bundle_still_apply(session: requests.Session) -> None:
    settings = _settings(session, "https://cloudresourcemanager.googleapis.com/v3/projects/p")
    assert _proxy(settings) == "http://proxy.example:3128"
    assert settings["verify"] == "/etc/ssl/corp-bundle.pem"
    # no_proxy is judged per host
    assert _proxy(_settings(session, "https://direct.example/v1/x")) is None


def test_the_environment_is_read_once_per_host(
    session: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "https://serviceusage.googleapis.com/v1/projects/p/services:batchGet"
    first = _settings(session, url)
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:8080")
    # another path on the same host: remembered, the environment is not scanned again
    again = _settings(session, "https://serviceusage.googleapis.com/v1/operations/op-1")
    assert _proxy(again) == _proxy(first) == "http://proxy.example:3128"
    # a host not seen before reads the environment as it is now
    other = _settings(session, "https://cloudbilling.googleapis.com/v1/projects/p/billingInfo")
    assert _proxy(other) == "http://other.example:8080"


def test_each_request_gets_its_own_proxies(session: requests.Session) -> None:
    url = "https://aiplatform.googleapis.com/v1/projects/p"
    _settings(session, url)["proxies"]["https"] = "changed by one request"
    assert _proxy(_settings(session, url)) == "http://proxy.example:3128"


def test_proxies_given_with_the_request_are_kept_apart(session: requests.Session) -> None:
    url = "https://aiplatform.googleapis.com/v1/projects/p"
    given = dict(
        session.merge_environment_settings(url, {"https": "http://mine:1"}, None, None, None)
    )
    assert _proxy(given) == "http://mine:1"
    assert _proxy(_settings(session, url)) == "http://proxy.example:3128"


def test_a_netrc_entry_never_replaces_the_bearer_token(
    session: requests.Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine aiplatform.googleapis.com login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    request = requests.Request(
        "GET", "https://aiplatform.googleapis.com/v1/x", headers={"Authorization": "Bearer tok"}
    )
    assert session.prepare_request(request).headers["Authorization"] == "Bearer tok"
    plain = requests.Session()  # what the clients' sessions did before
    assert plain.prepare_request(request).headers["Authorization"].startswith("Basic ")
