"""The DMS Serverless replication as waited work: look, start (reconciling a retry with DMS), describe.

Both DMS variants wait on it as on a task. Its look is the step ``inspect-replication``, not the task's
``inspect-replication-task``: operation names are a stored contract per execution, compared on replay; a
serverless wait is a new execution shape (its input names a ReplicationConfigArn), so no execution recorded before
this kind existed can replay into it, and the name tells a reader of the history which kind was waited on. The
steps that follow are the waiting core's and keep their names for every kind (as the third-party job's do).

A replication provisions capacity for tens of minutes before any data moves (``initializing`` ...
``replication_starting``): those statuses are a run under way, so a retried start adopts them, and the wait keeps
waiting through them. Run binding uses ``ReplicationStats.StartDate``, stamped by DMS at every accepted start.
"""

from __future__ import annotations

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_serverless.rules import is_startable, run_under_way
from waiting import work_start
from waiting.domain import WorkSnapshot
from waiting.work_start import AskableWork

LOOK_STEP_NAME = "inspect-replication"


def start_took_effect(before: WorkSnapshot, now: WorkSnapshot) -> bool:
    """Whether DMS shows a run of the replication that began after the look (``work_start.start_took_effect``)."""
    return work_start.start_took_effect(before, now, startable=is_startable, under_way=run_under_way)


def dms_replication_work(gateway: DmsGateway) -> AskableWork:
    """A DMS Serverless replication: StartReplication once, DescribeReplications to reconcile and to check."""
    return AskableWork(
        describe_work=gateway.describe_replication,
        start_work=gateway.start_replication,
        startable=is_startable,
        under_way=run_under_way,
        look_step_name=LOOK_STEP_NAME,
    )
