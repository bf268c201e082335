"""Cloud access: the only package that imports google.*; implements `bootstrap.cloud.Cloud`.

`connect(settings)` gives a `GcpCloud` built on the official GAPIC clients (REST transport) for
Resource Manager v3, Service Usage v1 and Cloud Billing v1, and on google-auth's
`AuthorizedSession` for Vertex AI. Retries, rate limits, concurrency and operation polling are
ours (`retry`, `ratelimit`, `calls`, `operations`); every google exception is translated at this
boundary into `BootstrapError(Failure)`.
"""

from bootstrap.gcp.client import GcpCloud, connect
from bootstrap.gcp.operations import OperationInterrupted
from bootstrap.gcp.ratelimit import DEFAULT_RATE_LIMITS, parse_rate_limit
from bootstrap.gcp.settings import CloudSettings, settings_from_env

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "CloudSettings",
    "GcpCloud",
    "OperationInterrupted",
    "connect",
    "parse_rate_limit",
    "settings_from_env",
]
