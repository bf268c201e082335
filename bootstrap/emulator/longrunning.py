"""The google.longrunning.Operation envelope every API here answers with: name and metadata,
then, once done, either the error or the response. Each API fills in its own metadata and
response; this module only owns the shape they share, so it imports no API module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bootstrap.emulator.world import Project


def operation_body(
    op: dict[str, Any],
    project: Project | None,
    metadata: dict[str, Any],
    response: Callable[[Project], dict[str, Any]],
) -> dict[str, Any]:
    """`response` is called only for a done, error-free operation whose project still exists."""
    body: dict[str, Any] = {"name": op["name"], "metadata": metadata}
    if not op["done"]:
        return body
    body["done"] = True
    if op["error"]:
        body["error"] = op["error"]
    elif project is None:
        body["error"] = {"code": 5, "message": "The project no longer exists."}
    else:
        body["response"] = response(project)
    return body
