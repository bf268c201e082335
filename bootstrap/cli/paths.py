"""A path argument that must exist: one error for a missing path, whatever the command.

click's own check said "Invalid value for '[MANIFESTS]...': Path 'x' does not exist." and
`validate` said "x:1:1: no such file or directory"; every command now says
"error: x: no such file or directory (check the path)", before any work.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

STDIN = "-"


if TYPE_CHECKING:  # generic in click 8.2+, which type checking uses; plain at run time (8.1)
    _PathParam = click.ParamType[str | Path, Any]
else:
    _PathParam = click.ParamType


class ExistingPath(_PathParam):
    """A path to an existing file (or, with `dir_okay`, a directory); `-` (stdin) only when
    `allow_dash`. Converts to str (or Path); a problem is a usage error naming the path."""

    name = "path"

    def __init__(
        self, *, dir_okay: bool = True, allow_dash: bool = False, as_path: bool = False
    ) -> None:
        self.dir_okay = dir_okay
        self.allow_dash = allow_dash
        self.as_path = as_path  # give the command a pathlib.Path instead of a str

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> str | Path:
        path: str = os.fspath(value)
        if path == STDIN and self.allow_dash:
            return path
        if not os.path.exists(path):
            raise click.UsageError(f"{path}: no such file or directory (check the path)", ctx)
        if not self.dir_okay and os.path.isdir(path):
            raise click.UsageError(f"{path} is a directory; give a file", ctx)
        if not os.access(path, os.R_OK):
            raise click.UsageError(f"{path}: permission denied (cannot read it)", ctx)
        return Path(path) if self.as_path else path
