"""DmsEventsFunction's event sources: replication task events and DMS Serverless replication events."""

from __future__ import annotations

from aws_adapters.clients import completer_dms_client
from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_serverless.events import dms_replication_events
from job_kinds.dms_task.events import dms_task_events
from waiting.work_events import WorkEvents


def dms_event_sources() -> tuple[WorkEvents, ...]:
    """The completer's sources: replication task events and DMS Serverless replication events.

    Its DMS reads retry throttling and 5xx themselves: no step retry stands behind a completer.
    """
    gateway = DmsGateway(completer_dms_client())
    return (dms_task_events(gateway), dms_replication_events(gateway))
