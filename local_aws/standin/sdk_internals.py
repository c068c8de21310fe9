"""The one place the stand-in reaches into the SDK's WebRunner (testing package 1.4.0): its executor, store and
clock, and real-looking durable execution ARNs. ``tests/test_standin.py`` fails loudly if an upgrade moves any of it.

The WebRunner names an execution ``<uuid>/<invocation id>``; Lambda names it
``arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER/durable-execution/EXECUTION_NAME/ID``. The commands and the
telemetry plugin read the function, the region and the execution name from the ARN, so ``lambda_style_arns`` makes
the runner's executions carry Lambda's form (the runner treats ARNs as opaque strings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import OperationStatus
from aws_durable_execution_sdk_python_testing.execution import Execution
from aws_durable_execution_sdk_python_testing.runner import WebRunner
from aws_durable_execution_sdk_python_testing.worker.status import InvocationState

from local_aws.durable_runner import RunnerContractError


def _private(owner: object, name: str, what: str) -> Any:
    value = getattr(owner, name, None)
    if value is None:
        raise RunnerContractError(
            f"{type(owner).__name__} has no {name!r} ({what}): the pinned testing SDK changed; "
            "update local_aws/standin/sdk_internals.py"
        )
    return value


def executor(runner: WebRunner) -> Any:
    return _private(runner, "_executor", "the executor, started")


def executions(runner: WebRunner) -> list[Any]:
    """Every execution the runner holds (its store's ``list_all``)."""
    store = _private(runner, "_store", "the execution store, started")
    listed: list[Any] = store.list_all()
    return listed


def clock(runner: WebRunner) -> Callable[[], datetime]:
    """The runner's clock: real time, or real time plus every wait skipped (``skip_time``)."""
    now = getattr(_private(runner, "_clock", "the clock, started"), "now", None)
    if not callable(now):
        raise RunnerContractError("the WebRunner clock has no now(): the pinned testing SDK changed")
    return now  # type: ignore[no-any-return]


def lambda_execution_arn(start_input: Any, region: str) -> str:
    return (
        f"arn:aws:lambda:{region}:{start_input.account_id}:function:{start_input.function_name}:"
        f"{start_input.function_qualifier}/durable-execution/{start_input.execution_name}/{start_input.invocation_id}"
    )


@contextmanager
def lambda_style_arns(region: str) -> Iterator[None]:
    """While active, every execution the testing runner creates is named as Lambda names it."""
    original = Execution.__dict__.get("new")
    if not isinstance(original, staticmethod):
        raise RunnerContractError("Execution.new is not a staticmethod: the pinned testing SDK changed")
    create = original.__func__

    def new(input: Any) -> Execution:
        execution: Execution = create(input=input)
        execution.durable_execution_arn = lambda_execution_arn(execution.start_input, region)
        return execution

    Execution.new = staticmethod(new)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Execution.new = original  # type: ignore[method-assign]


def advance_clock(runner: WebRunner, to: datetime) -> None:
    """Move a skipping clock forward to ``to`` (never back), as if the time in between had passed."""
    arm = getattr(_private(runner, "_clock", "the clock, started"), "arm", None)
    if not callable(arm):
        raise RunnerContractError("the WebRunner clock has no arm(wake): the pinned testing SDK changed")
    arm(to)


def shutdown_server(runner: WebRunner) -> None:
    """Stop the HTTP server's serve_forever loop (WebRunner.stop closes its socket but leaves the loop running)."""
    server = getattr(runner, "_server", None)
    if server is not None:
        server.shutdown()


def forgotten_resumption(runner: WebRunner, execution: Any) -> bool:
    """Whether the runner owes ``execution`` an invocation it will not make by itself.

    The testing runner (1.4.0) can drop a deferred re-invoke: a wait whose moment comes (time skipped) while the
    invocation that armed it is still running is completed at once, and when that invocation ends the runner may
    count the completion as seen and re-invoke nothing. The execution then holds a READY operation, no invocation in
    flight or scheduled, nothing failed: it would wait forever. Lambda would invoke it ("When it's time to resume,
    Lambda invokes your function again from the beginning",
    https://docs.aws.amazon.com/lambda/latest/dg/durable-basic-concepts.html).
    """
    running = executor(runner)
    gate = getattr(running, "_invocation_gate", None)
    wakeups = getattr(running, "_pending_wakeup", None)
    unseen = getattr(execution, "has_unseen_changes", None)
    if not callable(gate) or not isinstance(wakeups, dict) or not callable(unseen):
        raise RunnerContractError(
            "the executor's _invocation_gate / _pending_wakeup or Execution.has_unseen_changes is gone: the pinned "
            "testing SDK changed; update local_aws/standin/sdk_internals.py"
        )
    arn = execution.durable_execution_arn
    wakeup = wakeups.get(arn)
    return (
        not execution.is_complete
        and gate(arn) is InvocationState.PRE_INVOKE
        and (wakeup is None or wakeup.done())
        and not getattr(execution, "consecutive_failed_invocation_attempts", 0)
        and any(op.status is OperationStatus.READY for op in execution.operations)
        and bool(unseen())
    )


def resume(runner: WebRunner, execution_arn: str) -> None:
    """Invoke the execution as the runner does when something it waits on has happened."""
    invoke = getattr(executor(runner), "_invoke_execution", None)
    if not callable(invoke):
        raise RunnerContractError("the executor has no _invoke_execution(arn): the pinned testing SDK changed")
    invoke(execution_arn)
