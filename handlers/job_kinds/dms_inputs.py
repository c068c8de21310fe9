"""The DMS variants' input: a replication task or a DMS Serverless replication, told apart by its ARN's field.

``{"ReplicationTaskArn", "StartReplicationTaskType"}`` waits on a task; ``{"ReplicationConfigArn",
"StartReplicationType"}`` on a serverless replication. Exactly one ARN is given; everything is checked before any AWS
call. The request carries its kind's field names, so the result reports the work under the field it came in.
"""

from __future__ import annotations

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_serverless.rules import CONFIG_ARN_FIELD, parse_replication_request
from job_kinds.dms_serverless.work import dms_replication_work
from job_kinds.dms_task.rules import TASK_ARN_FIELD, parse_task_request
from job_kinds.dms_task.work import dms_task_work
from waiting.domain import WorkRequest
from waiting.errors import InvalidInputError
from waiting.work_start import WaitedWork


def parse_dms_request(event: object) -> WorkRequest:
    """The task input or the serverless input, whichever ARN the event names; errors name the fields."""
    if not isinstance(event, dict):
        raise InvalidInputError(f"input must be a JSON object, got {type(event).__name__}")
    task, config = TASK_ARN_FIELD in event, CONFIG_ARN_FIELD in event
    if task and config:
        raise InvalidInputError(
            f"give exactly one of {TASK_ARN_FIELD} (a DMS replication task) or {CONFIG_ARN_FIELD} "
            "(a DMS Serverless replication), not both"
        )
    if not task and not config:
        # Worded as before DMS Serverless joined ("ReplicationTaskArn is required"): callers match on it.
        raise InvalidInputError(
            f"{TASK_ARN_FIELD} is required (a DMS replication task), or {CONFIG_ARN_FIELD} instead "
            "(a DMS Serverless replication): give exactly one"
        )
    return parse_task_request(event) if task else parse_replication_request(event)


def dms_work_for(request: WorkRequest, gateway: DmsGateway) -> WaitedWork:
    """The work the request names: a serverless replication for a ReplicationConfigArn, a task otherwise."""
    if request.key_field == CONFIG_ARN_FIELD:
        return dms_replication_work(gateway)
    return dms_task_work(gateway)


def dms_input(event: object) -> tuple[WorkRequest, WaitedWork]:
    """The durable functions' input: the request, and the DMS work it names (its client is made lazily)."""
    request = parse_dms_request(event)
    return request, dms_work_for(request, DmsGateway())
