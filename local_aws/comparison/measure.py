"""One scenario of the comparison and what its execution measurably did.

A scenario is a variant, a migration duration, an outcome and how the task's progress moves (a profile of
``local_aws/progress_profiles.py``; linear unless the variant reads the progress). Running it starts the real
handler on the local durable runner against the simulated DMS (and, for the callback variants, moto DynamoDB and
the real completer), then reads every figure from the execution store, the history, the simulation and the AWS
call meter.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from local_aws.aws_call_meter import AwsCallMeter
from local_aws.comparison.operations import OPERATIONS_PER_EXECUTION_LIMIT, count_durable_operations
from local_aws.comparison.telemetry import count_recorded_operations
from local_aws.dms_serverless_simulation import ReplicationPlan, SimulatedReplication
from local_aws.dms_simulation import SimulatedOutcome, SimulatedTask, TaskPlan
from local_aws.durable_runner import ExecutionMeasurements
from local_aws.progress_profiles import LINEAR, progress_profile
from local_aws.telemetry_records import find_record

# Every simulated task runs 1.37 % longer than its nominal duration. Nominal durations (15 min, 1 h, ...) are
# multiples of every poll interval and safety-net period in play, so without an offset each task would stop at
# the same phase of the poll schedule and every run would show the same lag. The fraction is arbitrary but fixed
# and incommensurate with 60 s and 300 s: the five default durations then stop at five different phases.
TASK_DURATION_OFFSET_FRACTION = 0.0137
DMS_SERVICE = "database-migration-service"


class ScenarioOutcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True)
class Scenario:
    variant: str
    duration: timedelta  # nominal migration duration
    outcome: ScenarioOutcome = ScenarioOutcome.SUCCESS
    profile: str = LINEAR.name

    @property
    def task_duration(self) -> timedelta:
        return self.duration * (1 + TASK_DURATION_OFFSET_FRACTION)

    @property
    def expected_status(self) -> str:
        return "SUCCEEDED" if self.outcome is ScenarioOutcome.SUCCESS else "FAILED"

    def task_plan(self) -> TaskPlan:
        if self.outcome is ScenarioOutcome.FAILURE:
            # Fails halfway through loading, with DMS's stop reason and failure message.
            return TaskPlan(
                duration=self.task_duration,
                outcome=SimulatedOutcome.FAILS,
                fail_at_fraction=0.5,
                progress=progress_profile(self.profile),
            )
        return TaskPlan(duration=self.task_duration, progress=progress_profile(self.profile))

    def replication_plan(self) -> ReplicationPlan:
        """The DMS Serverless twin: the full load takes the task's duration, after the provisioning phases."""
        if self.outcome is ScenarioOutcome.FAILURE:
            return ReplicationPlan(full_load=self.task_duration, outcome=SimulatedOutcome.FAILS, fail_at_fraction=0.5)
        return ReplicationPlan(full_load=self.task_duration)

    @property
    def task_identifier(self) -> str:
        identifier = f"{self.variant}-{int(self.duration.total_seconds())}s-{self.outcome.value}"
        return identifier if self.profile == LINEAR.name else f"{identifier}-{self.profile}"


@dataclass(frozen=True)
class RunMeasurement:
    """Everything one run measured (or, for modelled rows, what the model derived). Field names are report keys."""

    variant: str
    label: str
    kind: str  # "polling", "callback", or "step-functions" for modelled rows
    modelled: bool
    scenario: str
    duration_seconds: float
    task_seconds: float
    execution_status: str
    outcome: str
    invocations: int
    history_events: int
    durable_operations: int
    durable_operations_parts: dict[str, int]
    store_operations: int
    checkpointed_updates: int
    bytes_written: int
    polls: int
    callback_waits: int
    safety_net_checks: int
    events_delivered: int
    dms_calls: dict[str, int]
    dynamodb_write_units: float
    dynamodb_read_units: float
    aws_calls: dict[str, int]
    completer_invocations: int
    eventbridge_events: int
    state_transitions: int
    execution_seconds: float
    detection_lag_seconds: float
    wall_seconds: float
    function: str | None
    completer_function: str | None
    result_figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    max_wait_seconds: float | None = None
    # How the task's FullLoadProgressPercent moved (local_aws/progress_profiles.py).
    profile: str = LINEAR.name
    # The same documented count made from the execution's own telemetry record (None: no record, or modelled).
    telemetry_operations: int | None = None
    telemetry_polls: int | None = None

    @property
    def outlasts_max_wait(self) -> bool:
        """The task runs longer than the variant's MAX_WAIT_SECONDS: the wait gives up, as it would on AWS."""
        return self.max_wait_seconds is not None and self.task_seconds > self.max_wait_seconds

    @property
    def exceeds_operation_limit(self) -> bool:
        return self.durable_operations > OPERATIONS_PER_EXECUTION_LIMIT


@dataclass(frozen=True)
class ExecutionFacts:
    """The raw material of one measured run, gathered by a variant's driver."""

    scenario: Scenario
    label: str
    kind: str
    function: str
    completer_function: str | None
    execution: Any  # the store's Execution
    measured: ExecutionMeasurements
    task: SimulatedTask | SimulatedReplication  # the work waited on
    meter: AwsCallMeter
    payload: dict[str, Any]
    wall_seconds: float
    completer_invocations: int = 0
    events_delivered: int = 0
    safety_net_timeouts: int = 0
    # Whether the deliveries are DMS events through EventBridge (False: the third party's HTTPS callbacks).
    delivered_through_eventbridge: bool = True
    max_wait_seconds: float | None = None


def _execution_window(execution: Any) -> tuple[datetime, datetime]:
    op = execution.operations[0]
    if op.start_timestamp is None or op.end_timestamp is None:
        raise RuntimeError("the execution has no start or end timestamp: it did not finish")
    return op.start_timestamp, op.end_timestamp


def planned_run_seconds(work: SimulatedTask | SimulatedReplication) -> float:
    """From the start call to the final state of the work's latest run, as planned."""
    if isinstance(work, SimulatedReplication):
        run = work.latest_run
        end = run.planned_end if run is not None else None
        if run is None or end is None:
            raise RuntimeError(f"replication {work.arn} has no run that ends by itself")
        return (end - run.started_at).total_seconds()
    return work.plan.runs_for.total_seconds()


def summarize(facts: ExecutionFacts) -> RunMeasurement:
    """Turn what a driver gathered into the run's figures."""
    measured = facts.measured
    count = count_durable_operations(facts.execution)
    started, ended = _execution_window(facts.execution)
    finishes_at = facts.task.finishes_at
    if finishes_at is None:
        raise RuntimeError(f"{facts.scenario.task_identifier}: the simulated task was never started")
    output = measured.result if measured.result is not None else measured.error
    io_bytes = len(json.dumps(facts.payload).encode()) + len(json.dumps(output).encode())
    figures = measured.result if isinstance(measured.result, dict) else {}
    record = find_record(facts.execution.durable_execution_arn)
    recorded = count_recorded_operations(record) if record is not None else None
    return RunMeasurement(
        variant=facts.scenario.variant,
        label=facts.label,
        kind=facts.kind,
        modelled=False,
        scenario=facts.scenario.outcome.value,
        duration_seconds=facts.scenario.duration.total_seconds(),
        task_seconds=round(planned_run_seconds(facts.task), 3),
        execution_status=measured.status,
        outcome="succeeded" if measured.status == "SUCCEEDED" else "failed",
        invocations=measured.invocations,
        history_events=measured.history_events,
        durable_operations=count.total,
        durable_operations_parts=count.parts,
        store_operations=measured.operations,
        checkpointed_updates=measured.checkpointed_updates,
        bytes_written=measured.bytes_written + io_bytes,
        polls=count.polls,
        callback_waits=count.callback_waits,
        safety_net_checks=facts.safety_net_timeouts,
        events_delivered=facts.events_delivered,
        dms_calls=facts.meter.by_service(DMS_SERVICE),
        dynamodb_write_units=facts.meter.dynamodb_write_units,
        dynamodb_read_units=facts.meter.dynamodb_read_units,
        aws_calls=dict(sorted(facts.meter.calls.items())),
        completer_invocations=facts.completer_invocations,
        eventbridge_events=facts.events_delivered if facts.delivered_through_eventbridge else 0,
        state_transitions=0,
        execution_seconds=round((ended - started).total_seconds(), 3),
        detection_lag_seconds=round((ended - finishes_at).total_seconds(), 3),
        wall_seconds=round(facts.wall_seconds, 3),
        function=facts.function,
        completer_function=facts.completer_function,
        result_figures={k: v for k, v in figures.items() if k in ("Polls", "TransientErrors", "SafetyNetChecks")},
        notes=[f"unpriced DynamoDB operation {name}" for name in sorted(facts.meter.unpriced_dynamodb_operations)]
        + _max_wait_note(facts),
        max_wait_seconds=facts.max_wait_seconds,
        profile=facts.scenario.profile,
        telemetry_operations=recorded.total if recorded is not None else None,
        telemetry_polls=recorded.polls if recorded is not None else None,
    )


def _max_wait_note(facts: ExecutionFacts) -> list[str]:
    limit = facts.max_wait_seconds
    if limit is None or planned_run_seconds(facts.task) <= limit:
        return []
    return [f"gives up at MAX_WAIT_SECONDS={limit:g} s: longer than one execution's 3,000 operations allow"]


@contextmanager
def quiet_sdk_logging() -> Iterator[None]:
    """The SDK logs every failed execution with its traceback; the failure scenario fails on purpose."""
    loggers = [logging.getLogger(name) for name in ("aws_durable_execution_sdk_python", "migration-wait")]
    loggers.append(logging.getLogger("aws_durable_execution_sdk_python_testing"))
    levels = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for log, level in zip(loggers, levels, strict=True):
            log.setLevel(level)
