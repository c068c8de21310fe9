"""The DMS adapter: what it reads from DescribeReplicationTasks and how botocore errors map onto the error tree."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_task.rules import StartReplicationTaskType
from waiting.errors import (
    DmsAccessDeniedError,
    DmsRequestRejectedError,
    DmsThrottledError,
    DmsUnavailableError,
    MigrationWaitError,
    RetryableError,
    TaskNotFoundError,
)

ARN = "arn:aws:dms:us-east-1:123456789012:task:ORDERS"
DMS_DATE = "Thu, 26 Nov 2026 10:00:00 GMT"
DESCRIBE_PARAMS = {"Filters": [{"Name": "replication-task-arn", "Values": [ARN]}], "WithoutSettings": True}


@pytest.fixture
def stubbed() -> tuple[DmsGateway, Stubber]:
    client = boto3.client("dms", region_name="us-east-1")
    return DmsGateway(client=client), Stubber(client)


def test_a_stopped_task_is_read_with_its_reason_progress_and_stop_date(stubbed: tuple[DmsGateway, Stubber]) -> None:
    gateway, stubber = stubbed
    stop = datetime(2026, 11, 26, 9, 58, tzinfo=UTC)
    stubber.add_response(
        "describe_replication_tasks",
        {
            "ReplicationTasks": [
                {
                    "ReplicationTaskArn": ARN,
                    "Status": "stopped",
                    "StopReason": "Stop Reason FULL_LOAD_ONLY_FINISHED",
                    "ReplicationTaskStats": {"FullLoadProgressPercent": 100, "StopDate": stop},
                }
            ],
            "ResponseMetadata": {"HTTPHeaders": {"date": DMS_DATE}, "HTTPStatusCode": 200},
        },
        DESCRIBE_PARAMS,
    )

    with stubber:
        snapshot = gateway.describe_task(ARN)

    assert snapshot.status == "stopped"
    assert snapshot.stop_reason == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert snapshot.full_load_progress_percent == 100
    assert snapshot.stop_date == stop
    assert snapshot.observed_at == datetime(2026, 11, 26, 10, 0, tzinfo=UTC), "observed time is DMS's Date header"


def test_an_empty_answer_under_the_arn_filter_means_not_found(stubbed: tuple[DmsGateway, Stubber]) -> None:
    gateway, stubber = stubbed
    stubber.add_response("describe_replication_tasks", {"ReplicationTasks": []}, DESCRIBE_PARAMS)

    with stubber, pytest.raises(TaskNotFoundError, match="not found"):
        gateway.describe_task(ARN)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ResourceNotFoundFault", 400, TaskNotFoundError),
        ("AccessDeniedException", 400, DmsAccessDeniedError),
        ("AccessDeniedFault", 400, DmsAccessDeniedError),
        ("InvalidResourceStateFault", 400, DmsRequestRejectedError),
        ("ThrottlingException", 400, DmsThrottledError),
        ("InternalFailure", 500, DmsUnavailableError),
        ("ServiceUnavailable", 503, DmsUnavailableError),
    ],
)
def test_botocore_errors_map_onto_the_error_tree_keeping_the_dms_message(
    stubbed: tuple[DmsGateway, Stubber], code: str, status: int, expected: type[MigrationWaitError]
) -> None:
    gateway, stubber = stubbed
    stubber.add_client_error(
        "start_replication_task",
        service_error_code=code,
        service_message="the words DMS used",
        http_status_code=status,
        response_meta={"HTTPHeaders": {"date": DMS_DATE}},
    )

    with stubber, pytest.raises(expected, match="the words DMS used") as raised:
        gateway.start_task(ARN, StartReplicationTaskType.START_REPLICATION)

    if isinstance(raised.value, RetryableError):
        assert raised.value.observed_at == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
