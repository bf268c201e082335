"""An offline emulator of the Google Cloud REST APIs bootstrap calls (Resource Manager, Service
Usage, Cloud Billing, Vertex Model Garden and the OpenAI-compatible chat route), with scripted
faults. An island: it imports nothing from the rest of bootstrap. See docs/emulator.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bootstrap.emulator.inprocess import Emulator

__all__ = ["Emulator"]


def __getattr__(name: str) -> Any:
    # Lazy, so importing the package (e.g. for the CLI's help) does not load uvicorn.
    if name == "Emulator":
        from bootstrap.emulator.inprocess import Emulator

        return Emulator
    raise AttributeError(name)
