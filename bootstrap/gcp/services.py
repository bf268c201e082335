"""Service Usage v1: read API states with batchGet, enable with enable/batchEnable and wait.

Reads use one `services.batchGet` per 30 names (its limit). Enabling picks whichever costs less
write quota: a `services.batchEnable` (at most 20 ids, its limit) costs 5 writes, so fewer than 5
services are enabled one `services.enable` each, and 5 or more in batches; with client rate
limits off (`--no-rate-limit`: raised quotas) two or more go in one batch, the fewest requests. The requests are
sent one after the other and their operations then polled together on one schedule; an
"Another activation or deactivation is in progress" answer is re-read and retried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from google.cloud import service_usage_v1

from bootstrap.causes.context import CallContext
from bootstrap.clock import Clock
from bootstrap.cloud.observed import ServiceState
from bootstrap.cloud.protocol import OperationOutcome
from bootstrap.gcp.calls import Caller, reread
from bootstrap.gcp.lenient_operations import get_operation
from bootstrap.gcp.operations import OpState, wait_operations
from bootstrap.gcp.partial import field_mask, raw
from bootstrap.gcp.projects import op_state
from bootstrap.gcp.ratelimit import BATCH_ENABLE_WEIGHT

BATCH_GET_MAX = 30
BATCH_ENABLE_MAX = 20
_READ = "serviceusage.read"
_WRITE = "serviceusage.write"
_ENABLED = service_usage_v1.State.ENABLED
# What batchGet is read for (a partial response, the X-Goog-FieldMask system parameter): each
# service's name and state. Google adds its whole `config` (every API and method, docs, quota and
# monitoring settings), by far most of the answer, which the client would parse for nothing.
_STATE_FIELDS = field_mask("services.name", "services.state")


def chunks(items: Sequence[str], size: int) -> list[list[str]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def enable_requests(
    services: Sequence[str], *, write_quota_limited: bool = True
) -> list[list[str]]:
    """The enable requests for `services`: batches of up to 20, except that under a write quota
    fewer than 5 services (a batch's cost) go one `services.enable` each. Without client rate
    limits (raised quotas) the fewest requests and operations win: one batch for two or more."""
    requests: list[list[str]] = []
    smallest_batch = BATCH_ENABLE_WEIGHT if write_quota_limited else 2
    for chunk in chunks(list(dict.fromkeys(services)), BATCH_ENABLE_MAX):
        if len(chunk) < smallest_batch:
            requests.extend([service] for service in chunk)
        else:
            requests.append(chunk)
    return requests


class Services:
    def __init__(
        self,
        *,
        client: service_usage_v1.ServiceUsageClient,
        caller: Caller,
        clock: Clock,
        operation_deadline_s: float,
        write_quota_limited: bool = True,
    ) -> None:
        self._client = client
        self._caller = caller
        self._clock = clock
        self._operation_deadline_s = operation_deadline_s
        self._write_quota_limited = write_quota_limited

    def get(self, project_id: str, services: Sequence[str]) -> dict[str, ServiceState]:
        """name -> state for each service; a name the server did not return reads DISABLED."""
        states: dict[str, ServiceState] = dict.fromkeys(services, ServiceState.DISABLED)
        context = CallContext(project_id=project_id)
        parent = f"projects/{project_id}"
        for chunk in chunks(list(services), BATCH_GET_MAX):
            request = {"parent": parent, "names": [f"{parent}/services/{s}" for s in chunk]}
            response = self._caller.call(
                "serviceusage.services.batchGet",
                lambda t, r=request: self._client.batch_get_services(  # type: ignore[misc]
                    request=r, retry=None, timeout=t, metadata=_STATE_FIELDS
                ),
                bucket=_READ,
                context=context,
            )
            for service in raw(response.services):
                name = service.name.rpartition("/")[2]
                states[name] = (
                    ServiceState.ENABLED if service.state == _ENABLED else (ServiceState.DISABLED)
                )
        return states

    def enable(self, project_id: str, services: Sequence[str]) -> OperationOutcome:
        """Enable the services and wait for every operation; see the module doc for batching.

        A lost answer is not re-sent blindly: batchGet is read first (up to 3 times, 3 s apart,
        while the operation we could not see finishes), and when every service of the chunk reads
        ENABLED the chunk counts as done. Otherwise it is sent again; an "Another activation ...
        is in progress" answer to that is waited out by the retry loop.
        """
        start = self._clock.now()
        requests = enable_requests(services, write_quota_limited=self._write_quota_limited)
        # Sent one after the other, then waited on together: the operations run side by side.
        firsts = [self._send_enable(project_id, chunk) for chunk in requests]
        waited = wait_operations(
            firsts,
            self._poll(project_id),
            clock=self._clock,
            deadline_s=self._operation_deadline_s,
            what=f"enabling {', '.join(services)} on project {project_id}",
            in_flight=self._caller.in_flight,
        )
        return OperationOutcome(
            names=tuple(first.name for first in firsts if first.name),
            polls=sum(w.polls for w in waited),
            duration_s=self._clock.now() - start,
        )

    def _send_enable(self, project_id: str, chunk: list[str]) -> OpState:
        parent = f"projects/{project_id}"
        context = CallContext(project_id=project_id)

        def read_enabled() -> OpState | None:
            states = self.get(project_id, chunk)
            if all(state is ServiceState.ENABLED for state in states.values()):
                return OpState(name="", done=True, has_response=True)  # no operation: re-read
            return None

        def recover(attempts: int) -> OpState | None:
            return reread(read_enabled, clock=self._clock, attempts=attempts)

        if len(chunk) == 1:
            request: dict[str, object] = {"name": f"{parent}/services/{chunk[0]}"}
            return self._caller.call(
                "serviceusage.services.enable",
                lambda t: op_state(
                    self._client.enable_service(request=request, retry=None, timeout=t).operation
                ),
                bucket=_WRITE,
                context=context,
                recover=recover,
            )
        request = {"parent": parent, "service_ids": chunk}
        return self._caller.call(
            "serviceusage.services.batchEnable",
            lambda t: op_state(
                self._client.batch_enable_services(request=request, retry=None, timeout=t).operation
            ),
            bucket=_WRITE,
            weight=BATCH_ENABLE_WEIGHT,
            context=context,
            recover=recover,
        )

    def _poll(self, project_id: str) -> Callable[[str], OpState]:
        context = CallContext(project_id=project_id)

        def poll(name: str) -> OpState:
            return self._caller.call(
                "serviceusage.operations.get",
                lambda t: op_state(get_operation(self._client, name, t)),
                bucket=_READ,
                context=context,
            )

        return poll
