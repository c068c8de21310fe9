"""DMS Serverless replications end to end, through the real handlers on the local runner, both variants.

PollingFunction and CallbackFunction take ``{"ReplicationConfigArn", "StartReplicationType"}`` next to the task
input. DMS is the serverless simulation (``local_aws/dms_serverless_simulation.py``): about 39 minutes of
provisioning before any data moves, then the load; its ``DMS Replication State Change`` events reach the real
completer (``dms_events_handler.handler``). The scenarios: success, failure (FailureMessages in the error), a long
provisioning, a lost event, the previous run's late event, duplicates, malformed events, and invalid input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

import polling_handler
from aws_adapters.clients import dms_client
from local_aws.callback_environment import CallbackEnvironment
from local_aws.dms_serverless_simulation import PROVISIONING_PHASES, ReplicationPlan
from local_aws.dms_simulation import SimulatedDms, SimulatedOutcome
from local_aws.durable_runner import ExecutionMeasurements, LocalDurableRunner
from tests.callback_support import CallbackEnvironmentFactory, callback_environments, run_with_event_delivered
from tests.conftest import LocalEnvironmentFactory
from waiting.errors import InvalidEventError

SHORT_SAFETY_NET = {"CALLBACK_TIMEOUT_SECONDS": "1", "MAX_WAIT_SECONDS": "300"}
PROVISIONING = timedelta(minutes=39)  # the simulation's default: no data moves before it ends
SERVERLESS_OPERATIONS = ("StartReplication", "DescribeReplications")
TASK_OPERATIONS = ("StartReplicationTask", "DescribeReplicationTasks")
CONFIG_ARN_PREFIX = "arn:aws:dms:us-east-1:123456789012:replication-config:"


@dataclass(frozen=True)
class Variant:
    name: str
    dms: SimulatedDms
    runner: LocalDurableRunner
    run: Callable[[Any], ExecutionMeasurements]


@pytest.fixture(params=["polling", "callback"])
def variant(request: pytest.FixtureRequest, make_local_environment: LocalEnvironmentFactory) -> Iterator[Variant]:
    if request.param == "polling":
        env = make_local_environment(polling_handler.handler)
        yield Variant("polling", env.dms, env.runner, env.runner.run)
        return
    with callback_environments() as make:
        callback_env = make()
        yield Variant(
            "callback",
            callback_env.dms,
            callback_env.runner,
            lambda payload: run_with_event_delivered(callback_env, payload),
        )


@pytest.fixture
def make_env() -> Iterator[CallbackEnvironmentFactory]:
    with callback_environments() as make:
        yield make


def _operation_names(runner: LocalDurableRunner) -> list[str]:
    """The execution's durable operations by name, in order (the execution itself left out)."""
    execution = runner.store.load(runner.store.list_all()[0].durable_execution_arn)
    return [op.name for op in execution.operations[1:] if op.name]


def _replication_event(arn: str, event_type: str, **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "5d0a1b2c-1111-2222-3333-444455556666",
        "detail-type": "DMS Replication State Change",
        "source": "aws.dms",
        "account": "123456789012",
        "time": "2026-11-30T10:00:00Z",
        "region": "us-east-1",
        "resources": [arn],
        "detail": {"type": "REPLICATION_CONFIG", "category": "StateChange", "eventType": event_type, **detail},
    }


def _finish(env: CallbackEnvironment, arn: str) -> None:
    """Let the simulated clock run past the replication's end (as if the time had passed while the execution waited)."""
    finishes_at = env.dms.replication(arn).finishes_at
    assert finishes_at is not None, "the replication was never started"
    env.runner.advance_clock_to(finishes_at + timedelta(seconds=2))


def _start_and_wait_for_round(env: CallbackEnvironment, payload: dict[str, Any]) -> str:
    execution_arn = env.runner.start(payload)
    env.wait_for_callback(execution_arn)
    return execution_arn


# --- both variants ------------------------------------------------------------------------------------------


def test_a_replication_that_finishes_its_full_load_succeeds_reported_under_its_config_arn(variant: Variant) -> None:
    arn = variant.dms.add_replication("orders", ReplicationPlan(full_load=timedelta(hours=2)))

    measured = variant.run({"ReplicationConfigArn": arn})

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    result = measured.result
    assert result["ReplicationConfigArn"] == arn
    assert "ReplicationTaskArn" not in result, "a replication's result must not name a task"
    assert result["Variant"] == variant.name
    assert result["Status"] == "stopped"
    assert result["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert result["FullLoadProgressPercent"] == 100
    assert result["WaitSeconds"] >= (PROVISIONING + timedelta(hours=2)).total_seconds() - 1, "finished too early"
    assert variant.dms.replication(arn).start_calls == 1
    assert all(variant.dms.calls[op] == 0 for op in TASK_OPERATIONS), f"{variant.name} called a task operation"


def test_the_serverless_wait_has_its_own_look_and_the_cores_other_steps(variant: Variant) -> None:
    arn = variant.dms.add_replication("orders", ReplicationPlan(full_load=timedelta(minutes=30)))

    measured = variant.run({"ReplicationConfigArn": arn})

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    expected = {
        "polling": ["inspect-replication", "start-replication-task", "wait-for-replication-task"],
        "callback": [
            "inspect-replication",
            "wait-for-task-event-0",
            "claim-replication-task",
            "start-replication-task",
            "release-task-correlation",
        ],
    }
    assert _operation_names(variant.runner) == expected[variant.name]


def test_a_failed_replication_fails_the_execution_with_its_failure_messages(variant: Variant) -> None:
    plan = ReplicationPlan(
        full_load=timedelta(hours=3),
        outcome=SimulatedOutcome.FAILS,
        fail_at_fraction=0.4,
        failure_messages=("ORA-01555: snapshot too old", "Stream component failed at subtask 0"),
    )
    arn = variant.dms.add_replication("orders", plan)

    measured = variant.run({"ReplicationConfigArn": arn})

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    message = measured.error["ErrorMessage"]
    assert "ORA-01555: snapshot too old; Stream component failed at subtask 0" in message, f"{variant.name}: {message}"
    assert "'failed'" in message
    assert "ReplicationTaskFailedError" in measured.error["ErrorType"]


def test_a_replication_that_fails_while_provisioning_fails_the_execution(variant: Variant) -> None:
    plan = ReplicationPlan(
        full_load=timedelta(hours=1),
        outcome=SimulatedOutcome.FAILS,
        fail_while_provisioning=True,
        failure_messages=("Test connection failed for endpoint 'source'",),
    )
    arn = variant.dms.add_replication("orders", plan)

    measured = variant.run({"ReplicationConfigArn": arn})

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "Test connection failed for endpoint 'source'" in measured.error["ErrorMessage"], measured.error


def test_a_replication_stopped_with_an_error_stop_reason_fails_the_execution(variant: Variant) -> None:
    plan = ReplicationPlan(full_load=timedelta(hours=1), stop_reason="Stop Reason RECOVERABLE_ERROR")
    arn = variant.dms.add_replication("orders", plan)

    measured = variant.run({"ReplicationConfigArn": arn})

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "RECOVERABLE_ERROR" in measured.error["ErrorMessage"], f"{variant.name}: {measured.error}"


def test_hours_of_provisioning_with_no_data_moving_are_waited_through(variant: Variant) -> None:
    plan = ReplicationPlan(full_load=timedelta(minutes=10), provisioning=timedelta(hours=3))
    arn = variant.dms.add_replication("orders", plan)

    measured = variant.run({"ReplicationConfigArn": arn})

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    assert measured.result["WaitSeconds"] >= (3 * 3600 + 600) - 1, "the wait ended while DMS was still provisioning"
    assert measured.result["FullLoadProgressPercent"] == 100


def test_a_replication_that_ran_before_is_run_again_with_the_start_type_asked_for(variant: Variant) -> None:
    run = ReplicationPlan(full_load=timedelta(minutes=20))
    arn = variant.dms.add_replication("orders", run, previous_run=run)

    measured = variant.run({"ReplicationConfigArn": arn, "StartReplicationType": "reload-target"})

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    replication = variant.dms.replication(arn)
    assert [r.start_type for r in replication.runs] == ["start-replication", "reload-target"]
    stopped_at = measured.result["TaskStoppedAt"]
    assert stopped_at == replication.runs[-1].finishes_at.isoformat(), "the result carries the previous run's end"


def test_a_start_dms_refuses_fails_fast_with_its_message(variant: Variant) -> None:
    # resume-processing does not apply to a full-load replication: InvalidParameterCombinationException, terminal.
    run = ReplicationPlan(full_load=timedelta(minutes=20))
    arn = variant.dms.add_replication("orders", run, previous_run=run)

    measured = variant.run({"ReplicationConfigArn": arn, "StartReplicationType": "resume-processing"})

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "InvalidParameterCombinationException" in measured.error["ErrorMessage"], measured.error
    assert variant.dms.calls["StartReplication"] == 1, f"{variant.name} retried a terminal rejection"


def test_an_unknown_replication_fails_fast_without_retrying(variant: Variant) -> None:
    measured = variant.run({"ReplicationConfigArn": f"{CONFIG_ARN_PREFIX}NOSUCHREPLICATION"})

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert "DMS replication not found" in measured.error["ErrorMessage"], measured.error
    assert variant.dms.calls["DescribeReplications"] == 1, f"{variant.name} retried a terminal error"
    assert variant.dms.calls["StartReplication"] == 0


def test_a_start_whose_answer_was_lost_is_adopted_not_repeated(variant: Variant) -> None:
    arn = variant.dms.add_replication("orders", ReplicationPlan(full_load=timedelta(hours=1)))
    variant.dms.lose_answer_next(1, "StartReplication")

    measured = variant.run({"ReplicationConfigArn": arn})

    assert measured.status == "SUCCEEDED", f"{variant.name}: {measured.error}"
    assert variant.dms.replication(arn).start_calls == 1, "DMS accepted a second start"


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({"ReplicationTaskArn": "x", "ReplicationConfigArn": "y"}, "exactly one of ReplicationTaskArn"),
        ({"StartReplicationType": "start-replication"}, "or ReplicationConfigArn instead"),
        ({"ReplicationConfigArn": "arn:aws:dms:us-east-1:123456789012:rep:X"}, "ReplicationConfigArn is not a DMS"),
        ({"ReplicationConfigArn": "arn:aws:dms:us-east-1:123456789012:task:X"}, "replication-config:ID"),
        ({"ReplicationConfigArn": f"{CONFIG_ARN_PREFIX}X", "StartReplicationType": "go"}, "StartReplicationType"),
        (
            {"ReplicationConfigArn": f"{CONFIG_ARN_PREFIX}X", "StartReplicationTaskType": "reload-target"},
            "unknown input field(s): StartReplicationTaskType",
        ),
        ({"ReplicationConfigArn": 42}, "ReplicationConfigArn must be a non-empty string"),
    ],
    ids=["both-arns", "no-arn", "not-a-config-arn", "a-task-arn", "bad-start-type", "task-start-field", "not-text"],
)
def test_invalid_serverless_input_fails_the_execution_before_any_dms_call(
    variant: Variant, event: dict[str, Any], named: str
) -> None:
    measured = variant.run(event)

    assert measured.status == "FAILED", variant.name
    assert measured.error is not None
    assert named in measured.error["ErrorMessage"], f"{variant.name}: {measured.error}"
    assert sum(variant.dms.calls.values()) == 0, f"{variant.name} called DMS for invalid input"


# --- the callback variant: the events ----------------------------------------------------------------------


def test_the_event_finishes_the_wait_without_a_safety_net_check(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env()
    arn = env.dms.add_replication("orders", ReplicationPlan(full_load=timedelta(hours=6)))

    measured = run_with_event_delivered(env, {"ReplicationConfigArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["SafetyNetChecks"] == 0
    assert measured.invocations == 2, "one invocation to start, one to finish"
    assert env.endpoint.accepted == {"succeed": 1}
    assert env.registration(arn) is None, "the correlation item outlived its execution"


def test_a_failure_is_sent_through_the_failure_callback(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env()
    plan = ReplicationPlan(
        full_load=timedelta(hours=2), outcome=SimulatedOutcome.FAILS, failure_messages=("ORA-00942",)
    )
    arn = env.dms.add_replication("orders", plan)

    measured = run_with_event_delivered(env, {"ReplicationConfigArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "ORA-00942" in measured.error["ErrorMessage"]
    assert env.endpoint.accepted == {"fail": 1}, "the completer should have sent exactly one failure"


def test_every_event_dms_publishes_for_a_run_completes_the_wait_once(make_env: CallbackEnvironmentFactory) -> None:
    """The provisioning events, the internal task's events and the final one, in order: one completion."""
    env = make_env()
    arn = env.dms.add_replication("orders", ReplicationPlan(full_load=timedelta(hours=1)))
    execution_arn = _start_and_wait_for_round(env, {"ReplicationConfigArn": arn})
    _finish(env, arn)
    events = env.dms.replication_events(arn)

    reports = [env.deliver(event) for event in events]

    assert env.runner.wait(execution_arn).status == "SUCCEEDED"
    outcomes = [r["Outcome"] for r in reports]
    assert outcomes.count("completed") == 1, outcomes
    completing = events[outcomes.index("completed")]
    assert completing["detail"]["eventType"] == "REPLICATION_STOPPED", "only the final event may complete it"
    # The internal serv-res-id task's own events name a task nobody waits on.
    assert set(outcomes) == {"ignored-not-terminal", "ignored-no-waiting-execution", "completed"}, outcomes
    assert env.endpoint.accepted == {"succeed": 1}


def test_events_during_provisioning_leave_the_execution_waiting(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env()
    arn = env.dms.add_replication("orders", ReplicationPlan(full_load=timedelta(hours=1)))
    execution_arn = _start_and_wait_for_round(env, {"ReplicationConfigArn": arn})
    started = env.dms.replication(arn).runs[-1].started_at
    env.runner.advance_clock_to(started + timedelta(minutes=25))  # provisioning capacity: no data moves yet

    progress = env.deliver(_replication_event(arn, "REPLICATION_PROVISIONING_CAPACITY"))
    early_stop = env.deliver(_replication_event(arn, "REPLICATION_STOPPED"))

    assert progress["Outcome"] == "ignored-not-terminal"
    assert early_stop["Outcome"] == "ignored-task-still-running"
    assert early_stop["Status"] in {status for status, _weight in PROVISIONING_PHASES}, early_stop
    assert env.runner.measure(execution_arn).status == "RUNNING"
    assert not env.endpoint.accepted
    _finish(env, arn)
    assert env.deliver(env.dms.terminal_replication_event(arn))["Outcome"] == "completed"
    assert env.runner.wait(execution_arn).status == "SUCCEEDED"


def test_a_lost_event_is_covered_by_the_safety_net(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env(SHORT_SAFETY_NET)
    arn = env.dms.add_replication("orders", ReplicationPlan(full_load=timedelta(hours=1)))
    execution_arn = _start_and_wait_for_round(env, {"ReplicationConfigArn": arn})
    _finish(env, arn)  # and DMS's event never arrives

    measured = env.runner.wait(execution_arn)

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["SafetyNetChecks"] == 1
    assert measured.result["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert not env.endpoint.accepted, "nothing should have been sent: no event came"


def test_the_previous_runs_late_event_between_claim_and_start_finishes_nothing(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env()
    run = ReplicationPlan(full_load=timedelta(hours=1))
    arn = env.dms.add_replication("orders", run, previous_run=run)
    stale: list[Any] = []

    def deliver_the_previous_runs_event(**_kwargs: Any) -> None:
        if not stale:  # the claim is written; DMS still shows the previous run's stop
            stale.append(env.deliver(env.dms.terminal_replication_event(arn)))

    dms_client().meta.events.register(
        "before-call.database-migration-service.StartReplication", deliver_the_previous_runs_event
    )

    measured = run_with_event_delivered(env, {"ReplicationConfigArn": arn, "StartReplicationType": "reload-target"})

    assert [r["Outcome"] for r in stale] == ["ignored-earlier-run"], stale
    assert measured.status == "SUCCEEDED", measured.error
    this_run = env.dms.replication(arn).runs[-1]
    assert measured.result["TaskStoppedAt"] == this_run.finishes_at.isoformat(), "finished with another run's data"
    assert measured.result["WaitSeconds"] >= (PROVISIONING + timedelta(hours=1)).total_seconds() - 1
    assert env.endpoint.accepted == {"succeed": 1}


def test_the_event_delivered_three_times_completes_the_execution_once(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env()
    arn = env.dms.add_replication("orders", ReplicationPlan(full_load=timedelta(hours=1)))
    execution_arn = _start_and_wait_for_round(env, {"ReplicationConfigArn": arn})
    _finish(env, arn)
    event = env.dms.terminal_replication_event(arn)

    reports = [env.deliver(event) for _ in range(3)]

    assert env.runner.wait(execution_arn).status == "SUCCEEDED"
    outcomes = [r["Outcome"] for r in reports]
    assert outcomes[0] == "completed", outcomes
    assert set(outcomes[1:]) <= {"ignored-already-delivered", "ignored-no-waiting-execution"}, outcomes
    assert env.endpoint.accepted == {"succeed": 1}, "the callback was completed more than once"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"resources": []}, "resources"),
        ({"resources": ["arn:aws:dms:us-east-1:123456789012:task:ORDERS"]}, "resources[0]"),
        ({"detail": {"type": "REPLICATION_CONFIG"}}, "detail.eventType"),
        ({"detail": "REPLICATION_STOPPED"}, "detail must be a JSON object"),
        ({"detail": {"eventType": 7}}, "detail.eventType must be a string"),
    ],
    ids=["no-resources", "a-task-arn", "no-event-type", "detail-not-an-object", "event-type-not-text"],
)
def test_a_malformed_replication_event_is_raised_naming_the_field(
    make_env: CallbackEnvironmentFactory, change: dict[str, Any], named: str
) -> None:
    """Raised, not logged away: Lambda retries it twice, then the dead-letter queue (alarmed) keeps it."""
    env = make_env()
    arn = env.dms.add_replication("orders", ReplicationPlan(full_load=timedelta(hours=1)))
    execution_arn = _start_and_wait_for_round(env, {"ReplicationConfigArn": arn})
    _finish(env, arn)

    with pytest.raises(InvalidEventError) as raised:
        env.deliver({**_replication_event(arn, "REPLICATION_STOPPED"), **change})

    assert named in str(raised.value), raised.value
    assert not env.endpoint.accepted, "a malformed event reached a callback"
    assert env.runner.measure(execution_arn).status == "RUNNING"
    assert env.deliver(env.dms.terminal_replication_event(arn))["Outcome"] == "completed"
