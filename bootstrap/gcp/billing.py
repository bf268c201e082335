"""Cloud Billing v1: a project's billing info, a billing account, linking, and the permission test.

Linking is additive only: an empty account name would unlink billing, so it is refused before
any request. `billingEnabled` is true only when the linked account is open, which is what the
planner needs to tell "linked to a closed account" from "billing works".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from google.cloud import billing_v1

from bootstrap.causes.context import CallContext
from bootstrap.clock import Clock
from bootstrap.cloud.observed import BillingAccountInfo, ObservedBilling
from bootstrap.errors import BootstrapError, Cause, Disposition, Failure
from bootstrap.gcp.calls import Caller, reread

_READ = "cloudbilling.read"
_WRITE = "cloudbilling.write"
_PREFIX = "billingAccounts/"


def account_id(name: str) -> str:
    """`billingAccounts/X` -> `X` (and `X` -> `X`)."""
    return name.removeprefix(_PREFIX)


def observed_billing(info: Any) -> ObservedBilling:
    name = info.billing_account_name
    return ObservedBilling(account=account_id(name) if name else None, enabled=info.billing_enabled)


class Billing:
    def __init__(
        self, *, client: billing_v1.CloudBillingClient, caller: Caller, clock: Clock
    ) -> None:
        self._client = client
        self._caller = caller
        self._clock = clock

    def get(self, project_id: str) -> ObservedBilling:
        info = self._caller.call(
            "cloudbilling.projects.getBillingInfo",
            lambda t: self._client.get_project_billing_info(
                name=f"projects/{project_id}", retry=None, timeout=t
            ),
            bucket=_READ,
            context=CallContext(project_id=project_id),
        )
        return observed_billing(info)

    def get_account(self, account: str) -> BillingAccountInfo:
        ident = account_id(account)
        info = self._caller.call(
            "cloudbilling.billingAccounts.get",
            lambda t: self._client.get_billing_account(
                name=f"{_PREFIX}{ident}", retry=None, timeout=t
            ),
            bucket=_READ,
            context=CallContext(),
        )
        return BillingAccountInfo(
            account_id=account_id(info.name) or ident,
            open=bool(info.open_),
            display_name=info.display_name,
        )

    def link(self, project_id: str, account: str) -> ObservedBilling:
        """Link the project to `account` (PUT billingInfo).

        When the answer is lost (reset or timeout after sending), getBillingInfo is read before
        anything is sent again (up to 3 times, 3 s apart, since the link takes a moment to show):
        if the project is already on `account`, that is the answer; only otherwise is it re-sent.
        """
        ident = account_id(account).strip()
        if not ident:
            raise BootstrapError(_unlinking_refused(project_id))
        body = billing_v1.ProjectBillingInfo(billing_account_name=f"{_PREFIX}{ident}")
        return self._caller.call(
            "cloudbilling.projects.updateBillingInfo",
            lambda t: observed_billing(
                self._client.update_project_billing_info(
                    name=f"projects/{project_id}",
                    project_billing_info=body,
                    retry=None,
                    timeout=t,
                )
            ),
            bucket=_WRITE,
            context=CallContext(project_id=project_id),
            recover=self._recover_link(project_id, ident),
        )

    def _recover_link(self, project_id: str, ident: str) -> Callable[[int], ObservedBilling | None]:
        """After a lost answer: the billing info once it shows the project on `ident`, else None."""

        def read_link() -> ObservedBilling | None:
            current = self.get(project_id)
            return current if current.account == ident else None

        def recover(attempts: int) -> ObservedBilling | None:
            return reread(read_link, clock=self._clock, attempts=attempts)

        return recover

    def test_permissions(self, account: str, permissions: Sequence[str]) -> frozenset[str]:
        """The subset held on the billing account; empty on 403 (missing or no access)."""
        request = {"resource": f"{_PREFIX}{account_id(account)}", "permissions": list(permissions)}
        try:
            response = self._caller.call(
                "cloudbilling.billingAccounts.testIamPermissions",
                lambda t: self._client.test_iam_permissions(request=request, retry=None, timeout=t),
                bucket=_READ,
                context=CallContext(),
            )
        except BootstrapError as err:
            if err.failure.http_status in (403, 404):
                return frozenset()
            raise
        return frozenset(response.permissions)


def _unlinking_refused(project_id: str) -> Failure:
    return Failure(
        cause=Cause.INVALID_INPUT,
        message=(
            f"refusing to link project {project_id} to an empty billing account: "
            "that would unlink billing"
        ),
        remedy="set billing_account in the manifest",
        disposition=Disposition.FIX_INPUT,
    )
