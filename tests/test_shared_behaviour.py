"""One scenario table, run against both variants: what they share must behave the same.

The polling variant runs on the local runner; the callback variant runs on it too, its DMS event delivered through
the real completer when the simulated task ends. Only the wait differs, so success, failure, invalid input, an
unknown task and replay safety must look the same from outside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

import polling_handler
from local_aws.dms_simulation import SimulatedDms, SimulatedOutcome, TaskPlan
from local_aws.durable_runner import ExecutionMeasurements
from tests.callback_support import callback_environments, run_with_event_delivered
from tests.conftest import LocalEnvironmentFactory

ARN_PREFIX = "arn:aws:dms:us-east-1:123456789012:task:"
# The polling variant's lag is bounded by its 5-minute cap; the callback variant's by the event's delivery.
MAX_DETECTION_LAG = 302


@dataclass(frozen=True)
class Variant:
    name: str
    dms: SimulatedDms
    run: Callable[[Any], ExecutionMeasurements]


@pytest.fixture(params=["polling", "callback"])
def variant(request: pytest.FixtureRequest, make_local_environment: LocalEnvironmentFactory) -> Iterator[Variant]:
    if request.param == "polling":
        env = make_local_environment(polling_handler.handler)
        yield Variant("polling", env.dms, env.runner.run)
        return
    with callback_environments() as make:
        callback_env = make()
        yield Variant("callback", callback_env.dms, lambda payload: run_with_event_delivered(callback_env, payload))


@pytest.mark.parametrize("hours", [0.25, 24], ids=["15min", "24h"])
def test_a_task_that_stops_normally_succeeds_with_the_shared_result(variant: Variant, hours: float) -> None:
    arn = variant.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=hours)))

    measured = variant.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    result = measured.result
    assert result["Variant"] == variant.name
    assert result["ReplicationTaskArn"] == arn
    assert result["Status"] == "stopped"
    assert result["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert result["FullLoadProgressPercent"] == 100
    assert result["WaitSeconds"] >= hours * 3600 - 1, f"{variant.name} finished before the task did"
    assert 0 <= result["DetectionLagSeconds"] <= MAX_DETECTION_LAG, f"{variant.name}: lag {result}"


def test_a_task_that_fails_midway_fails_the_execution_with_the_dms_reason(variant: Variant) -> None:
    plan = TaskPlan(
        duration=timedelta(hours=6),
        outcome=SimulatedOutcome.FAILS,
        fail_at_fraction=0.4,
        failure_message="ORA-01555: snapshot too old",
    )
    arn = variant.dms.add_task("orders-full-load", plan)

    measured = variant.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "ORA-01555: snapshot too old" in measured.error["ErrorMessage"], f"{variant.name}: {measured.error}"
    assert "'failed'" in measured.error["ErrorMessage"]
    assert "ReplicationTaskFailedError" in measured.error["ErrorType"], f"{variant.name}: {measured.error}"


def test_a_task_stopped_with_an_error_stop_reason_fails_the_execution(variant: Variant) -> None:
    plan = TaskPlan(duration=timedelta(hours=1), stop_reason="Stop Reason RECOVERABLE_ERROR")
    arn = variant.dms.add_task("orders-full-load", plan)

    measured = variant.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "RECOVERABLE_ERROR" in measured.error["ErrorMessage"], f"{variant.name}: {measured.error}"


def test_an_unknown_task_fails_fast_without_retrying(variant: Variant) -> None:
    measured = variant.run({"ReplicationTaskArn": f"{ARN_PREFIX}NOSUCHTASK"})

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "not found" in measured.error["ErrorMessage"], f"{variant.name}: {measured.error}"
    assert variant.dms.calls["DescribeReplicationTasks"] == 1, f"{variant.name} retried a terminal error"
    assert variant.dms.calls["StartReplicationTask"] == 0, "the look found no task: nothing to start"


def test_access_denied_fails_fast_with_the_dms_message(variant: Variant) -> None:
    arn = variant.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    variant.dms.fail_next(
        1,
        code="AccessDeniedException",
        message="not authorized to perform dms:StartReplicationTask",
        operation="StartReplicationTask",
    )

    measured = variant.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "not authorized to perform dms:StartReplicationTask" in measured.error["ErrorMessage"]
    assert variant.dms.calls["StartReplicationTask"] == 1


def test_throttling_on_start_is_retried_and_the_task_is_started_once(variant: Variant) -> None:
    arn = variant.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(minutes=30)))
    variant.dms.throttle(2, operation="StartReplicationTask")

    measured = variant.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    assert variant.dms.calls["StartReplicationTask"] == 3
    assert variant.dms.task(arn).start_calls == 1


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({}, "ReplicationTaskArn is required"),
        ({"ReplicationTaskArn": "not-an-arn"}, "ReplicationTaskArn"),
        ({"ReplicationTaskArn": f"{ARN_PREFIX}X", "StartReplicationTaskType": "go"}, "StartReplicationTaskType"),
        (["arn:aws:dms:us-east-1:123456789012:task:X"], "input must be a JSON object"),
        ({"ReplicationTaskArn": f"{ARN_PREFIX}X", "CallbackId": "forged"}, "unknown input field(s): CallbackId"),
    ],
    ids=["missing-arn", "malformed-arn", "unknown-start-type", "not-an-object", "unknown-field"],
)
def test_invalid_input_fails_the_execution_before_any_dms_call(variant: Variant, event: object, named: str) -> None:
    measured = variant.run(event)

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert named in measured.error["ErrorMessage"], f"{variant.name}: {measured.error}"
    assert sum(variant.dms.calls.values()) == 0, f"{variant.name} called DMS for invalid input"


@pytest.mark.parametrize("start_type", ["resume-processing", "reload-target"])
def test_the_requested_start_type_reaches_dms(variant: Variant, start_type: str) -> None:
    # DMS takes resume-processing and reload-target only for a task that ran before.
    run = TaskPlan(duration=timedelta(minutes=20))
    arn = variant.dms.add_task("orders-full-load", run, previous_run=run)

    measured = variant.run({"ReplicationTaskArn": arn, "StartReplicationTaskType": start_type})

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    assert variant.dms.task(arn).start_type == start_type


def test_the_task_is_started_exactly_once_however_many_times_the_handler_replays(variant: Variant) -> None:
    arn = variant.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=6)))

    measured = variant.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    assert measured.invocations >= 2, "the handler should have been replayed at least once"
    assert variant.dms.calls["StartReplicationTask"] == 1, f"{variant.name} called StartReplicationTask again"
    assert variant.dms.task(arn).start_calls == 1
