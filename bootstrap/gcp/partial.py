"""Reading answers cheaply: ask Google for only the fields a read uses (a partial response), and
read them from the protobuf messages underneath proto-plus.

Most of a read's CPU in the client libraries is parsing the answer and converting each field
proto-plus hands out (docs/benchmarks.md), and Google's answers carry much that bootstrap never
reads: a service's whole config, a QuotaInfo's display names and URIs, an analysed container's
policy bundle.
"""

from __future__ import annotations

from typing import Any


def field_mask(*paths: str) -> tuple[tuple[str, str]]:
    """Call metadata asking for a partial response: the X-Goog-FieldMask system parameter
    (https://cloud.google.com/apis/docs/system-parameters), dotted camelCase paths; a path into
    a repeated field applies to each element. A paged list must name `nextPageToken` too."""
    return (("x-goog-fieldmask", ",".join(paths)),)


def raw(items: Any) -> Any:
    """The protobuf messages under a proto-plus repeated field, read field by field from there:
    proto-plus converts every field it hands out (about half of a 500-result page's CPU)."""
    return items.pb
