"""Durable operations counted by the documented rule, from a real execution's store."""

from __future__ import annotations

from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, StepConfig, WaitForCallbackConfig
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

from local_aws.comparison.operations import count_durable_operations
from local_aws.durable_runner import local_durable_runner

_attempts: list[int] = []
RETRY_ONCE = StepConfig(
    retry_strategy=create_retry_strategy(
        RetryStrategyConfig(
            max_attempts=2, initial_delay=Duration.from_seconds(1), retryable_error_types=[RuntimeError]
        )
    )
)


def _flaky(_ctx: Any) -> str:
    _attempts.append(1)
    if len(_attempts) == 1:
        raise RuntimeError("first attempt fails")
    return "ok"


@durable_execution
def _one_of_each(event: Any, context: DurableContext) -> str:
    context.step(_flaky, name="flaky", config=RETRY_ONCE)  # 1 + 1 retry = 2
    context.wait(Duration.from_seconds(60), name="pause")  # 1
    result: str = context.wait_for_callback(  # 3, no submitter retry
        lambda _callback_id, _ctx: None,
        name="approval",
        config=WaitForCallbackConfig(timeout=Duration.from_seconds(60)),
    )
    return result


def test_steps_retries_waits_and_callbacks_are_counted_by_the_documented_rule() -> None:
    _attempts.clear()
    with local_durable_runner(_one_of_each) as local:
        arn = local.start({})
        callback_id = local.runner.wait_for_callback(arn, name="approval create callback id", timeout=30)
        local.runner.send_callback_success(callback_id, b'"approved"')
        measured = local.wait(arn)

        count = count_durable_operations(local.store.load(arn))

    assert measured.status == "SUCCEEDED", measured.error
    assert len(_attempts) == 2, "the step did not retry once"
    assert count.parts == {"step flaky": 2, "wait pause": 1, "context approval": 3}
    assert (count.total, count.step_retries, count.callback_waits, count.polls) == (6, 1, 1, 0)
