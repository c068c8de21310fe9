"""Helpers for the callback variant's tests: one local callback environment per test, and running an execution
along its simulated timeline with the DMS event delivered through the real completer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from local_aws.callback_environment import CallbackEnvironment, callback_environment
from local_aws.durable_runner import ExecutionMeasurements
from local_aws.simulated_timeline import CallbackTimeline

CallbackEnvironmentFactory = Callable[..., CallbackEnvironment]


@contextmanager
def callback_environments() -> Iterator[CallbackEnvironmentFactory]:
    """``make(settings={...})`` -> a CallbackEnvironment, all closed when the block ends."""
    with ExitStack() as stack:

        def make(settings: dict[str, str] | None = None) -> CallbackEnvironment:
            return stack.enter_context(callback_environment(settings))

        yield make


def run_with_event_delivered(env: CallbackEnvironment, payload: Any, name: str = "execution") -> ExecutionMeasurements:
    """Start an execution and play its timeline: the DMS event reaches the completer when the task (or the
    serverless replication) ends."""
    execution_arn = env.runner.start(payload, name=name)
    # The work's ARN under either kind's field: a task's, or a DMS Serverless replication config's.
    work_arn = (
        (payload.get("ReplicationTaskArn") or payload.get("ReplicationConfigArn"))
        if isinstance(payload, dict)
        else None
    )
    CallbackTimeline(env.runner, env.dms, str(work_arn), deliver=env.deliver).drive(execution_arn, 60)
    return env.runner.measure(execution_arn)
