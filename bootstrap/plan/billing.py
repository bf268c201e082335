"""The planner's billing step: the `billing` check and maybe `link_billing`.

A project linked to a closed account X (billingEnabled false) while the manifest names an open
account Y is a relink: drift for a person unless `--allow-relink`.
"""

from __future__ import annotations

from bootstrap import remedies
from bootstrap.checks import BILLING, CheckStatus
from bootstrap.cloud.observed import ObservedBilling
from bootstrap.errors import Cause
from bootstrap.plan.draft import Draft, unreadable
from bootstrap.plan.model import Action, Change


def plan_billing_step(d: Draft) -> None:
    billing = ObservedBilling(account=None, enabled=False) if d.creating else d.observed.billing
    if billing is None:
        unreadable(d, BILLING, "billing could not be read", remedies.billing_console(d.pid))
        return
    wanted = d.desired.billing_account
    if billing.enabled:
        d.billing_on = True
        current = billing.account
        if d.desired.link_billing and wanted and current is not None and current != wanted:
            _linked_elsewhere(d, current, closed=False)
        else:
            d.check(BILLING, CheckStatus.OK, f"Project {d.pid}: billing is enabled.")
        return
    if not d.desired.link_billing:
        d.check(
            BILLING,
            CheckStatus.ACTION_REQUIRED,
            f"Project {d.pid} has no active billing and the manifest does not say link_billing: true.",
            cause=Cause.BILLING_DISABLED,
            remedy=remedies.link_billing(d.pid, wanted),
        )
        return
    _link_when_off(d, billing, wanted)


def _link_when_off(d: Draft, billing: ObservedBilling, wanted: str | None) -> None:
    if not wanted:  # the loader rejects this; never plan a link with an empty account
        d.check(
            BILLING,
            CheckStatus.FAILED,
            f"Project {d.pid}: link_billing is true but no billing_account is given.",
            cause=Cause.INVALID_INPUT,
            remedy="Set billing_account: 012345-6789AB-CDEF01 in the manifest.",
        )
        return
    info = d.observed.billing_account
    if billing.account == wanted or (info is not None and not info.open):
        d.check(
            BILLING,
            CheckStatus.FAILED,
            f"Project {d.pid}: billing account {wanted} is closed; linking it would leave billing "
            "off, so nothing is sent.",
            cause=Cause.BILLING_ACCOUNT_CLOSED,
            remedy=f"Reopen {wanted} or name an open account: {remedies.billing_console(d.pid)}",
        )
        return
    if billing.account is not None:  # linked to another (closed) account: a relink
        _linked_elsewhere(d, billing.account, closed=True)
        return
    _add_link(d, wanted, relink=False, reason=f"Project {d.pid} has no billing account.")


def _linked_elsewhere(d: Draft, current: str, *, closed: bool) -> None:
    wanted = d.desired.billing_account
    assert wanted
    state = "closed account" if closed else "account"
    info = d.observed.billing_account
    # Relinking an enabled project to an account not known to be open could switch billing off.
    safe = closed or (info is not None and info.open)
    if d.allow_relink and safe:
        _add_link(
            d,
            wanted,
            relink=True,
            reason=f"Project {d.pid} is linked to {state} {current}; --allow-relink moves it to {wanted}.",
        )
        return
    why = "" if d.allow_relink else " Rerun with --allow-relink to move it."
    if d.allow_relink and not safe:
        why = f" Not relinked: {wanted} could not be confirmed open."
    d.check(
        BILLING,
        CheckStatus.ACTION_REQUIRED,
        f"Project {d.pid} is linked to {state} {current}, not {wanted}.{why}",
        cause=Cause.BILLING_LINKED_ELSEWHERE,
        remedy=remedies.link_billing(d.pid, wanted),
    )


def _add_link(d: Draft, account: str, *, relink: bool, reason: str) -> None:
    d.changes.append(
        Change(
            action=Action.LINK_BILLING,
            target=f"billingAccounts/{account}",
            reason=reason,
            project_id=d.pid,
            billing_account=account,
            relink=relink,
        )
    )
    d.billing_on = True
    d.fixes_blockers = True
    d.pending(
        BILLING,
        finding=f"{reason} apply links it to {account}.",
        change=f"{reason} It will be linked to {account}.",
    )
