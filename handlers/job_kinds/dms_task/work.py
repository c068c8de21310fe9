"""The DMS replication task as waited work: look, start (reconciling a retry with DMS), describe.

Both DMS variants wait on it: the polling variant directly, the callback variant between its claim and its wait.
"""

from __future__ import annotations

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_task.rules import is_startable, run_under_way
from waiting import work_start
from waiting.domain import WorkSnapshot
from waiting.work_start import AskableWork

LOOK_STEP_NAME = "inspect-replication-task"


def start_took_effect(before: WorkSnapshot, now: WorkSnapshot) -> bool:
    """Whether DMS shows a run of the task that began after the look (``work_start.start_took_effect``)."""
    return work_start.start_took_effect(before, now, startable=is_startable, under_way=run_under_way)


def dms_task_work(gateway: DmsGateway) -> AskableWork:
    """A DMS replication task: StartReplicationTask once, DescribeReplicationTasks to reconcile and to check."""
    return AskableWork(
        describe_work=gateway.describe_task,
        start_work=gateway.start_task,
        startable=is_startable,
        under_way=run_under_way,
        look_step_name=LOOK_STEP_NAME,
    )
