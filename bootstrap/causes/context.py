"""What a failed call was about: the one value every classifier and failure builder reads.

`CallContext` names the project, location, model and API of a call so that a failure can say
which project it is about and pick the right remedy (a 404 with a model and location reads as a
model not offered there; a bare 403 from Resource Manager as a missing or forbidden project).
Every field is optional: the classifier works with whatever the caller knows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class CallContext:
    """What a call was about; `bootstrap.gcp` fills in `api` from the method it called."""

    project_id: str | None = None
    location: str | None = None
    publisher_model: str | None = None  # publishers/P/models/M
    as_of: dt.date | None = None  # the day the catalog's lifecycle is read for (default: today)
    api: str | None = None  # the API's host, e.g. cloudresourcemanager.googleapis.com
    # The project's number, when known: Google names the consumer of a SERVICE_DISABLED error by
    # number, and only the number tells the target project from the quota project.
    project_number: str | None = None
    # The IAM member the call ran as (`serviceAccount:EMAIL`) when it is not the caller's own
    # identity: a smoke test run as a workload, or the account a token was requested for.
    principal: str | None = None
