"""The polling variant end to end: the real handler, the local durable runner and the simulated DMS."""

from __future__ import annotations

from datetime import timedelta

import pytest

import polling_handler
from local_aws.dms_simulation import SimulatedOutcome, TaskPlan
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
    assert result["Polls"] == env.dms.calls["DescribeReplicationTasks"]
    assert env.dms.task(arn).start_calls == 1


def test_a_task_that_fails_midway_fails_the_execution_with_the_dms_reason(
    make_local_environment: LocalEnvironmentFactory,
) -> None:
    env = make_local_environment(polling_handler.handler)
    plan = TaskPlan(
        duration=timedelta(hours=6),
        outcome=SimulatedOutcome.FAILS,
        fail_at_fraction=0.4,
        failure_message="ORA-01555: snapshot too old",
    )
    arn = env.dms.add_task("orders-full-load", plan)

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "ORA-01555: snapshot too old" in measured.error["ErrorMessage"]
    assert "'failed'" in measured.error["ErrorMessage"]
    assert "ReplicationTaskFailedError" in measured.error["ErrorType"]


def test_a_task_stopped_with_an_error_stop_reason_fails_the_execution(
    make_local_environment: LocalEnvironmentFactory,
) -> None:
    env = make_local_environment(polling_handler.handler)
    plan = TaskPlan(duration=timedelta(hours=1), stop_reason="Stop Reason RECOVERABLE_ERROR")
    arn = env.dms.add_task("orders-full-load", plan)

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "RECOVERABLE_ERROR" in measured.error["ErrorMessage"]


def test_a_throttling_burst_while_polling_is_absorbed_and_counted(
    make_local_environment: LocalEnvironmentFactory,
) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=2)))
    env.dms.throttle(8, operation="DescribeReplicationTasks")

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["TransientErrors"] == 8
    assert measured.result["Polls"] == env.dms.calls["DescribeReplicationTasks"]


def test_server_errors_while_polling_are_absorbed(make_local_environment: LocalEnvironmentFactory) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    env.dms.fail_next(3, code="InternalFailure", message="boom", status=500, operation="DescribeReplicationTasks")

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["TransientErrors"] == 3


def test_throttling_on_start_is_retried_and_the_task_is_started_once(
    make_local_environment: LocalEnvironmentFactory,
) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(minutes=30)))
    env.dms.throttle(2, operation="StartReplicationTask")

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    assert env.dms.calls["StartReplicationTask"] == 3
    assert env.dms.task(arn).start_calls == 1


def test_an_unknown_task_fails_fast_without_retrying(make_local_environment: LocalEnvironmentFactory) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = "arn:aws:dms:us-east-1:123456789012:task:NOSUCHTASK"

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "not found" in measured.error["ErrorMessage"]
    assert env.dms.calls["StartReplicationTask"] == 1, "a terminal error was retried"


def test_a_task_that_disappears_while_polling_fails_fast(make_local_environment: LocalEnvironmentFactory) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    env.dms.fail_next(1, code="ResourceNotFoundFault", message="gone", operation="DescribeReplicationTasks")

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "not found" in measured.error["ErrorMessage"]
    assert env.dms.calls["DescribeReplicationTasks"] == 1


def test_access_denied_fails_fast_with_the_dms_message(make_local_environment: LocalEnvironmentFactory) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    env.dms.fail_next(1, code="AccessDeniedException", message="not authorized to perform dms:StartReplicationTask")

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "not authorized to perform dms:StartReplicationTask" in measured.error["ErrorMessage"]
    assert env.dms.calls["StartReplicationTask"] == 1


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({}, "ReplicationTaskArn is required"),
        ({"ReplicationTaskArn": "not-an-arn"}, "ReplicationTaskArn"),
        (
            {"ReplicationTaskArn": f"{ARN_PREFIX}X", "StartReplicationTaskType": "go"},
            "StartReplicationTaskType",
        ),
        (["arn:aws:dms:us-east-1:123456789012:task:X"], "input must be a JSON object"),
    ],
)
def test_invalid_input_fails_the_execution_before_any_dms_call(
    make_local_environment: LocalEnvironmentFactory, event: object, named: str
) -> None:
    env = make_local_environment(polling_handler.handler)

    measured = env.runner.run(event)

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert named in measured.error["ErrorMessage"]
    assert sum(env.dms.calls.values()) == 0, "DMS was called for invalid input"


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


def test_the_task_is_started_exactly_once_however_many_times_the_handler_replays(
    make_local_environment: LocalEnvironmentFactory,
) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=24)))

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.invocations > 200, "expected one invocation per poll"
    assert env.dms.calls["StartReplicationTask"] == 1
    assert env.dms.task(arn).start_calls == 1


@pytest.mark.parametrize("start_type", ["resume-processing", "reload-target"])
def test_the_requested_start_type_reaches_dms(make_local_environment: LocalEnvironmentFactory, start_type: str) -> None:
    env = make_local_environment(polling_handler.handler)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(minutes=20)))

    measured = env.runner.run({"ReplicationTaskArn": arn, "StartReplicationTaskType": start_type})

    assert measured.status == "SUCCEEDED", measured.error
    assert env.dms.task(arn).start_type == start_type
