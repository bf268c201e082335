"""Cloud access: the only package that imports google.*; implements `bootstrap.cloud.protocol.Cloud`.

`connect(settings)` gives a `GcpCloud` built on the official GAPIC clients (REST transport) for
Resource Manager v3, Service Usage v1 and Cloud Billing v1, and on google-auth's
`AuthorizedSession` for Vertex AI. Retries, rate limits, concurrency and operation polling are
ours (`retry`, `ratelimit`, `calls`, `operations`); every google exception is translated at this
boundary into `BootstrapError(Failure)`.
"""
