"""The callback variant end to end, through the real completer: events delivered, duplicated, early, malformed or
lost; two executions for one task; the event racing a re-registration; replay safety; the maximum wait.

The callback handler runs on the local runner, the completer (``dms_events_handler.handler``) reaches it through
the local callback endpoint with its own boto3 lambda client, DynamoDB is moto and DMS is the simulation. Callback
timeouts run on the real clock in the local runner, so the safety-net tests configure one-second periods.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from aws_adapters.callback_sender import CallbackSender
from aws_adapters.clients import dms_client, dynamodb_client
from local_aws.callback_environment import CallbackEnvironment
from local_aws.dms_simulation import SimulatedOutcome, TaskPlan
from local_aws.durable_runner import ExecutionMeasurements
from tests.callback_support import CallbackEnvironmentFactory, callback_environments, run_with_event_delivered
from waiting.errors import InvalidEventError

SHORT_SAFETY_NET = {"CALLBACK_TIMEOUT_SECONDS": "1", "MAX_WAIT_SECONDS": "300"}
# Rounds no real-clock timer ends during a test: the test fires a round's timeout itself.
HOUR_LONG_ROUNDS = {"CALLBACK_TIMEOUT_SECONDS": "3600", "MAX_WAIT_SECONDS": "86400"}


@pytest.fixture
def make_env() -> Iterator[CallbackEnvironmentFactory]:
    with callback_environments() as make:
        yield make


def _finish_task(env: CallbackEnvironment, task_arn: str) -> None:
    """Let the simulated clock run past the task's end (as if the time had passed while the execution waited)."""
    finishes_at = env.dms.task(task_arn).finishes_at
    assert finishes_at is not None, "the task was never started"
    env.runner.advance_clock_to(finishes_at + timedelta(seconds=2))


def _start_and_wait_for_round(
    env: CallbackEnvironment, payload: dict[str, Any], round_number: int = 0, name: str = "execution"
) -> tuple[str, str]:
    execution_arn = env.runner.start(payload, name=name)
    return execution_arn, env.wait_for_callback(execution_arn, round_number)


def _dms_event(task_arn: str, event_type: str, event_id: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "11a11b11-222b-333a-44d4-01234a5b67890",
        "detail-type": "DMS Replication Task State Change",
        "source": "aws.dms",
        "account": "123456789012",
        "time": "2026-11-26T10:00:00Z",
        "region": "us-east-1",
        "resources": [task_arn],
        "detail": {"eventType": event_type, "eventId": event_id, "type": "REPLICATION_TASK"},
    }


# --- the event delivered ------------------------------------------------------------------------------------


def test_a_delivered_event_finishes_a_15_minute_and_a_72_hour_migration_with_the_same_work() -> None:
    measured: dict[str, ExecutionMeasurements] = {}
    for label, duration in (("15min", timedelta(minutes=15)), ("72h", timedelta(hours=72))):
        with callback_environments() as make:
            env = make()
            arn = env.dms.add_task("orders-full-load", TaskPlan(duration=duration))
            measured[label] = run_with_event_delivered(env, {"ReplicationTaskArn": arn})
        assert measured[label].status == "SUCCEEDED", measured[label].error
        assert measured[label].result["SafetyNetChecks"] == 0

    short, long = measured["15min"], measured["72h"]
    assert (short.invocations, long.invocations) == (2, 2), "expected one invocation to start, one to finish"
    assert short.operations == long.operations, "the callback variant's work must not grow with the duration"
    assert short.checkpointed_updates == long.checkpointed_updates
    assert long.result["WaitSeconds"] >= 72 * 3600 - 1, "finished before the task did"


def test_a_failed_task_is_reported_through_the_failure_callback_with_dms_reason(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env()
    plan = TaskPlan(duration=timedelta(hours=2), outcome=SimulatedOutcome.FAILS, failure_message="ORA-00942")
    arn = env.dms.add_task("orders-full-load", plan)

    measured = run_with_event_delivered(env, {"ReplicationTaskArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "ORA-00942" in measured.error["ErrorMessage"]
    assert env.endpoint.accepted == {"fail": 1}, "the completer should have sent exactly one failure"
    assert env.registration(arn) is None, "the correlation item outlived its execution"


def test_the_correlation_exists_before_the_task_is_started(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(minutes=5)))
    seen_at_start: list[bool] = []

    def record_claim(**_kwargs: Any) -> None:
        seen_at_start.append(env.registration(arn) is not None)

    dms_client().meta.events.register("before-call.database-migration-service.StartReplicationTask", record_claim)

    measured = run_with_event_delivered(env, {"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    assert seen_at_start == [True], "the task was started before anyone was registered to hear it finish"


def test_the_event_delivered_three_times_at_once_completes_the_execution_once(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    execution_arn, _ = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})
    _finish_task(env, arn)
    event = env.dms.terminal_event(arn)
    reports: list[Any] = []
    threads = [threading.Thread(target=lambda: reports.append(env.deliver(event))) for _ in range(3)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    measured = env.runner.wait(execution_arn)

    assert measured.status == "SUCCEEDED", measured.error
    outcomes = sorted(report["Outcome"] for report in reports)
    assert outcomes.count("completed") == 1, outcomes
    assert set(outcomes) <= {"completed", "ignored-already-delivered", "ignored-no-waiting-execution"}, outcomes
    assert env.endpoint.accepted["succeed"] == 1, "the callback was completed more than once"


def test_a_duplicate_after_the_execution_finished_changes_nothing(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    measured = run_with_event_delivered(env, {"ReplicationTaskArn": arn})

    report = env.deliver_terminal_event(arn)

    assert report["Outcome"] == "ignored-no-waiting-execution"
    assert env.runner.measure(env.runner.store.list_all()[0].durable_execution_arn).result == measured.result
    assert env.endpoint.accepted["succeed"] == 1


def test_an_event_before_any_execution_registered_is_ignored_and_the_real_one_still_completes(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(minutes=30)))

    early = env.deliver(_dms_event(arn, "REPLICATION_TASK_STOPPED", "DMS-EVENT-0079"))
    measured = run_with_event_delivered(env, {"ReplicationTaskArn": arn})

    assert early["Outcome"] == "ignored-no-waiting-execution"
    assert measured.status == "SUCCEEDED", measured.error
    assert env.endpoint.accepted["succeed"] == 1


def test_an_event_for_a_task_nobody_waits_for_is_ignored(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env()

    report = env.deliver(_dms_event("arn:aws:dms:us-east-1:123456789012:task:OTHER", "REPLICATION_TASK_FAILED", ""))

    assert report["Outcome"] == "ignored-no-waiting-execution"
    assert sum(env.dms.calls.values()) == 0, "the completer asked DMS about a task nobody waits for"
    assert not env.endpoint.accepted
    assert not env.endpoint.refused


def test_a_non_terminal_event_leaves_the_execution_waiting(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    execution_arn, callback_id = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})

    report = env.deliver(_dms_event(arn, "REPLICATION_TASK_STARTED", "DMS-EVENT-0069"))

    assert report["Outcome"] == "ignored-not-terminal"
    assert env.runner.measure(execution_arn).status == "RUNNING"
    registration = env.registration(arn)
    assert registration is not None
    assert registration.callback_id == callback_id
    _finish_task(env, arn)
    assert env.deliver_terminal_event(arn)["Outcome"] == "completed"
    assert env.runner.wait(execution_arn).status == "SUCCEEDED"


def test_a_stale_terminal_event_while_dms_says_running_completes_nothing(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    execution_arn, _ = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})

    report = env.deliver(_dms_event(arn, "REPLICATION_TASK_STOPPED", "DMS-EVENT-0079"))

    assert report["Outcome"] == "ignored-task-still-running"
    assert report["Status"] in {"starting", "running"}
    assert env.runner.measure(execution_arn).status == "RUNNING"
    assert not env.endpoint.accepted
    assert not env.endpoint.refused


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ("garbage", "must be a JSON object"),
        ({"source": "aws.dms"}, "detail-type"),
        ({**_dms_event("x", "REPLICATION_TASK_STOPPED", "DMS-EVENT-0079"), "resources": []}, "resources"),
        (
            {**_dms_event("arn:aws:dms:us-east-1:123456789012:task:ORDERS-FULL-LOAD", "", ""), "detail": {}},
            "detail.eventType",
        ),
        (
            _dms_event("arn:aws:dms:us-east-1:123456789012:rep:INSTANCE", "REPLICATION_TASK_STOPPED", "DMS-EVENT-0079"),
            "resources[0]",
        ),
    ],
    ids=["not-an-object", "no-detail-type", "no-resources", "no-event-type", "not-a-task-arn"],
)
def test_a_malformed_event_is_raised_naming_the_field_so_it_ends_in_the_dead_letter_queue(
    make_env: CallbackEnvironmentFactory, event: object, named: str
) -> None:
    """Raised, not logged away: Lambda retries an asynchronous invocation twice, then the DLQ (alarmed) keeps it."""
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    execution_arn, _ = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})
    _finish_task(env, arn)

    with pytest.raises(InvalidEventError) as raised:
        env.deliver(event)

    assert named in str(raised.value), raised.value
    assert not env.endpoint.accepted, "a malformed event reached a callback"
    assert not env.endpoint.refused, "a malformed event reached a callback"
    assert env.runner.measure(execution_arn).status == "RUNNING"
    assert env.deliver_terminal_event(arn)["Outcome"] == "completed", "the real event must still complete it"


def test_the_completer_fails_loudly_when_its_table_is_not_configured(
    make_env: CallbackEnvironmentFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = make_env()
    monkeypatch.delenv("CALLBACK_TABLE_NAME")

    with pytest.raises(ValueError, match="CALLBACK_TABLE_NAME is required"):
        env.deliver(_dms_event("arn:aws:dms:us-east-1:123456789012:task:X", "REPLICATION_TASK_STOPPED", ""))


def test_a_dms_fault_in_the_completer_is_raised_for_a_retry_and_the_retry_completes(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    execution_arn, _ = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})
    _finish_task(env, arn)
    env.dms.throttle(5, operation="DescribeReplicationTasks")  # every attempt botocore makes in one invocation

    with pytest.raises(Exception, match="throttled"):
        env.deliver_terminal_event(arn)
    retried = env.deliver_terminal_event(arn)

    assert retried["Outcome"] == "completed"
    assert env.runner.wait(execution_arn).status == "SUCCEEDED"
    assert env.endpoint.accepted["succeed"] == 1


def test_a_throttled_dms_read_in_the_completer_is_retried_within_the_same_invocation(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    execution_arn, _ = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})
    _finish_task(env, arn)
    described_before = env.dms.calls["DescribeReplicationTasks"]
    env.dms.throttle(3, operation="DescribeReplicationTasks")

    report = env.deliver_terminal_event(arn)

    assert report["Outcome"] == "completed", "three throttles must not cost the event (issue: the event was lost)"
    assert env.dms.calls["DescribeReplicationTasks"] - described_before == 4
    assert env.runner.wait(execution_arn).status == "SUCCEEDED"


# --- two executions, outside interference -------------------------------------------------------------------


def test_a_second_execution_for_a_waited_task_fails_clearly_and_changes_nothing(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    first_arn, first_callback = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn}, name="first")

    second = env.runner.run({"ReplicationTaskArn": arn})

    assert second.status == "FAILED"
    assert second.error is not None
    assert "already awaited by execution" in second.error["ErrorMessage"]
    assert first_arn in second.error["ErrorMessage"], "the error should name the execution that holds the task"
    registration = env.registration(arn)
    assert registration is not None
    assert (registration.execution_arn, registration.callback_id) == (first_arn, first_callback)
    assert env.dms.calls["StartReplicationTask"] == 1, "the second execution started the task again"
    _finish_task(env, arn)
    assert env.deliver_terminal_event(arn)["Outcome"] == "completed"
    assert env.runner.wait(first_arn).status == "SUCCEEDED"


def test_a_callback_failed_by_someone_else_fails_the_wait_with_their_message(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    execution_arn, callback_id = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})

    CallbackSender().fail(callback_id, "OperatorAbort", "migration cancelled by the on-call engineer", "")

    measured = env.runner.wait(execution_arn)
    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "failed from outside: migration cancelled by the on-call engineer" in measured.error["ErrorMessage"]
    assert env.registration(arn) is None, "the correlation item outlived its execution"


def test_an_unreadable_success_result_makes_the_execution_ask_dms_itself(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env()
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    execution_arn, callback_id = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})
    _finish_task(env, arn)

    CallbackSender().succeed(callback_id, "done, trust me")

    measured = env.runner.wait(execution_arn)
    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["Status"] == "stopped"
    assert measured.result["SafetyNetChecks"] == 1, "the execution should have read DMS instead of the callback"


# --- the safety net -----------------------------------------------------------------------------------------


def test_a_lost_event_is_covered_by_the_safety_net(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env(SHORT_SAFETY_NET)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    execution_arn, _ = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})
    _finish_task(env, arn)  # and DMS's event never arrives

    measured = env.runner.wait(execution_arn)

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["SafetyNetChecks"] == 1
    assert measured.result["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert not env.endpoint.accepted, "nothing should have been sent: no event came"
    assert env.registration(arn) is None


def test_a_lost_failure_event_still_fails_the_execution_with_dms_reason(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env(SHORT_SAFETY_NET)
    plan = TaskPlan(duration=timedelta(hours=1), outcome=SimulatedOutcome.FAILS, failure_message="ORA-01652")
    arn = env.dms.add_task("orders-full-load", plan)
    execution_arn, _ = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})
    _finish_task(env, arn)

    measured = env.runner.wait(execution_arn)

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "ORA-01652" in measured.error["ErrorMessage"]


def test_the_execution_gives_up_after_the_maximum_total_wait(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env(SHORT_SAFETY_NET)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=6)))
    execution_arn, _ = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})
    env.runner.advance_clock_to(env.runner.clock() + timedelta(hours=1))  # DMS time passes; no event comes

    measured = env.runner.wait(execution_arn)

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "MAX_WAIT_SECONDS=300" in measured.error["ErrorMessage"]
    assert "'running'" in measured.error["ErrorMessage"]
    assert env.registration(arn) is None, "a given-up execution must release the task"


def test_a_bad_setting_fails_the_execution_naming_the_variable_before_any_call(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env({"CALLBACK_TIMEOUT_SECONDS": "soon"})
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "CALLBACK_TIMEOUT_SECONDS" in measured.error["ErrorMessage"]
    assert sum(env.dms.calls.values()) == 0
    assert env.aws_calls.count("dynamodb", "PutItem") == 0


def test_replays_write_each_registration_once_and_start_the_task_once(make_env: CallbackEnvironmentFactory) -> None:
    env = make_env(SHORT_SAFETY_NET)
    # About three real seconds of DMS time: the one-second safety net fires a few times before it finishes.
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(seconds=3)))

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    checks = measured.result["SafetyNetChecks"]
    assert checks >= 2, "the task should have outlasted at least two safety-net periods"
    assert measured.invocations == checks + 1, "one invocation to start, one per safety-net check"
    assert env.aws_calls.count("dynamodb", "PutItem") == 1, "the claim was written more than once"
    assert env.aws_calls.count("dynamodb", "UpdateItem") == checks - 1, "one re-registration per extra round"
    assert env.aws_calls.count("dynamodb", "DeleteItem") == 1
    assert env.dms.calls["StartReplicationTask"] == 1
    assert env.dms.task(arn).start_calls == 1


# --- the event racing a re-registration ---------------------------------------------------------------------


def _hold_reregistration(env: CallbackEnvironment, arn: str, while_held: Callable[[], None]) -> threading.Event:
    """Run ``while_held`` when the execution is about to re-register round 1, before the write reaches DynamoDB."""
    held = threading.Event()

    def on_update(params: dict[str, Any], **_kwargs: Any) -> None:
        values = params.get("ExpressionAttributeValues", {})
        if values.get(":round") == {"N": "1"} and not held.is_set():
            held.set()
            while_held()

    dynamodb_client().meta.events.register("before-parameter-build.dynamodb.UpdateItem", on_update)
    return held


def test_an_event_arriving_while_the_execution_re_registers_reaches_the_new_callback(
    make_env: CallbackEnvironmentFactory,
) -> None:
    # Round 0's safety net is fired by the test, when it is ready; round 1's callback is armed before its
    # re-registration, and no real-clock timeout may end it while the hold below plays the completer's first attempt.
    env = make_env({**HOUR_LONG_ROUNDS, "REREGISTRATION_GRACE_SECONDS": "30"})
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    reports: list[Any] = []

    def event_finds_the_old_callback_closed() -> None:
        # Round 0 timed out and DMS said "running"; now the task ends and its event arrives before the new
        # callback is registered: the completer finds round 0's callback, already closed.
        _finish_task(env, arn)
        completer = threading.Thread(target=lambda: reports.append(env.deliver_terminal_event(arn)))
        completer.start()
        deadline = time.monotonic() + 20
        while env.endpoint.refused["succeed"] < 1 and time.monotonic() < deadline:
            time.sleep(0.005)

    execution_arn, round_0 = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})
    held = _hold_reregistration(env, arn, event_finds_the_old_callback_closed)
    env.runner.fire_callback_timeout(execution_arn, round_0)
    measured = env.runner.wait(execution_arn)

    assert held.is_set(), "the execution never re-registered"
    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["SafetyNetChecks"] == 1, "only round 0's safety net should have fired"
    assert env.endpoint.refused["succeed"] == 1, "the completer should first have hit the closed callback"
    assert env.endpoint.accepted["succeed"] == 1, "the event should have completed the new callback, once"
    deadline = time.monotonic() + 10
    while not reports and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [r["Outcome"] for r in reports] == ["completed"]
    assert reports[0]["Round"] == 1


def test_an_event_whose_re_registration_comes_too_late_is_taken_by_the_next_round_at_once(
    make_env: CallbackEnvironmentFactory,
) -> None:
    env = make_env({**HOUR_LONG_ROUNDS, "REREGISTRATION_GRACE_SECONDS": "0.2"})
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=1)))
    reports: list[Any] = []

    def completer_gives_up_before_the_new_callback_exists() -> None:
        _finish_task(env, arn)
        reports.append(env.deliver_terminal_event(arn))

    execution_arn, round_0 = _start_and_wait_for_round(env, {"ReplicationTaskArn": arn})
    _hold_reregistration(env, arn, completer_gives_up_before_the_new_callback_exists)
    env.runner.fire_callback_timeout(execution_arn, round_0)
    measured = env.runner.wait(execution_arn)

    assert [r["Outcome"] for r in reports] == ["left-for-next-round"]
    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["SafetyNetChecks"] == 1, "round 1's re-registration should have taken the finish at once"
    assert measured.result["TaskStoppedAt"] is not None
    assert not env.endpoint.accepted, "nothing was sent to a callback; the finish travelled on the correlation"
    assert env.registration(arn) is None
