"""The HTTP sessions under every client: pool size, no hidden retries, the environment read once.

Every request of a run goes through a `requests.Session` (the GAPIC REST transports' and the
Vertex AI `AuthorizedSession`). Left as they are, those sessions retry on their own (urllib3) and
refresh on a 401 (google-auth), which our retry loop owns, and re-read the environment on every
request: the proxy variables (all of `os.environ`, scanned twice), the CA bundle variables and
`~/.netrc`. That re-reading was a quarter of the CLI's CPU in a 7,000-request audit (yappi,
scenario 1). Here the proxies and the CA bundle are read once per scheme and host, and `.netrc`
never: a `.netrc` entry for a Google host would replace the bearer token with Basic auth.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests.adapters
from google.auth.transport.requests import AuthorizedSession
from requests.utils import get_environ_proxies

# requests' own signature (typed in its stubs with a TypedDict); ours takes and gives the same.
MergeSettings = Callable[..., Any]

# Every tuned session's adapter, for `_drop_connections` in a forked worker.
_ADAPTERS: weakref.WeakSet[requests.adapters.HTTPAdapter] = weakref.WeakSet()


def _drop_connections() -> None:
    """In a forked child: forget the connections the parent opened. Two processes writing
    requests on one socket would interleave them; closing the child's copy of each descriptor
    leaves the parent's open."""
    for adapter in list(_ADAPTERS):
        adapter.poolmanager.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_connections)


def tune_session(session: requests.Session, concurrency: int) -> None:
    """Pool sized to the concurrency, no urllib3 retries, no silent 401 refresh (ours do both),
    the environment's proxy and CA settings read once per scheme and host, no `.netrc`."""
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=4, pool_maxsize=max(1, concurrency), max_retries=0
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    _ADAPTERS.add(adapter)
    if isinstance(session, AuthorizedSession):
        session._refresh_status_codes = ()
    # requests' own reading of the environment is off; `environment_once` does it instead.
    session.trust_env = False
    session.merge_environment_settings = environment_once(  # type: ignore[method-assign]
        session.merge_environment_settings
    )


def environment_once(merge: MergeSettings) -> MergeSettings:
    """`merge` (requests' `Session.merge_environment_settings` of a session that does not trust
    the environment) with what requests would take from the environment added, remembered per
    scheme, host and arguments. The environment does not change during a run, and what requests
    takes from it depends only on those: which proxy (by scheme, `no_proxy` by host) and which
    CA bundle (requests 2.x's own rules, below)."""
    remembered: dict[tuple[Any, ...], dict[str, Any]] = {}

    def merged(url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, _frozen(proxies), stream, _frozen(verify), _frozen(cert))
        settings = remembered.get(key)
        if settings is None:
            given = dict(proxies or {})
            for scheme, proxy in get_environ_proxies(url, no_proxy=given.get("no_proxy")).items():
                given.setdefault(scheme, proxy)
            if verify is True or verify is None:
                bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
                verify = bundle or verify
            settings = remembered[key] = dict(merge(url, given, stream, verify, cert))
        # A copy: requests hands the proxies on to the adapter, which must not share ours.
        return {**settings, "proxies": dict(settings["proxies"] or {})}

    return merged


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted(value.items()))
    if isinstance(value, list):
        return tuple(value)
    return value
