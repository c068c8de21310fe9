"""The runner internals the simulated timeline relies on still behave as assumed, and the timeline keeps time."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.exceptions import CallbackTimeoutError
from aws_durable_execution_sdk_python.lambda_service import OperationStatus, OperationType

from local_aws.dms_simulation import SimulatedDms, TaskPlan
from local_aws.durable_runner import LocalDurableRunner, local_durable_runner
from local_aws.simulated_timeline import CallbackTimeline

SAFETY_NET = timedelta(hours=6)


@durable_execution
def _waits_for_a_callback_with_a_safety_net(event: Any, context: DurableContext) -> str:
    for attempt in range(3):
        try:
            result: str = context.wait_for_callback(
                lambda _callback_id, _ctx: None,
                name=f"wait-{attempt}",
                config=WaitForCallbackConfig(timeout=Duration.from_seconds(int(SAFETY_NET.total_seconds()))),
            )
        except CallbackTimeoutError:
            continue
        return result
    return "gave up"


@durable_execution
def _takes_sixty_steps(event: Any, context: DurableContext) -> int:
    for index in range(60):
        context.step(lambda _ctx: None, name=f"step-{index}")
    return 60


def _callbacks(local: LocalDurableRunner, arn: str) -> list[Any]:
    return [op for op in local.store.load(arn).operations if op.operation_type is OperationType.CALLBACK]


def test_a_lost_event_lets_each_safety_net_fire_at_its_simulated_time_without_real_waiting() -> None:
    with local_durable_runner(_waits_for_a_callback_with_a_safety_net) as local:
        dms = SimulatedDms(clock=local.clock)
        task_arn = dms.add_task("never-reports", TaskPlan(duration=timedelta(days=2)))
        arn = local.start({}, execution_timeout=3600)
        wall_before = time.monotonic()

        log = CallbackTimeline(local, dms, task_arn, deliver=None).drive(arn, real_timeout_seconds=60)

        measured = local.measure(arn)
        assert measured.status == "SUCCEEDED", measured.error
        assert measured.result == "gave up"
        assert log.count("callback-timed-out") == 3, log.steps
        callbacks = _callbacks(local, arn)
        assert [op.status for op in callbacks] == [OperationStatus.TIMED_OUT] * 3
        for op in callbacks:
            waited = op.end_timestamp - op.start_timestamp
            assert SAFETY_NET <= waited < SAFETY_NET + timedelta(seconds=5), (
                f"callback {op.name} timed out after {waited} of simulated time, expected the {SAFETY_NET} safety net: "
                "advance_virtual_clock or fire_callback_timeout no longer works with the pinned testing SDK"
            )
        assert time.monotonic() - wall_before < 30, "the safety net waited on the real clock"


def test_an_event_is_delivered_at_the_simulated_moment_the_task_stops_after_an_earlier_safety_net() -> None:
    with local_durable_runner(_waits_for_a_callback_with_a_safety_net) as local:
        dms = SimulatedDms(clock=local.clock)
        task_arn = dms.add_task("eight-hours", TaskPlan(duration=timedelta(hours=8)))
        start = {"ReplicationTaskArn": task_arn, "StartReplicationTaskType": "start-replication"}
        dms.handle("StartReplicationTask", start)
        arn = local.start({}, execution_timeout=3600)
        received: list[dict[str, Any]] = []

        def completer(event: dict[str, Any]) -> None:
            received.append(event)
            open_callback = next(op for op in _callbacks(local, arn) if op.status is OperationStatus.STARTED)
            local.runner.send_callback_success(open_callback.callback_details.callback_id, b"stopped")

        log = CallbackTimeline(local, dms, task_arn, deliver=completer).drive(arn, real_timeout_seconds=60)

        measured = local.measure(arn)
        assert measured.status == "SUCCEEDED", measured.error
        assert [step.kind for step in log.steps] == ["callback-timed-out", "event-delivered"]
        assert len(received) == 1
        assert received[0]["detail"]["eventType"] == "REPLICATION_TASK_STOPPED"
        stops_at = dms.task(task_arn).finishes_at
        assert stops_at is not None
        assert log.steps[1].at == stops_at, "the event must arrive when the simulated task stops"
        assert local.clock() - stops_at < timedelta(seconds=5)


def test_the_full_history_is_counted_past_the_runners_first_page() -> None:
    with local_durable_runner(_takes_sixty_steps) as local:
        arn = local.start({})
        measured = local.wait(arn)

        first_page = len(local.runner.get_execution_history(arn).events)
        # ExecutionStarted + 60 x (StepStarted, StepSucceeded) + InvocationCompleted + ExecutionSucceeded
        assert measured.history_events == 123, (
            f"counted {measured.history_events} history events; execution_history_event_count no longer pages "
            "through the executor's history"
        )
        assert first_page < measured.history_events
