"""Partial responses: the `X-Goog-FieldMask` system parameter every Google REST API takes
(https://cloud.google.com/apis/docs/system-parameters): the answer keeps only the fields the
mask names. A mask is a FieldMask in its JSON form, comma-separated dotted paths of camelCase
names (`governedContainers.fullResourceName,nextPageToken`); a path into a repeated field
applies to each element, and a path that ends at a field keeps the whole of it. A page token
the mask leaves out is left out: the caller asked for that.
"""

from __future__ import annotations

from typing import Any

FieldTree = dict[str, "FieldTree"]  # name -> the fields kept under it ({}: all of it)


def parse(mask: str) -> FieldTree:
    tree: FieldTree = {}
    for path in filter(None, (p.strip() for p in mask.split(","))):
        node = tree
        names = path.split(".")
        for depth, name in enumerate(names):
            last = depth == len(names) - 1
            if name in node and not node[name]:
                break  # an earlier path keeps the whole field already
            node = node.setdefault(name, {})
            if last:
                node.clear()
    return tree


def apply(value: Any, tree: FieldTree) -> Any:
    """`value` (a decoded JSON answer) with only the fields `tree` keeps."""
    if not tree:
        return value
    if isinstance(value, list):
        return [apply(item, tree) for item in value]
    if isinstance(value, dict):
        return {name: apply(value[name], tree[name]) for name in value if name in tree}
    return value
