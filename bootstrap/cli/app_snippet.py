"""What `bootstrap env` tells an application about credentials, in each output format.

An application must not run on a token printed once (`gcloud auth print-access-token` lives
about an hour, then every call is 401 ACCESS_TOKEN_EXPIRED): it should get tokens from
Application Default Credentials (a service account, Workload Identity, `gcloud auth
application-default login`) and refresh them. `--format python` prints a runnable snippet that
does exactly that (tests/cli/test_cli_env_python.py runs it across a token's expiry).
"""

from __future__ import annotations

import json

# Said once, in every format: how the application gets tokens.
AUTH_HOW = (
    "OPENAI_API_KEY must be a Google OAuth access token. Get it from Application Default "
    "Credentials in the application (a service account or Workload Identity in production, "
    "`gcloud auth application-default login` on a workstation) and refresh it before it "
    "expires: `bootstrap env ... --format python` prints a client that does."
)
# The shortcut, only ever shown commented out: a fixed token stops working after about an hour.
ONE_HOUR_SHORTCUT = "OPENAI_API_KEY=$(gcloud auth print-access-token)"

SNIPPET = '''\
"""Call {model} on Vertex AI with the openai SDK (printed by `bootstrap env --format python`).

Tokens come from Application Default Credentials (a service account or Workload Identity in
production, `gcloud auth application-default login` on a workstation) and are refreshed before
they expire, so a long-running process keeps working. Pass other google-auth credentials to
make_client() to use them instead.
"""

import threading

import google.auth
import google.auth.transport.requests
import httpx
import openai

BASE_URL = {base_url}
MODEL = {model}
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


class GoogleAuth(httpx.Auth):
    """A fresh Google access token on every request, refreshed before expiry and on a 401."""

    def __init__(self, credentials=None):
        self.credentials = credentials or google.auth.default(scopes=SCOPES)[0]
        self.lock = threading.Lock()

    def token(self, force=False):
        with self.lock:
            if force or not self.credentials.valid:
                self.credentials.refresh(google.auth.transport.requests.Request())
            return self.credentials.token

    def auth_flow(self, request):
        request.headers["Authorization"] = f"Bearer {{self.token()}}"
        response = yield request
        if response.status_code == 401:  # expired early (clock skew, revoked): once more
            request.headers["Authorization"] = f"Bearer {{self.token(force=True)}}"
            yield request


def make_client(credentials=None):
    auth = GoogleAuth(credentials)
    return openai.OpenAI(base_url=BASE_URL, api_key="google-auth", http_client=httpx.Client(auth=auth))


if __name__ == "__main__":
    stream = make_client().chat.completions.create(
        model=MODEL, messages=[{{"role": "user", "content": "Say hello."}}], stream=True
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            print(chunk.choices[0].delta.content, end="", flush=True)
    print()
'''


def python_snippet(values: dict[str, str]) -> str:
    """The snippet for one project, model and location (values are JSON-quoted literals)."""
    return SNIPPET.format(
        base_url=json.dumps(values["OPENAI_BASE_URL"]), model=json.dumps(values["OPENAI_MODEL"])
    )


def comment_lines() -> str:
    """The `#` lines that head dotenv and shell output (both formats allow comments)."""
    return (
        f"# {AUTH_HOW}\n# One-hour shortcut for a quick manual try only:\n# {ONE_HOUR_SHORTCUT}\n"
    )
