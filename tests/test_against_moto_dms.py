"""The polling handler runs unchanged against moto's plain DMS (no simulation): only boto3 and a local runner."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

import polling_handler
from local_aws.durable_runner import local_durable_runner


@pytest.fixture
def moto_dms_task() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        client = boto3.client("dms", region_name="us-east-1")
        task = client.create_replication_task(
            ReplicationTaskIdentifier="orders",
            SourceEndpointArn="arn:aws:dms:us-east-1:123456789012:endpoint:SOURCE",
            TargetEndpointArn="arn:aws:dms:us-east-1:123456789012:endpoint:TARGET",
            ReplicationInstanceArn="arn:aws:dms:us-east-1:123456789012:rep:INSTANCE",
            MigrationType="full-load",
            TableMappings="{}",
        )["ReplicationTask"]
        yield client, task["ReplicationTaskArn"]


def _stop_once_running(client: Any, arn: str, deadline: float) -> None:
    # moto's tasks run until stopped; stop this one as soon as the handler has started it.
    while time.monotonic() < deadline:
        task = client.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])[
            "ReplicationTasks"
        ][0]
        if task["Status"] == "running":
            client.stop_replication_task(ReplicationTaskArn=arn)
            return
        time.sleep(0.01)


def test_the_polling_handler_waits_for_a_moto_task_until_it_stops(moto_dms_task: tuple[Any, str]) -> None:
    client, arn = moto_dms_task
    stopper = threading.Thread(target=_stop_once_running, args=(client, arn, time.monotonic() + 30))

    with local_durable_runner(polling_handler.handler) as local:
        execution = local.start({"ReplicationTaskArn": arn})
        stopper.start()
        measured = local.wait(execution, timeout=60)
        stopper.join()

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["Status"] == "stopped"
    assert measured.result["Polls"] >= 1


def test_an_unknown_task_in_moto_fails_with_not_found(moto_dms_task: tuple[Any, str]) -> None:
    with local_durable_runner(polling_handler.handler) as local:
        measured = local.run({"ReplicationTaskArn": "arn:aws:dms:us-east-1:123456789012:task:NOSUCHTASK"})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "not found" in measured.error["ErrorMessage"]
