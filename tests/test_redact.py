"""Redaction: tokens, keys and credential paths never survive; advice and URLs do."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bootstrap.redact import REDACTED, redact, redact_mapping

SECRETS = [
    ("access token", "token ya29.a0AfH6SMBx-y_z.123abc used", "ya29.a0AfH6SMBx"),
    ("refresh token", "refresh 1//0gLxYz-abcdefghijklmnopqrstuv", "1//0gLxYz"),
    ("api key", "key=AIzaSyA1234567890abcdefghijklmnopqrstuv", "AIzaSyA123"),
    ("client secret", "secret GOCSPX-abcDEF123_xyz", "GOCSPX-abc"),
    ("jwt", "assertion eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl", "eyJzdWIiOiIx"),
    (
        "private key",
        '"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n"',
        "MIIEvQIBADANBg",
    ),
    ("rsa key no end", "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc", "MIIEabc"),
    ("auth header", "Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
    ("auth header json", '{"authorization": "Basic dXNlcjpwYXNz"}', "dXNlcjpwYXNz"),
    ("bare bearer", "sent bearer abcdefghijklmnop", "abcdefghijklmnop"),
    ("refresh field", "refresh_token=abcdef123&x=1", "abcdef123"),
    ("credential_source obj", "{'credential_source': {'file': '/var/run/token'}, 'x': 1}", "/var/run/token"),
    ("credential_source str", 'credential_source: "/etc/creds/source.txt"', "/etc/creds/source.txt"),
    ("GAC env", "GOOGLE_APPLICATION_CREDENTIALS=/tmp/sa-key.json", "/tmp/sa-key.json"),
    ("adc file", "File /home/ana/.config/gcloud/application_default_credentials.json was not found", "/home/ana"),
    ("home key", "could not read /Users/bob/keys/project-sa.json", "project-sa.json"),
    ("tilde key", "using ~/sa.json", "~/sa.json"),
    ("windows", r"C:\Users\bob\AppData\Roaming\gcloud\application_default_credentials.json", "bob"),
    ("secrets mount", "/var/run/secrets/google/key.json", "key.json"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "secret"), [s[1:] for s in SECRETS], ids=[s[0] for s in SECRETS])
def test_secrets_are_scrubbed(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert REDACTED in out


@pytest.mark.parametrize(
    "text",
    [
        "gcloud services enable aiplatform.googleapis.com --project=demo",
        'curl -X POST -H "Authorization: Bearer $(gcloud auth print-access-token)" https://x/y:enableModel',
        "https://console.developers.google.com/apis/api/aiplatform.googleapis.com/overview?project=123",
        "manifests/projects.json is a manifest",
        "publishers/openai/models/gpt-oss-120b-maas",
        "Project demo: billing is disabled.",
    ],
)
def test_advice_is_kept(text: str) -> None:
    assert redact(text) == text


def test_redact_mapping() -> None:
    data = {
        "type": "external_account",
        "credential_source": {"file": "/var/run/token", "format": {"type": "text"}},
        "nested": [
            {"private_key": "k", "note": "token ya29.secret_value"},
            ("Bearer abcdefghijkl",),
        ],
        "count": 3,
    }
    out = redact_mapping(data)
    assert out["credential_source"] == REDACTED
    assert out["nested"][0]["private_key"] == REDACTED
    assert "ya29.secret_value" not in out["nested"][0]["note"]
    assert out["nested"][1] == ("Bearer [REDACTED]",)
    assert out["count"] == 3 and out["type"] == "external_account"
    assert data["credential_source"] != REDACTED  # the input is not modified


@given(st.text(max_size=2000))
def test_redact_total(text: str) -> None:
    assert isinstance(redact(text), str)


def test_redact_is_fast_on_long_input() -> None:
    long = "/" + "a" * 50_000 + " " + "x/" * 20_000
    assert isinstance(redact(long), str)
