"""operations.get for Service Usage, read the way Google really answers it.

Google types a Service Usage `:enable` operation's metadata as `google.protobuf.Empty` carrying
`"value": {}` (recorded against real GCP: GoogleCloudPlatform/k8s-config-connector,
`mockgcp/mockserviceusage/testdata/service/crud/_http.log`). The GAPIC `get_operation` mixin
parses strictly and raises `ParseError` on that field, although the service's own methods ignore
unknown fields. So the GET goes through the client's own REST transport (its authorized session
and host) and is parsed as the service's methods parse; an error answer becomes the same
google-api-core exception the mixin raises, with the credential info the mixin adds.
"""

from __future__ import annotations

from typing import Any

from google.api_core import exceptions as core_exceptions
from google.longrunning import operations_pb2
from google.protobuf import json_format


def get_operation(client: Any, name: str, timeout: float) -> operations_pb2.Operation:
    transport = client._transport  # private, but the one place that knows session and host
    response = transport._session.get(f"{transport._host}/v1/{name}", timeout=timeout)
    if response.status_code >= 400:
        error = core_exceptions.from_http_response(response)  # type: ignore[no-untyped-call]
        add_cred_info = getattr(client, "_add_cred_info_for_auth_errors", None)
        if callable(add_cred_info):
            add_cred_info(error)
        raise error
    return json_format.Parse(
        response.content, operations_pb2.Operation(), ignore_unknown_fields=True
    )
