"""The Glue kind's words, with no doubles: the input, the state classification, the run tag, a JobRun's snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from glue_job_run.rules import RUN_TAG_ARGUMENT, classify_job_run_state, job_run_snapshot, parse_job_run_input, run_tag
from waiting.domain import WorkOutcome
from waiting.errors import InvalidInputError

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_the_input_names_the_job_and_may_carry_arguments() -> None:
    request, arguments = parse_job_run_input({"JobName": "nightly-orders", "Arguments": {"--day": "2026-11-30"}})

    assert (request.key, request.key_field) == ("nightly-orders", "JobName"), "the job name is the correlation key"
    assert arguments == {"--day": "2026-11-30"}
    assert parse_job_run_input({"JobName": "nightly-orders"})[1] == {}


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ("nightly-orders", "JSON object"),
        ({}, "JobName"),
        ({"JobName": ""}, "JobName"),
        ({"JobName": "j" * 256}, "JobName"),
        ({"JobName": "j", "Arguments": ["--day"]}, "Arguments"),
        ({"JobName": "j", "Arguments": {"--retries": 3}}, "Arguments"),
        ({"JobName": "j", "Arguments": {RUN_TAG_ARGUMENT: "mine"}}, RUN_TAG_ARGUMENT),
        ({"JobName": "j", "ReplicationTaskArn": "arn"}, "JobName and Arguments"),
    ],
)
def test_invalid_input_is_refused_naming_the_field(event: object, field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        parse_job_run_input(event)


@pytest.mark.parametrize(
    ("state", "outcome"),
    [
        ("STARTING", WorkOutcome.RUNNING),
        ("RUNNING", WorkOutcome.RUNNING),
        ("STOPPING", WorkOutcome.RUNNING),
        ("WAITING", WorkOutcome.RUNNING),
        ("SUCCEEDED", WorkOutcome.SUCCEEDED),
        ("FAILED", WorkOutcome.FAILED),
        ("ERROR", WorkOutcome.FAILED),
        ("TIMEOUT", WorkOutcome.FAILED),
        ("STOPPED", WorkOutcome.FAILED),
        ("EXPIRED", WorkOutcome.FAILED),
        ("SOMETHING_NEW", WorkOutcome.RUNNING),
    ],
)
def test_each_job_run_state_has_one_outcome(state: str, outcome: WorkOutcome) -> None:
    assert classify_job_run_state(state) is outcome


def test_the_tag_is_short_stable_and_one_per_execution() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:GlueCallbackFunction:7/durable-execution/x/y"

    assert run_tag(arn) == run_tag(arn)
    assert run_tag(arn) != run_tag(arn + "z")
    assert len(run_tag(arn)) == 32
    assert "GlueCallbackFunction" not in run_tag(arn)


def test_a_failed_run_carries_glues_error_message_and_its_times() -> None:
    run = {
        "JobRunState": "FAILED",
        "ErrorMessage": "ZeroDivisionError: division by zero",
        "StartedOn": NOW - timedelta(hours=1),
        "CompletedOn": NOW - timedelta(minutes=1),
    }

    snapshot = job_run_snapshot(run, NOW)

    assert snapshot.outcome is WorkOutcome.FAILED
    assert snapshot.last_failure_message == "ZeroDivisionError: division by zero"
    assert "ZeroDivisionError: division by zero" in snapshot.failure_reason()
    assert (snapshot.start_date, snapshot.stop_date) == (NOW - timedelta(hours=1), NOW - timedelta(minutes=1))


def test_a_running_run_has_not_ended_whatever_its_completed_on_says() -> None:
    snapshot = job_run_snapshot({"JobRunState": "RUNNING", "StartedOn": NOW, "CompletedOn": NOW}, NOW)

    assert snapshot.stop_date is None, "a run still running must not look ended (moto stamps CompletedOn at start)"
