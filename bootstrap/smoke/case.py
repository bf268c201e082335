"""One smoke case: one model in one location of one project, and the key its checks are named by."""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.checks import target_key


@dataclass(frozen=True)
class SmokeCase:
    """One model in one location of one project."""

    project_id: str
    alias: str
    request_model: str  # openai/gpt-oss-120b-maas
    publisher_model: str  # publishers/openai/models/gpt-oss-120b-maas
    location: str
    # The IAM member the stream runs as (`serviceAccount:EMAIL`, a token minted for it); None:
    # the run's own credentials.
    run_as: str | None = None

    @property
    def key(self) -> str:
        return target_key(self.alias, self.location)
