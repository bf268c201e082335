"""folders.list through the GAPIC REST client against the emulator: children, pages, 403."""

from __future__ import annotations

import pytest

from bootstrap.emulator.inprocess import Emulator
from bootstrap.errors import BootstrapError, Cause
from bootstrap.gcp.client import GcpCloud


def test_folders_list_names_the_direct_children_only(cloud: GcpCloud) -> None:
    assert cloud.list_folders("organizations/123456789012") == ["folders/345678901234"]
    assert cloud.list_folders("folders/345678901234") == ["folders/456789012345"]
    assert cloud.list_folders("folders/456789012345") == []


def test_every_page_is_read(cloud: GcpCloud, emulator: Emulator) -> None:
    world = emulator.get_world()
    world["folders"] += [
        {"id": f"9{i:011d}", "parent": "folders/456789012345", "display_name": f"f{i}"}
        for i in range(250)
    ]
    emulator.put_world(world)
    assert len(cloud.list_folders("folders/456789012345")) == 250
    pages = [e for e in emulator.journal() if e["path"] == "/v3/folders"]
    assert len(pages) == 3  # at most 100 a page


def test_a_parent_the_caller_cannot_list_is_permission_denied(
    cloud: GcpCloud, emulator: Emulator
) -> None:
    world = emulator.get_world()
    for principal in world["principals"]:
        principal["grants"] = {"*": ["resourcemanager.projects.get"]}
    emulator.put_world(world)
    with pytest.raises(BootstrapError) as raised:
        cloud.list_folders("folders/345678901234")
    assert raised.value.failure.cause is Cause.PERMISSION_DENIED
