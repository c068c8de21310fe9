"""The simulated DMS follows DMS's start rules, keeps each run's dates, and loses answers only after applying them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_aws.dms_simulation import (
    FAILURE_STOP_REASON,
    START_REPLICATION_RERUN_MESSAGE,
    SUCCESS_STOP_REASON,
    USER_STOP_REASON,
    SimulatedAnswerLost,
    SimulatedDms,
    SimulatedDmsError,
    SimulatedOutcome,
    TaskPlan,
)
from local_aws.faults import FaultKind

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ONE_HOUR = TaskPlan(duration=timedelta(hours=1))
FAILS_HALFWAY = TaskPlan(duration=timedelta(hours=1), outcome=SimulatedOutcome.FAILS, failure_message="disk full")


class ManualClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def dms(clock: ManualClock) -> SimulatedDms:
    return SimulatedDms(clock=clock)


def _start(dms: SimulatedDms, arn: str, start_type: str) -> dict[str, Any]:
    return dms.handle("StartReplicationTask", {"ReplicationTaskArn": arn, "StartReplicationTaskType": start_type})


def _describe(dms: SimulatedDms, arn: str) -> dict[str, Any]:
    answer = dms.handle("DescribeReplicationTasks", {"Filters": [{"Name": "replication-task-arn", "Values": [arn]}]})
    task: dict[str, Any] = answer["ReplicationTasks"][0]
    return task


def _finish(dms: SimulatedDms, clock: ManualClock, arn: str) -> None:
    finishes_at = dms.task(arn).finishes_at
    assert finishes_at is not None, "the task was never started"
    clock.now = finishes_at + timedelta(seconds=1)


# --- the start rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start_type", ["resume-processing", "reload-target"])
def test_a_task_that_never_ran_refuses_every_start_but_start_replication(dms: SimulatedDms, start_type: str) -> None:
    arn = dms.add_task("orders", ONE_HOUR)

    with pytest.raises(SimulatedDmsError) as refused:
        _start(dms, arn, start_type)

    assert refused.value.code == "InvalidParameterCombinationException"
    assert "never ran" in refused.value.message, "the refusal must say why (DMS itself would corrupt the data)"
    assert dms.task(arn).runs == [], "a refused start must not start a run"
    assert _describe(dms, arn)["Status"] == "ready"


def test_a_task_that_never_ran_starts_with_start_replication(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_task("orders", ONE_HOUR)

    task = _start(dms, arn, "start-replication")["ReplicationTask"]

    assert task["Status"] == "starting"
    assert task["ReplicationTaskStats"]["StartDate"] == clock.now
    assert task["ReplicationTaskStats"]["FreshStartDate"] == clock.now
    assert dms.task(arn).start_calls == 1


@pytest.mark.parametrize("first_run", [ONE_HOUR, FAILS_HALFWAY], ids=["after-a-stop", "after-a-failure"])
def test_start_replication_on_a_task_that_ran_before_is_refused_with_dms_message(
    dms: SimulatedDms, clock: ManualClock, first_run: TaskPlan
) -> None:
    arn = dms.add_task("orders", first_run)
    _start(dms, arn, "start-replication")
    _finish(dms, clock, arn)

    with pytest.raises(SimulatedDmsError) as refused:
        _start(dms, arn, "start-replication")

    assert (refused.value.code, refused.value.message) == (
        "InvalidParameterCombinationException",
        "Start Type : START_REPLICATION, valid only for tasks running for the first time",
    )
    assert refused.value.message == START_REPLICATION_RERUN_MESSAGE
    assert len(dms.task(arn).runs) == 1


@pytest.mark.parametrize("start_type", ["resume-processing", "reload-target"])
@pytest.mark.parametrize("first_run", [ONE_HOUR, FAILS_HALFWAY], ids=["after-a-stop", "after-a-failure"])
def test_a_task_that_ran_before_accepts_resume_and_reload(
    dms: SimulatedDms, clock: ManualClock, first_run: TaskPlan, start_type: str
) -> None:
    arn = dms.add_task("orders", first_run)
    _start(dms, arn, "start-replication")
    _finish(dms, clock, arn)

    task = _start(dms, arn, start_type)["ReplicationTask"]

    assert task["Status"] == "starting"
    assert dms.task(arn).start_type == start_type
    assert [run.number for run in dms.task(arn).runs] == [1, 2]


@pytest.mark.parametrize("start_type", ["start-replication", "resume-processing", "reload-target"])
@pytest.mark.parametrize("into_the_run", [timedelta(seconds=10), timedelta(minutes=30)], ids=["starting", "running"])
def test_a_task_with_a_run_in_progress_refuses_any_start(
    dms: SimulatedDms, clock: ManualClock, start_type: str, into_the_run: timedelta
) -> None:
    arn = dms.add_task("orders", ONE_HOUR)
    _start(dms, arn, "start-replication")
    clock.advance(into_the_run)
    status = _describe(dms, arn)["Status"]

    with pytest.raises(SimulatedDmsError) as refused:
        _start(dms, arn, start_type)

    assert refused.value.code == "InvalidResourceStateFault"
    assert status in refused.value.message
    assert dms.task(arn).start_calls == 1


def test_a_task_added_with_a_previous_run_must_be_resumed_or_reloaded(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_task("orders", ONE_HOUR, previous_run=FAILS_HALFWAY)

    before = _describe(dms, arn)
    with pytest.raises(SimulatedDmsError, match="valid only for tasks running for the first time"):
        _start(dms, arn, "start-replication")
    _start(dms, arn, "resume-processing")

    assert before["Status"] == "failed"
    assert before["ReplicationTaskStats"]["StopDate"] == clock.now
    assert dms.task(arn).start_calls == 1, "the run made before the test is not an API call"


# --- each run's dates -----------------------------------------------------------------------------------------


def test_a_resumed_run_has_its_own_start_date_keeps_the_fresh_start_and_no_stop_while_it_runs(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = dms.add_task("orders", FAILS_HALFWAY)
    _start(dms, arn, "start-replication")
    fresh_start = clock.now
    _finish(dms, clock, arn)
    first_stop = dms.task(arn).finishes_at
    clock.advance(timedelta(hours=2))
    resumed_at = clock.now

    _start(dms, arn, "resume-processing")
    clock.advance(timedelta(minutes=5))
    running = _describe(dms, arn)

    stats = running["ReplicationTaskStats"]
    assert running["Status"] == "running"
    assert stats["StartDate"] == resumed_at
    assert stats["FreshStartDate"] == fresh_start, "resume-processing is not a fresh start"
    assert "StopDate" not in stats, f"the previous run's StopDate {first_stop} leaked into this run"
    assert "StopReason" not in running
    assert stats["ElapsedTimeMillis"] == 5 * 60 * 1000


def test_a_reloaded_run_is_a_fresh_start_and_reports_its_own_stop(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_task("orders", ONE_HOUR)
    _start(dms, arn, "start-replication")
    _finish(dms, clock, arn)
    reloaded_at = clock.now

    _start(dms, arn, "reload-target")
    _finish(dms, clock, arn)
    stopped = _describe(dms, arn)

    stats = stopped["ReplicationTaskStats"]
    assert stopped["Status"] == "stopped"
    assert stopped["StopReason"] == SUCCESS_STOP_REASON
    assert stats["StartDate"] == stats["FreshStartDate"] == reloaded_at
    assert stats["StopDate"] == reloaded_at + ONE_HOUR.runs_for
    assert stats["FullLoadProgressPercent"] == 100


def test_the_last_failure_message_outlives_the_failed_run(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_task("orders", FAILS_HALFWAY)
    _start(dms, arn, "start-replication")
    _finish(dms, clock, arn)
    dms.plan_next_run(arn, ONE_HOUR)

    _start(dms, arn, "reload-target")
    _finish(dms, clock, arn)
    described = _describe(dms, arn)

    assert described["Status"] == "stopped"
    assert described["StopReason"] == SUCCESS_STOP_REASON
    assert described["LastFailureMessage"] == "disk full", "DMS keeps the task's last failure message"


def test_a_stopped_run_reports_a_normal_stop_where_it_was(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_task("orders", ONE_HOUR)
    _start(dms, arn, "start-replication")
    clock.advance(timedelta(minutes=30))
    progress = _describe(dms, arn)["ReplicationTaskStats"]["FullLoadProgressPercent"]

    dms.handle("StopReplicationTask", {"ReplicationTaskArn": arn})
    clock.advance(timedelta(hours=2))
    stopped = _describe(dms, arn)

    assert stopped["Status"] == "stopped"
    assert stopped["StopReason"] == USER_STOP_REASON
    assert stopped["ReplicationTaskStats"]["FullLoadProgressPercent"] == progress
    assert dms.terminal_event(arn)["detail"]["detailMessage"] == USER_STOP_REASON


# --- reruns and stale events ----------------------------------------------------------------------------------


def test_a_rerun_follows_its_new_plan_and_each_run_has_its_own_event(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_task("orders", ONE_HOUR)
    _start(dms, arn, "start-replication")
    _finish(dms, clock, arn)

    second = dms.rerun(arn, FAILS_HALFWAY)
    _finish(dms, clock, arn)

    stale, current = dms.terminal_event(arn, run=-2), dms.terminal_event(arn)
    assert second.number == 2
    assert second.start_type == "reload-target"
    assert stale["detail"]["eventType"] == "REPLICATION_TASK_STOPPED"
    assert current["detail"]["eventType"] == "REPLICATION_TASK_FAILED"
    assert current["detail"]["detailMessage"] == "disk full"
    assert stale["id"] != current["id"]
    assert stale["time"] < current["time"]
    assert dms.finished_run_events(arn) == [stale, current]
    assert _describe(dms, arn)["StopReason"] == FAILURE_STOP_REASON
    assert dms.task(arn).start_calls == 1, "an operator's rerun is not the handler's API call"


def test_while_a_rerun_runs_only_the_previous_run_has_an_event(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_task("orders", ONE_HOUR, previous_run=ONE_HOUR)

    dms.rerun(arn, start_type="resume-processing")
    clock.advance(timedelta(minutes=10))

    events = dms.finished_run_events(arn)
    assert len(events) == 1
    assert events[0] == dms.terminal_event(arn, run=-2)
    assert _describe(dms, arn)["Status"] == "running"


def test_a_rerun_obeys_the_start_rules(dms: SimulatedDms, clock: ManualClock) -> None:
    arn = dms.add_task("orders", ONE_HOUR)
    _start(dms, arn, "start-replication")

    with pytest.raises(SimulatedDmsError, match="InvalidResourceStateFault"):
        dms.rerun(arn)
    _finish(dms, clock, arn)
    with pytest.raises(SimulatedDmsError, match="valid only for tasks running for the first time"):
        dms.rerun(arn, start_type="start-replication")


def test_an_unknown_run_has_no_event(dms: SimulatedDms) -> None:
    arn = dms.add_task("orders", ONE_HOUR)

    with pytest.raises(ValueError, match="never started"):
        dms.terminal_event(arn)
    _start(dms, arn, "start-replication")
    with pytest.raises(ValueError, match="no run -2"):
        dms.terminal_event(arn, run=-2)


# --- faults ---------------------------------------------------------------------------------------------------


def test_a_lost_start_answer_still_starts_the_task_and_the_replay_is_refused(
    dms: SimulatedDms, clock: ManualClock
) -> None:
    arn = dms.add_task("orders", ONE_HOUR)
    dms.lose_answer_next(1, operation="StartReplicationTask")

    with pytest.raises(SimulatedAnswerLost) as lost:
        _start(dms, arn, "start-replication")
    with pytest.raises(SimulatedDmsError) as replayed:
        _start(dms, arn, "start-replication")

    assert lost.value.answer is not None, "the lost answer was a success"
    assert dms.task(arn).start_calls == 1, "the lost start must have been applied"
    assert replayed.value.code == "InvalidResourceStateFault"
    assert dms.calls["StartReplicationTask"] == 2
    assert [(f.operation, f.fault, f.at) for f in dms.firings] == [
        ("StartReplicationTask", FaultKind.LOSE_ANSWER, clock.now)
    ]


def test_a_lost_error_answer_is_lost_too(dms: SimulatedDms) -> None:
    dms.lose_answer_next(1)

    with pytest.raises(SimulatedAnswerLost) as lost:
        _start(dms, "arn:aws:dms:us-east-1:123456789012:task:NOPE", "start-replication")

    assert lost.value.error is not None
    assert lost.value.error.code == "ResourceNotFoundFault"
    assert dms.firings[0].detail == "ResourceNotFoundFault"


def test_a_lost_answer_waits_for_its_operation(dms: SimulatedDms) -> None:
    arn = dms.add_task("orders", ONE_HOUR)
    dms.lose_answer_next(1, operation="StartReplicationTask")

    _describe(dms, arn)
    with pytest.raises(SimulatedAnswerLost):
        _start(dms, arn, "start-replication")


def test_an_injected_error_is_not_applied_and_is_recorded_by_kind(dms: SimulatedDms) -> None:
    arn = dms.add_task("orders", ONE_HOUR)
    dms.throttle(1, operation="StartReplicationTask")
    dms.fail_next(1, code="InternalFailure", message="boom", status=500, operation="StartReplicationTask")
    dms.fail_next(1, code="AccessDeniedFault", message="no", operation="StartReplicationTask")

    codes = []
    for _ in range(3):
        with pytest.raises(SimulatedDmsError) as failed:
            _start(dms, arn, "start-replication")
        codes.append(failed.value.code)

    assert codes == ["ThrottlingException", "InternalFailure", "AccessDeniedFault"]
    assert dms.task(arn).runs == []
    assert [f.fault for f in dms.firings] == [FaultKind.THROTTLE, FaultKind.SERVER_ERROR, FaultKind.ERROR]
