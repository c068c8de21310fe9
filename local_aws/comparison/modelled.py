"""Step Functions Standard doing the same waits, modelled (not run) and labelled so.

- ``sfn-poll-loop-*``: StartReplicationTask (a direct SDK integration) -> Poll (a Lambda task calling
  DescribeReplicationTasks) -> Choice -> Wait -> Poll -> ... -> Succeed or Fail, on exactly the poll schedule the
  durable polling twin measured: its poll count is taken from that measured run. State transitions:
  1 (start) + polls x 2 (Poll, Choice) + (polls - 1) (Wait) + 1 (Succeed or Fail) = 3 x polls + 1. The poll
  Lambda is invoked once per poll, and nothing is billed while the Wait state waits.
- ``sfn-wait-for-task-token``: StartReplicationTask -> a ``dynamodb:putItem.waitForTaskToken`` task storing the
  token under the task ARN (1 write) -> Choice -> Succeed or Fail = 4 transitions; the EventBridge rule's completer
  reads the token (1 read), calls SendTaskSuccess and deletes the item (1 write): 1 completer invocation. No safety
  net (the original article's design): a lost event leaves it waiting until the task token's timeout.
Detection lag: the poll loop's is its durable twin's (same schedule); the task-token wait's is taken as zero
(the event is handled as it arrives, as in the measured callback run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from local_aws.comparison.measure import RunMeasurement
from local_aws.progress_profiles import LINEAR

KIND = "step-functions"
TASK_TOKEN_TRANSITIONS = 4


@dataclass(frozen=True)
class ModelledVariant:
    id: str
    label: str
    based_on: str | None  # the measured variant whose runs it is derived from (None: derived from the scenario)
    function: str
    completer_function: str | None
    derive: Callable[[ModelledVariant, RunMeasurement], RunMeasurement]


def _blank(model: ModelledVariant, twin: RunMeasurement) -> RunMeasurement:
    return replace(
        twin,
        variant=model.id,
        label=model.label,
        kind=KIND,
        modelled=True,
        invocations=0,
        history_events=0,
        durable_operations=0,
        durable_operations_parts={},
        store_operations=0,
        checkpointed_updates=0,
        bytes_written=0,
        polls=0,
        callback_waits=0,
        safety_net_checks=0,
        events_delivered=0,
        dynamodb_write_units=0.0,
        dynamodb_read_units=0.0,
        aws_calls={},
        completer_invocations=0,
        eventbridge_events=0,
        state_transitions=0,
        wall_seconds=0.0,
        function=model.function,
        completer_function=model.completer_function,
        result_figures={},
        notes=[],
    )


def _poll_loop(model: ModelledVariant, twin: RunMeasurement) -> RunMeasurement:
    polls = twin.polls
    return replace(
        _blank(model, twin),
        invocations=polls,
        polls=polls,
        dms_calls=dict(twin.dms_calls),
        state_transitions=3 * polls + 1,
        notes=[f"modelled from {twin.variant}'s measured {polls} polls"],
    )


def _task_token(model: ModelledVariant, twin: RunMeasurement) -> RunMeasurement:
    return replace(
        _blank(model, twin),
        dms_calls={"StartReplicationTask": 1},
        dynamodb_write_units=2.0,
        dynamodb_read_units=0.5,
        completer_invocations=1,
        events_delivered=1,
        eventbridge_events=1,
        state_transitions=TASK_TOKEN_TRANSITIONS,
        detection_lag_seconds=0.0,
        notes=["modelled: putItem.waitForTaskToken, completer reads and deletes the token"],
    )


MODELLED_VARIANTS: dict[str, ModelledVariant] = {
    m.id: m
    for m in (
        ModelledVariant(
            id="sfn-poll-loop-default",
            label="Step Functions Wait/Poll/Choice, default schedule",
            based_on="polling-default",
            function="PollingFunction",
            completer_function=None,
            derive=_poll_loop,
        ),
        ModelledVariant(
            id="sfn-poll-loop-1m",
            label="Step Functions Wait/Poll/Choice, 1 min",
            based_on="polling-fixed-1m",
            function="PollingFunction",
            completer_function=None,
            derive=_poll_loop,
        ),
        ModelledVariant(
            id="sfn-wait-for-task-token",
            label="Step Functions .waitForTaskToken",
            based_on=None,
            function="PollingFunction",
            completer_function="DmsEventsFunction",
            derive=_task_token,
        ),
    )
}


def derive_modelled(models: list[ModelledVariant], measured: list[RunMeasurement]) -> list[RunMeasurement]:
    """One modelled row per (model, scenario) the measured runs cover; twins keep the scenario and the lag."""
    rows: list[RunMeasurement] = []
    for model in models:
        seen: set[tuple[float, str]] = set()
        for run in measured:
            key = (run.duration_seconds, run.scenario)
            # Modelled from linear progress only: no modelled schedule reads the progress.
            if key in seen or run.profile != LINEAR.name:
                continue
            if model.based_on is not None and run.variant != model.based_on:
                continue
            seen.add(key)
            rows.append(model.derive(model, run))
    return rows
