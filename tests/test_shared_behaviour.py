"""One scenario table, run against both variants and both DMS kinds: what they share must behave the same.

The polling variant runs on the local runner; the callback variant runs on it too, its DMS event delivered through
the real completer when the simulated work ends. Each runs against a replication task and against a DMS Serverless
replication (``Kind``: how the table adds the work and names it). Only the wait and the kind's words differ, so
success, failure, invalid input, unknown work and replay safety must look the same from outside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

import polling_handler
from local_aws.dms_serverless_simulation import ReplicationPlan
from local_aws.dms_simulation import SimulatedDms, SimulatedOutcome, TaskPlan
from local_aws.durable_runner import ExecutionMeasurements
from tests.callback_support import callback_environments, run_with_event_delivered
from tests.conftest import LocalEnvironmentFactory

# The polling variant's lag is bounded by its 5-minute cap; the callback variant's by the event's delivery.
MAX_DETECTION_LAG = 302


@dataclass(frozen=True)
class Kind:
    """A kind of DMS work as the scenario table sees it: how to add one, its input's fields, its API operations."""

    name: str
    arn_field: str
    start_type_field: str
    unknown_arn: str
    start_operation: str
    describe_operation: str
    # Start types a run after the first accepts (DMS refuses resume-processing for a full-load replication).
    restart_types: tuple[str, ...]

    def add(
        self,
        dms: SimulatedDms,
        duration: timedelta,
        *,
        fails_at: float | None = None,
        failure: str = "ORA-01555: snapshot too old",
        stop_reason: str | None = None,
        ran_before: bool = False,
    ) -> str:
        extra: dict[str, Any] = {} if stop_reason is None else {"stop_reason": stop_reason}
        if fails_at is not None:
            extra["outcome"] = SimulatedOutcome.FAILS
            extra["fail_at_fraction"] = fails_at
        if self.name == "task":
            if fails_at is not None:
                extra["failure_message"] = failure
            plan = TaskPlan(duration=duration, **extra)
            return dms.add_task("orders-full-load", plan, previous_run=plan if ran_before else None)
        if fails_at is not None:
            extra["failure_messages"] = (failure,)
        replication = ReplicationPlan(full_load=duration, **extra)
        return dms.add_replication("orders-full-load", replication, previous_run=replication if ran_before else None)

    def payload(self, arn: str, start_type: str | None = None) -> dict[str, str]:
        return {self.arn_field: arn} | ({self.start_type_field: start_type} if start_type else {})

    def start_calls(self, dms: SimulatedDms, arn: str) -> int:
        return dms.task(arn).start_calls if self.name == "task" else dms.replication(arn).start_calls

    def last_start_type(self, dms: SimulatedDms, arn: str) -> str | None:
        if self.name == "task":
            return dms.task(arn).start_type
        run = dms.replication(arn).latest_run
        return run.start_type if run else None


TASK = Kind(
    name="task",
    arn_field="ReplicationTaskArn",
    start_type_field="StartReplicationTaskType",
    unknown_arn="arn:aws:dms:us-east-1:123456789012:task:NOSUCHTASK",
    start_operation="StartReplicationTask",
    describe_operation="DescribeReplicationTasks",
    restart_types=("resume-processing", "reload-target"),
)
SERVERLESS = Kind(
    name="serverless",
    arn_field="ReplicationConfigArn",
    start_type_field="StartReplicationType",
    unknown_arn="arn:aws:dms:us-east-1:123456789012:replication-config:NOSUCHCONFIG",
    start_operation="StartReplication",
    describe_operation="DescribeReplications",
    restart_types=("reload-target",),
)


@dataclass(frozen=True)
class Variant:
    name: str
    kind: Kind
    dms: SimulatedDms
    run: Callable[[Any], ExecutionMeasurements]


@pytest.fixture(params=[TASK, SERVERLESS], ids=lambda kind: kind.name)
def kind(request: pytest.FixtureRequest) -> Kind:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=["polling", "callback"])
def variant(
    request: pytest.FixtureRequest, kind: Kind, make_local_environment: LocalEnvironmentFactory
) -> Iterator[Variant]:
    if request.param == "polling":
        env = make_local_environment(polling_handler.handler)
        yield Variant("polling", kind, env.dms, env.runner.run)
        return
    with callback_environments() as make:
        callback_env = make()
        yield Variant(
            "callback", kind, callback_env.dms, lambda payload: run_with_event_delivered(callback_env, payload)
        )


@pytest.mark.parametrize("hours", [0.25, 24], ids=["15min", "24h"])
def test_a_task_that_stops_normally_succeeds_with_the_shared_result(variant: Variant, hours: float) -> None:
    arn = variant.kind.add(variant.dms, timedelta(hours=hours))

    measured = variant.run(variant.kind.payload(arn))

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    result = measured.result
    assert result["Variant"] == variant.name
    assert result[variant.kind.arn_field] == arn
    assert result["Status"] == "stopped"
    assert result["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert result["FullLoadProgressPercent"] == 100
    assert result["WaitSeconds"] >= hours * 3600 - 1, f"{variant.name} finished before the task did"
    assert 0 <= result["DetectionLagSeconds"] <= MAX_DETECTION_LAG, f"{variant.name}: lag {result}"


def test_a_task_that_fails_midway_fails_the_execution_with_the_dms_reason(variant: Variant) -> None:
    arn = variant.kind.add(variant.dms, timedelta(hours=6), fails_at=0.4, failure="ORA-01555: snapshot too old")

    measured = variant.run(variant.kind.payload(arn))

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "ORA-01555: snapshot too old" in measured.error["ErrorMessage"], f"{variant.name}: {measured.error}"
    assert "'failed'" in measured.error["ErrorMessage"]
    assert "ReplicationTaskFailedError" in measured.error["ErrorType"], f"{variant.name}: {measured.error}"


def test_a_task_stopped_with_an_error_stop_reason_fails_the_execution(variant: Variant) -> None:
    arn = variant.kind.add(variant.dms, timedelta(hours=1), stop_reason="Stop Reason RECOVERABLE_ERROR")

    measured = variant.run(variant.kind.payload(arn))

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "RECOVERABLE_ERROR" in measured.error["ErrorMessage"], f"{variant.name}: {measured.error}"


def test_an_unknown_task_fails_fast_without_retrying(variant: Variant) -> None:
    measured = variant.run(variant.kind.payload(variant.kind.unknown_arn))

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "not found" in measured.error["ErrorMessage"], f"{variant.name}: {measured.error}"
    assert variant.dms.calls[variant.kind.describe_operation] == 1, f"{variant.name} retried a terminal error"
    assert variant.dms.calls[variant.kind.start_operation] == 0, "the look found no work: nothing to start"


def test_access_denied_fails_fast_with_the_dms_message(variant: Variant) -> None:
    arn = variant.kind.add(variant.dms, timedelta(hours=1))
    denied = f"not authorized to perform dms:{variant.kind.start_operation}"
    variant.dms.fail_next(1, code="AccessDeniedException", message=denied, operation=variant.kind.start_operation)

    measured = variant.run(variant.kind.payload(arn))

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert denied in measured.error["ErrorMessage"]
    assert variant.dms.calls[variant.kind.start_operation] == 1


def test_throttling_on_start_is_retried_and_the_task_is_started_once(variant: Variant) -> None:
    arn = variant.kind.add(variant.dms, timedelta(minutes=30))
    variant.dms.throttle(2, operation=variant.kind.start_operation)

    measured = variant.run(variant.kind.payload(arn))

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    assert variant.dms.calls[variant.kind.start_operation] == 3
    assert variant.kind.start_calls(variant.dms, arn) == 1


@pytest.mark.parametrize(
    ("make_event", "named"),
    [
        (lambda _k: {}, "ReplicationTaskArn is required"),
        (lambda k: {k.arn_field: "not-an-arn"}, "{arn_field}"),
        (lambda k: {k.arn_field: k.unknown_arn, k.start_type_field: "go"}, "{start_type_field}"),
        (lambda k: [k.unknown_arn], "input must be a JSON object"),
        (lambda k: {k.arn_field: k.unknown_arn, "CallbackId": "forged"}, "unknown input field(s): CallbackId"),
        (
            lambda _k: {"ReplicationTaskArn": TASK.unknown_arn, "ReplicationConfigArn": SERVERLESS.unknown_arn},
            "exactly one",
        ),
    ],
    ids=["missing-arn", "malformed-arn", "unknown-start-type", "not-an-object", "unknown-field", "both-arns"],
)
def test_invalid_input_fails_the_execution_before_any_dms_call(
    variant: Variant, make_event: Callable[[Kind], object], named: str
) -> None:
    named = named.format(arn_field=variant.kind.arn_field, start_type_field=variant.kind.start_type_field)

    measured = variant.run(make_event(variant.kind))

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert named in measured.error["ErrorMessage"], f"{variant.name}: {measured.error}"
    assert sum(variant.dms.calls.values()) == 0, f"{variant.name} called DMS for invalid input"


@pytest.mark.parametrize("start_type", ["resume-processing", "reload-target"])
def test_the_requested_start_type_reaches_dms(variant: Variant, start_type: str) -> None:
    if start_type not in variant.kind.restart_types:
        pytest.skip(f"DMS refuses {start_type} for a {variant.kind.name} that ran before (full load)")
    # DMS takes resume-processing and reload-target only for work that ran before.
    arn = variant.kind.add(variant.dms, timedelta(minutes=20), ran_before=True)

    measured = variant.run(variant.kind.payload(arn, start_type))

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    assert variant.kind.last_start_type(variant.dms, arn) == start_type


def test_the_task_is_started_exactly_once_however_many_times_the_handler_replays(variant: Variant) -> None:
    arn = variant.kind.add(variant.dms, timedelta(hours=6))

    measured = variant.run(variant.kind.payload(arn))

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    assert measured.invocations >= 2, "the handler should have been replayed at least once"
    assert variant.dms.calls[variant.kind.start_operation] == 1, f"{variant.name} started the work again"
    assert variant.kind.start_calls(variant.dms, arn) == 1
