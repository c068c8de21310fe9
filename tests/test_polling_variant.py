"""The polling variant end to end: the real handler, the local durable runner and the simulated DMS.

Behaviour both variants share (failures, unknown task, access denied, invalid input, start once) is specified once,
for both, in test_shared_behaviour.py; this file holds what only polling does."""

from __future__ import annotations

from datetime import timedelta

import pytest

import polling_handler
from local_aws.dms_simulation import TaskPlan
from tests.conftest import LocalEnvironmentFactory

MAX_INTERVAL = 300
ARN_PREFIX = "arn:aws:dms:us-east-1:123456789012:task:"


@pytest.mark.parametrize("hours", [0.25, 6, 24, 72], ids=["15min", "6h", "24h", "72h"])
def test_a_migration_of_any_length_succeeds_with_a_bounded_detection_lag(
    make_local_environment: LocalEnvironmentFactory, hours: float
) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=hours)))

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    result = measured.result
    assert result["Variant"] == "polling"
    assert result["Status"] == "stopped"
    assert result["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert result["FullLoadProgressPercent"] == 100
    assert result["WaitSeconds"] >= hours * 3600 - 1, "finished before the task did"
    assert 0 <= result["DetectionLagSeconds"] <= MAX_INTERVAL + 2, "lag exceeds the poll cap"
    assert result["Polls"] == env.dms.calls["DescribeReplicationTasks"] - 1, "one look before the start, then polls"
    assert env.dms.task(arn).start_calls == 1


def test_a_throttling_burst_while_polling_is_absorbed_and_counted(
    make_local_environment: LocalEnvironmentFactory,
) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=2)))
    env.dms.throttle(8, operation="DescribeReplicationTasks", after=1)  # after the look, while polling

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["TransientErrors"] == 8
    assert measured.result["Polls"] == env.dms.calls["DescribeReplicationTasks"] - 1, "one look, then the polls"


def test_server_errors_while_polling_are_absorbed(make_local_environment: LocalEnvironmentFactory) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    env.dms.fail_next(
        3, code="InternalFailure", message="boom", status=500, operation="DescribeReplicationTasks", after=1
    )

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["TransientErrors"] == 3


def test_a_task_that_disappears_while_polling_fails_fast(make_local_environment: LocalEnvironmentFactory) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    env.dms.fail_next(1, code="ResourceNotFoundFault", message="gone", operation="DescribeReplicationTasks", after=1)

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "not found" in measured.error["ErrorMessage"]
    assert env.dms.calls["DescribeReplicationTasks"] == 2, "the look, then the one poll that failed"


def test_a_bad_setting_fails_the_execution_naming_the_variable(
    make_local_environment: LocalEnvironmentFactory,
) -> None:
    env = make_local_environment(polling_handler.handler, settings={"POLL_MAX_INTERVAL_SECONDS": "often"})
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "POLL_MAX_INTERVAL_SECONDS" in measured.error["ErrorMessage"]
    assert sum(env.dms.calls.values()) == 0


def test_the_wait_gives_up_after_the_maximum_total_wait(make_local_environment: LocalEnvironmentFactory) -> None:
    env = make_local_environment(polling_handler.handler, settings={"MAX_WAIT_SECONDS": "3600"})
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=6)))

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "MAX_WAIT_SECONDS=3600" in measured.error["ErrorMessage"]
    assert "'running'" in measured.error["ErrorMessage"]
