"""When a project may be judged from the prefetched inventory instead of its own reads.

Only a compliant view is trusted: the project listed and ACTIVE with the wanted display name and
labels, linked to a billing account (the manifest's, when it links billing) with billing enabled,
and every wanted service ENABLED. Anything else, or a project the inventory does not list, is
read directly, so a finding never rests on inventory data, which may lag by minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap.checks import ACCESS_PREFIX, PASSED, CheckStatus
from bootstrap.cloud.inventory import Inventory
from bootstrap.cloud.observed import ObservedBilling, ObservedProject, ProjectState, ServiceState
from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.model import ProjectPlan

# A plan from an inventory view with any other status is re-read directly before it is reported.
# UNKNOWN and SKIPPED are not evidence of drift (e.g. --no-probe leaves every model unknown).
TRUSTED = PASSED | {CheckStatus.UNKNOWN, CheckStatus.SKIPPED}


@dataclass(frozen=True, slots=True, kw_only=True)
class InventoryView:
    """The three reads an inventory answers for one project."""

    project: ObservedProject
    billing: ObservedBilling
    services: dict[str, ServiceState]


def compliant_view(inventory: Inventory, desired: DesiredProject) -> InventoryView | None:
    """The inventory's view of the project when it is compliant; None: read it directly."""
    record = inventory.search.records.get(desired.project_id)
    if record is None or record.project.state is not ProjectState.ACTIVE:
        return None
    project = record.project
    if desired.display_name is not None and project.display_name != desired.display_name:
        return None
    if any(project.labels.get(key) != value for key, value in desired.labels.items()):
        return None
    asked = set(inventory.search.services)
    if any(s not in asked or s not in record.enabled for s in desired.services):
        return None
    billing = inventory.billing.get(desired.project_id)
    if billing is None or not billing.enabled:
        return None
    wanted = desired.billing_account
    if desired.link_billing and wanted and billing.account != wanted:
        return None
    services = {s: ServiceState.ENABLED for s in desired.services}
    return InventoryView(project=project, billing=billing, services=services)


def needs_direct_read(plan: ProjectPlan) -> bool:
    """A plan made from an inventory view that has work or a finding: the other reads (the
    probe, the policies) saw something the inventory may not show yet. A principal's access the
    (searched) IAM policy could not prove counts too: the project's own policy may prove it."""
    return bool(plan.changes) or any(
        c.status not in TRUSTED or (c.name.startswith(ACCESS_PREFIX) and c.status not in PASSED)
        for c in plan.checks
    )
