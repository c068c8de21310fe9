"""The shared domain rules: input parsing and what a DMS status means. Pure functions, no doubles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from job_kinds.dms_task.rules import StartReplicationTaskType, classify_task_state, parse_task_request
from waiting.domain import WorkOutcome, WorkSnapshot
from waiting.errors import InvalidInputError

ARN = "arn:aws:dms:us-east-1:123456789012:task:ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize(
    ("status", "stop_reason", "expected"),
    [
        ("ready", None, WorkOutcome.RUNNING),
        ("starting", None, WorkOutcome.RUNNING),
        ("running", None, WorkOutcome.RUNNING),
        ("stopping", None, WorkOutcome.RUNNING),
        ("modifying", None, WorkOutcome.RUNNING),
        ("moving", None, WorkOutcome.RUNNING),
        ("testing", None, WorkOutcome.RUNNING),
        ("a-status-dms-adds-next-year", None, WorkOutcome.RUNNING),
        ("stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED", WorkOutcome.SUCCEEDED),
        ("stopped", "STOP_REASON_FULL_LOAD_COMPLETED", WorkOutcome.SUCCEEDED),
        ("stopped", "STOP_REASON_CACHED_CHANGES_APPLIED", WorkOutcome.SUCCEEDED),
        ("stopped", "STOP_REASON_SERVER_TIME", WorkOutcome.SUCCEEDED),
        ("stopped", None, WorkOutcome.SUCCEEDED),
        ("stopped", "Stop Reason FATAL_ERROR", WorkOutcome.FAILED),
        ("stopped", "Stop Reason RECOVERABLE_ERROR", WorkOutcome.FAILED),
        ("stopped", "Stop Reason STOPPED_DUE_TO_LOW_MEMORY", WorkOutcome.FAILED),
        ("stopped", "Stop Reason STOPPED_DUE_TO_LOW_DISK", WorkOutcome.FAILED),
        ("failed", None, WorkOutcome.FAILED),
        ("failed-move", None, WorkOutcome.FAILED),
        ("deleting", None, WorkOutcome.FAILED),
        ("Stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED", WorkOutcome.SUCCEEDED),
    ],
)
def test_classify_task_state_is_the_one_rule_for_done(
    status: str, stop_reason: str | None, expected: WorkOutcome
) -> None:
    assert classify_task_state(status, stop_reason) is expected, f"{status!r}/{stop_reason!r} should be {expected}"


def test_a_request_defaults_to_start_replication() -> None:
    request = parse_task_request({"ReplicationTaskArn": ARN})

    assert request.key == ARN
    assert request.start_type == StartReplicationTaskType.START_REPLICATION


@pytest.mark.parametrize("start_type", ["start-replication", "resume-processing", "reload-target"])
def test_every_dms_start_type_is_accepted(start_type: str) -> None:
    request = parse_task_request({"ReplicationTaskArn": ARN, "StartReplicationTaskType": start_type})

    assert request.start_type == start_type


@pytest.mark.parametrize(
    ("event", "named"),
    [
        (None, "input must be a JSON object"),
        ([ARN], "input must be a JSON object"),
        ("just a string", "input must be a JSON object"),
        ({}, "ReplicationTaskArn is required"),
        ({"ReplicationTaskArn": ""}, "ReplicationTaskArn"),
        ({"ReplicationTaskArn": 42}, "ReplicationTaskArn"),
        ({"ReplicationTaskArn": "arn:aws:dms:us-east-1:123456789012:endpoint:ABC"}, "ReplicationTaskArn"),
        ({"ReplicationTaskArn": "arn:aws:s3:::bucket"}, "ReplicationTaskArn"),
        ({"ReplicationTaskArn": "arn:aws:dms:us-east-1:12345:task:ABC"}, "ReplicationTaskArn"),
        ({"ReplicationTaskArn": ARN, "StartReplicationTaskType": "restart"}, "StartReplicationTaskType"),
        ({"ReplicationTaskArn": ARN, "StartReplicationTaskType": None}, "StartReplicationTaskType"),
        ({"ReplicationTaskArn": ARN, "ReplicationTaskArnn": ARN}, "ReplicationTaskArnn"),
    ],
)
def test_invalid_input_is_rejected_naming_the_problem(event: object, named: str) -> None:
    with pytest.raises(InvalidInputError, match=named):
        parse_task_request(event)


def test_arns_of_other_partitions_are_accepted() -> None:
    for arn in (
        "arn:aws-cn:dms:cn-north-1:123456789012:task:ABC",
        "arn:aws-us-gov:dms:us-gov-west-1:123456789012:task:ABC",
    ):
        assert parse_task_request({"ReplicationTaskArn": arn}).key == arn


# --- run binding: a finished state counts only for the run that began after the look --------------------------

BOUND = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _finished(start: datetime | None, stop: datetime | None) -> WorkSnapshot:
    return WorkSnapshot(
        status="stopped",
        outcome=WorkOutcome.SUCCEEDED,
        stop_reason="Stop Reason FULL_LOAD_ONLY_FINISHED",
        last_failure_message=None,
        full_load_progress_percent=100,
        stop_date=stop,
        observed_at=BOUND + timedelta(hours=3),
        start_date=start,
    )


def test_a_run_that_began_after_the_look_belongs_to_the_wait() -> None:
    assert _finished(BOUND + timedelta(seconds=1), BOUND + timedelta(hours=2)).belongs_to_run(BOUND)


def test_the_previous_run_that_stopped_in_the_same_second_as_the_look_does_not() -> None:
    previous = _finished(BOUND - timedelta(hours=2), BOUND + timedelta(milliseconds=500))

    assert not previous.belongs_to_run(BOUND), "its StartDate predates the look: another run's end"


def test_without_a_start_date_the_stop_date_decides() -> None:
    assert _finished(None, BOUND + timedelta(hours=1)).belongs_to_run(BOUND)
    assert not _finished(None, BOUND - timedelta(hours=1)).belongs_to_run(BOUND)


def test_a_state_with_neither_date_is_not_tied_to_the_run() -> None:
    assert not _finished(None, None).belongs_to_run(BOUND)


def test_a_wait_begun_before_runs_were_bound_accepts_every_state() -> None:
    assert _finished(BOUND - timedelta(days=3), BOUND - timedelta(days=2)).belongs_to_run(None)
