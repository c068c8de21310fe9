"""DMS Serverless replication events from EventBridge, parsed at the edge into a typed value (errors name the field).

DMS sends ``DMS Replication State Change`` for a serverless replication (EventBridge reference, "AWS Database
Migration Service events"); as captured on AWS it carries the replication config's ARN in ``resources[0]`` (none in
``detail``), ``detail.type`` ``REPLICATION_CONFIG`` and ``detail.eventType`` such as ``REPLICATION_INITIALIZING``,
``REPLICATION_STOPPED`` or ``REPLICATION_FAILED``; no event id, no stop reason, no failure message (only
DescribeReplications tells a finished load from a stop, and gives the FailureMessages). The internal task's
``DMS Replication Task State Change`` events that DMS sends alongside are a task's (``dms_task_events``): nobody waits
on that task, so they end as "no waiting execution".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_serverless.rules import parse_replication_config_arn
from waiting.errors import InvalidDmsEventError, InvalidInputError
from waiting.work_events import EventSource, WorkEvent

DMS_SOURCE = "aws.dms"
REPLICATION_STATE_CHANGE = "DMS Replication State Change"
TERMINAL_EVENT_TYPES = frozenset({"REPLICATION_STOPPED", "REPLICATION_FAILED"})


@dataclass(frozen=True)
class DmsReplicationEvent:
    """One serverless replication state change, as much of it as the completer needs."""

    replication_config_arn: str
    event_type: str
    detail_message: str | None
    time: str | None

    @property
    def is_terminal(self) -> bool:
        """Whether the event says the replication stopped or failed (the completer re-reads DMS before it believes
        it)."""
        return self.event_type in TERMINAL_EVENT_TYPES


def _optional_text(detail: dict[str, object], field: str) -> str | None:
    value = detail.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidDmsEventError(f"detail.{field} must be a string, got {type(value).__name__}")
    return value


def parse_dms_replication_event(raw: object) -> DmsReplicationEvent:
    """Validate an EventBridge event from DMS; anything that is not a replication state change is malformed here."""
    if not isinstance(raw, dict):
        raise InvalidDmsEventError(f"the event must be a JSON object, got {type(raw).__name__}")
    event = EventBridgeEvent(raw)
    if event.get("source") != DMS_SOURCE:
        raise InvalidDmsEventError(f"source must be {DMS_SOURCE!r}, got {event.get('source')!r}")
    if event.get("detail-type") != REPLICATION_STATE_CHANGE:
        raise InvalidDmsEventError(
            f"detail-type must be {REPLICATION_STATE_CHANGE!r}, got {event.get('detail-type')!r}"
        )
    resources = event.get("resources")
    if not isinstance(resources, list) or not resources:
        raise InvalidDmsEventError("resources must be a non-empty list holding the replication config ARN")
    try:
        config_arn = parse_replication_config_arn(resources[0], field="resources[0]")
    except InvalidInputError as err:
        raise InvalidDmsEventError(str(err)) from None
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidDmsEventError(f"detail must be a JSON object, got {type(detail).__name__}")
    event_type = _optional_text(detail, "eventType")
    if not event_type:
        raise InvalidDmsEventError("detail.eventType is required")
    time = event.get("time")
    return DmsReplicationEvent(
        replication_config_arn=config_arn,
        event_type=event_type,
        detail_message=_optional_text(detail, "detailMessage"),
        time=time if isinstance(time, str) else None,
    )


def dms_replication_events(gateway: DmsGateway) -> EventSource:
    """The completer's port for serverless replications: their EventBridge events, read back through DMS."""
    return EventSource(DMS_SOURCE, REPLICATION_STATE_CHANGE, _work_event, gateway.describe_replication)


def _work_event(raw: dict[str, Any]) -> WorkEvent:
    event = parse_dms_replication_event(raw)
    return WorkEvent(key=event.replication_config_arn, is_terminal=event.is_terminal, event_type=event.event_type)
