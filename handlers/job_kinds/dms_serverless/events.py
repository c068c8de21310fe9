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

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_serverless.rules import parse_replication_config_arn
from job_kinds.dms_task.events import DMS_SOURCE, optional_detail_text, parse_dms_envelope
from waiting.errors import InvalidDmsEventError
from waiting.work_events import EventSource, WorkEvent

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


def parse_dms_replication_event(raw: object) -> DmsReplicationEvent:
    """Validate an EventBridge event from DMS; anything that is not a replication state change is malformed here."""
    config_arn, detail, time = parse_dms_envelope(
        raw, REPLICATION_STATE_CHANGE, parse_replication_config_arn, "replication config"
    )
    event_type = optional_detail_text(detail, "eventType")
    if not event_type:
        raise InvalidDmsEventError("detail.eventType is required")
    return DmsReplicationEvent(
        replication_config_arn=config_arn,
        event_type=event_type,
        detail_message=optional_detail_text(detail, "detailMessage"),
        time=time,
    )


def dms_replication_events(gateway: DmsGateway) -> EventSource:
    """The completer's port for serverless replications: their EventBridge events, read back through DMS."""
    return EventSource(DMS_SOURCE, REPLICATION_STATE_CHANGE, _work_event, gateway.describe_replication)


def _work_event(raw: dict[str, Any]) -> WorkEvent:
    event = parse_dms_replication_event(raw)
    return WorkEvent(key=event.replication_config_arn, is_terminal=event.is_terminal, event_type=event.event_type)
