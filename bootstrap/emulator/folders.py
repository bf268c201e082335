"""Cloud Resource Manager v3 folders.list: the folders directly under an organization or folder.

Answers as Google does: the caller needs `resourcemanager.folders.list` on the parent (403
PERMISSION_DENIED otherwise), only ACTIVE folders are listed, results are paged.
"""

from __future__ import annotations

from typing import Any

from bootstrap.emulator.calls import Call, Reply, Route, page, page_size
from bootstrap.emulator.state import CRM_DOMAIN, Store
from bootstrap.emulator.world import Folder

LIST = "resourcemanager.folders.list"
API = "cloudresourcemanager"


def folder_json(folder: Folder) -> dict[str, Any]:
    return {
        "name": f"folders/{folder.id}",
        "parent": folder.parent,
        "displayName": folder.display_name,
        "state": "ACTIVE",
        "createTime": "2024-01-01T00:00:00Z",
        "updateTime": "2024-01-01T00:00:00Z",
        "etag": f'W/"{folder.id}"',
    }


def list_folders(store: Store, call: Call) -> Reply:
    parent = call.arg("parent")
    store.require(call.principal, LIST, parent, domain=CRM_DOMAIN)
    children = [f for f in store.world.folders if f.parent == parent]
    items, token = page(
        children,
        size=page_size(call.arg("pageSize"), default=100, maximum=100),
        token=call.arg("pageToken"),
    )
    body: dict[str, Any] = {"folders": [folder_json(f) for f in items]} if items else {}
    if token:
        body["nextPageToken"] = token
    return Reply(body=body)


ROUTES = [Route("GET", r"/v3/folders", list_folders, API)]
