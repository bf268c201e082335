"""Which projects the inventory may judge (only compliant views), when a plan from one is
re-read directly, and when `--inventory auto` sweeps: pure decisions, no network."""

from __future__ import annotations

from bootstrap.checks import BILLING, Check, CheckStatus, model_check
from bootstrap.cloud.inventory import (
    AUTO_MIN_PROJECTS,
    Inventory,
    InventoryMode,
    InventoryRecord,
    InventorySearch,
)
from bootstrap.cloud.observed import ObservedBilling, ObservedProject, ProjectState
from bootstrap.jobs.inventory import Prefetch, common_scope, metrics, wanted
from bootstrap.manifest.desired import DesiredProject
from bootstrap.plan.model import ProjectPlan
from bootstrap.reconcile.inventory import compliant_view, needs_direct_read

AI = "aiplatform.googleapis.com"
ACCOUNT = "012345-6789AB-CDEF01"


def inventory(
    *,
    state: ProjectState = ProjectState.ACTIVE,
    enabled: frozenset[str] = frozenset({AI}),
    billing: ObservedBilling | None = None,
    labels: dict[str, str] | None = None,
) -> Inventory:
    project = ObservedProject(
        project_id="p-1", state=state, number="1", parent="folders/9", labels=labels or {}
    )
    search = InventorySearch(
        scope="folders/9",
        services=(AI,),
        records={"p-1": InventoryRecord(project=project, enabled=enabled, updated=100.0)},
        read_at=160.0,
    )
    links = {"p-1": billing or ObservedBilling(account=ACCOUNT, enabled=True)}
    return Inventory(search=search, billing=links, accounts=(ACCOUNT,), requests=3)


WANT = DesiredProject(
    project_id="p-1", extra_services=(AI,), billing_account=ACCOUNT, link_billing=True
)


def test_a_compliant_view_stands_in_for_the_three_reads() -> None:
    view = compliant_view(inventory(), WANT)
    assert view is not None and view.services == {AI: "ENABLED"}
    assert view.billing.account == ACCOUNT and view.project.state is ProjectState.ACTIVE


def test_anything_not_compliant_or_not_listed_is_read_directly() -> None:
    closed = ObservedBilling(account=ACCOUNT, enabled=False)
    elsewhere = ObservedBilling(account="0FEDCB-A98765-432101", enabled=True)
    for seen in (
        inventory(state=ProjectState.DELETE_REQUESTED),
        inventory(enabled=frozenset()),
        inventory(billing=closed),
        inventory(billing=elsewhere),
    ):
        assert compliant_view(seen, WANT) is None
    assert compliant_view(inventory(), DesiredProject(project_id="p-2")) is None
    labelled = DesiredProject(project_id="p-1", labels={"env": "prod"})
    assert compliant_view(inventory(labels={"env": "dev"}), labelled) is None
    not_asked = DesiredProject(project_id="p-1", extra_services=("compute.googleapis.com",))
    assert compliant_view(inventory(), not_asked) is None


def test_a_plan_with_a_finding_or_work_is_re_read() -> None:
    ok = ProjectPlan(project_id="p-1", checks=(Check(name=BILLING, status=CheckStatus.OK),))
    unknown = Check(name=model_check("gpt-oss-120b", "global"), status=CheckStatus.UNKNOWN)
    assert not needs_direct_read(ok)
    assert not needs_direct_read(ProjectPlan(project_id="p-1", checks=(unknown,)))
    blocked = Check(name=model_check("gpt-oss-120b", "global"), status=CheckStatus.NOT_RUN)
    assert needs_direct_read(ProjectPlan(project_id="p-1", checks=(blocked,)))


def test_auto_sweeps_only_above_the_threshold_under_one_parent() -> None:
    assert not wanted(InventoryMode.AUTO, AUTO_MIN_PROJECTS)
    assert wanted(InventoryMode.AUTO, AUTO_MIN_PROJECTS + 1)
    assert wanted(InventoryMode.ASSET, 1) and not wanted(InventoryMode.DIRECT, 10_000)
    same = [DesiredProject(project_id=f"p-{i}", parent="folders/9") for i in range(3)]
    assert common_scope(same) == "folders/9"
    assert common_scope([*same, DesiredProject(project_id="q", parent="folders/8")]) is None
    assert common_scope([DesiredProject(project_id="q")]) is None


def test_the_report_says_what_the_inventory_judged_and_how_old_it_can_be() -> None:
    judged = frozenset({"p-1"})
    words = metrics(Prefetch(mode=InventoryMode.ASSET, inventory=inventory()), judged)
    assert words["inventory"] == "asset" and words["inventory_projects"] == 1
    assert words["inventory_stale_at_most_s"] == 60.0
    assert words["inventory_newest_update"] == "1970-01-01T00:01:40Z"
    assert metrics(Prefetch(mode=InventoryMode.ASSET), frozenset()) == {"inventory": "direct"}
    assert metrics(Prefetch(mode=InventoryMode.AUTO), frozenset()) == {}
