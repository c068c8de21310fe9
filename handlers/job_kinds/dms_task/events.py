"""DMS replication task events from EventBridge, parsed at the edge into a typed value (errors name the field).

Two shapes are seen in the wild: the documentation's example names the event ``detail.eventName`` and captured
events name it ``detail.eventId`` (``DMS-EVENT-0079`` stopped, ``DMS-EVENT-0078`` failed); both carry
``detail.eventType``. Either the type or the id is enough to tell a terminal event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_task.rules import parse_replication_task_arn
from waiting.errors import InvalidDmsEventError, InvalidInputError
from waiting.work_events import EventSource, WorkEvent

DMS_SOURCE = "aws.dms"
TASK_STATE_CHANGE = "DMS Replication Task State Change"
TERMINAL_EVENT_TYPES = frozenset({"REPLICATION_TASK_STOPPED", "REPLICATION_TASK_FAILED"})
TERMINAL_EVENT_IDS = frozenset({"DMS-EVENT-0079", "DMS-EVENT-0078"})


@dataclass(frozen=True)
class DmsTaskEvent:
    """One replication task state change, as much of it as the completer needs."""

    replication_task_arn: str
    event_type: str | None
    event_id: str | None
    detail_message: str | None
    time: str | None

    @property
    def is_terminal(self) -> bool:
        """Whether the event says the task stopped or failed (the completer re-reads DMS before it believes it)."""
        return self.event_type in TERMINAL_EVENT_TYPES or self.event_id in TERMINAL_EVENT_IDS


def optional_detail_text(detail: dict[str, Any], field: str) -> str | None:
    """``detail.<field>``: absent, or a string (anything else is malformed, naming the field)."""
    value = detail.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidDmsEventError(f"detail.{field} must be a string, got {type(value).__name__}")
    return value


def parse_dms_envelope(
    raw: object, detail_type: str, parse_arn: Callable[..., str], what: str
) -> tuple[str, dict[str, Any], str | None]:
    """The EventBridge envelope DMS sends for tasks and serverless replications alike: its source and detail-type,
    the work's ARN in ``resources[0]`` (read by ``parse_arn``), the ``detail`` object and the ``time``."""
    if not isinstance(raw, dict):
        raise InvalidDmsEventError(f"the event must be a JSON object, got {type(raw).__name__}")
    event = EventBridgeEvent(raw)
    if event.get("source") != DMS_SOURCE:
        raise InvalidDmsEventError(f"source must be {DMS_SOURCE!r}, got {event.get('source')!r}")
    if event.get("detail-type") != detail_type:
        raise InvalidDmsEventError(f"detail-type must be {detail_type!r}, got {event.get('detail-type')!r}")
    resources = event.get("resources")
    if not isinstance(resources, list) or not resources:
        raise InvalidDmsEventError(f"resources must be a non-empty list holding the {what} ARN")
    try:
        arn = parse_arn(resources[0], field="resources[0]")
    except InvalidInputError as err:
        raise InvalidDmsEventError(str(err)) from None
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidDmsEventError(f"detail must be a JSON object, got {type(detail).__name__}")
    time = event.get("time")
    return arn, detail, time if isinstance(time, str) else None


def parse_dms_task_event(raw: object) -> DmsTaskEvent:
    """Validate an EventBridge event from DMS; anything that is not a task state change is malformed here."""
    task_arn, detail, time = parse_dms_envelope(raw, TASK_STATE_CHANGE, parse_replication_task_arn, "replication task")
    event_type = optional_detail_text(detail, "eventType")
    event_id = optional_detail_text(detail, "eventId") or optional_detail_text(detail, "eventName")
    if not event_type and not event_id:
        raise InvalidDmsEventError("detail.eventType or detail.eventId (detail.eventName) is required")
    return DmsTaskEvent(
        replication_task_arn=task_arn,
        event_type=event_type,
        event_id=event_id,
        detail_message=optional_detail_text(detail, "detailMessage"),
        time=time,
    )


def dms_task_events(gateway: DmsGateway) -> EventSource:
    """The completer's port for replication tasks: their EventBridge events, read back through DMS."""
    return EventSource(DMS_SOURCE, TASK_STATE_CHANGE, _work_event, gateway.describe_task)


def _work_event(raw: dict[str, Any]) -> WorkEvent:
    event = parse_dms_task_event(raw)
    return WorkEvent(key=event.replication_task_arn, is_terminal=event.is_terminal, event_type=event.event_type)
