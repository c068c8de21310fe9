"""The Glue job run as waited work, against botocore's Stubber: errors by type, the reconciling start, binding.

The Stubber answers exactly the calls queued, in order, and raises on any other: a test that queues no StartJobRun
proves the work did not start a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from glue_job_run.rules import RUN_TAG_ARGUMENT, run_tag
from glue_job_run.work import NEWEST_RUNS, GlueJobRunWork, RunNotShownError
from waiting.domain import WorkOutcome, WorkRequest
from waiting.errors import RequestRejectedError, RetryableError, StartNotConfirmedError, TaskNotFoundError

JOB = "nightly-orders"
REQUEST = WorkRequest(JOB, "start-job-run", key_field="JobName")
EXECUTION = "arn:aws:lambda:us-east-1:123456789012:function:GluePollingFunction:3/durable-execution/e/1"
OTHER_EXECUTION = "arn:aws:lambda:us-east-1:123456789012:function:GluePollingFunction:3/durable-execution/e/2"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Attempt:
    """The one thing the work reads from its step context."""

    attempt: int


@pytest.fixture
def stubbed() -> Iterator[tuple[GlueJobRunWork, Stubber]]:
    client = boto3.client("glue", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield GlueJobRunWork({"--day": "2026-11-30"}, client=client), stubber
        stubber.assert_no_pending_responses()


def _run(run_id: str, state: str, started: datetime, execution_arn: str | None) -> dict[str, Any]:
    arguments = {RUN_TAG_ARGUMENT: run_tag(execution_arn)} if execution_arn else {}
    return {"Id": run_id, "JobName": JOB, "JobRunState": state, "StartedOn": started, "Arguments": arguments}


def _runs(stubber: Stubber, *runs: dict[str, Any]) -> None:
    stubber.add_response("get_job_runs", {"JobRuns": list(runs)}, {"JobName": JOB, "MaxResults": NEWEST_RUNS})


def test_describe_reads_this_executions_run_not_a_newer_one_of_another(
    stubbed: tuple[GlueJobRunWork, Stubber],
) -> None:
    work, stubber = stubbed
    _runs(
        stubber,
        _run("jr_mine", "RUNNING", NOW, EXECUTION),
        _run("jr_other", "FAILED", NOW + timedelta(minutes=5), OTHER_EXECUTION),
        _run("jr_untagged", "SUCCEEDED", NOW + timedelta(minutes=9), None),
    )

    snapshot = work.describe(REQUEST, EXECUTION, Attempt(1))  # type: ignore[arg-type]

    assert (snapshot.status, snapshot.start_date) == ("RUNNING", NOW)


def test_a_retry_adopts_the_run_its_earlier_attempt_started_and_starts_nothing(
    stubbed: tuple[GlueJobRunWork, Stubber],
) -> None:
    work, stubber = stubbed
    _runs(stubber, _run("jr_mine", "STARTING", NOW, EXECUTION))

    outcome = work.start(REQUEST, EXECUTION, None, Attempt(2))  # type: ignore[arg-type]

    assert outcome.adopted
    assert outcome.started_at == NOW


def test_a_retry_that_finds_no_run_of_its_own_starts_one_tagged(stubbed: tuple[GlueJobRunWork, Stubber]) -> None:
    work, stubber = stubbed
    _runs(stubber, _run("jr_other", "SUCCEEDED", NOW - timedelta(days=1), OTHER_EXECUTION))
    arguments = {"--day": "2026-11-30", RUN_TAG_ARGUMENT: run_tag(EXECUTION)}
    stubber.add_response("start_job_run", {"JobRunId": "jr_mine"}, {"JobName": JOB, "Arguments": arguments})

    outcome = work.start(REQUEST, EXECUTION, None, Attempt(2))  # type: ignore[arg-type]

    assert not outcome.adopted


def test_a_retry_whose_look_is_throttled_raises_for_another_attempt_without_starting(
    stubbed: tuple[GlueJobRunWork, Stubber],
) -> None:
    work, stubber = stubbed
    stubber.add_client_error("get_job_runs", "ThrottlingException", "Rate exceeded", 400)

    with pytest.raises(RetryableError) as raised:
        work.start(REQUEST, EXECUTION, None, Attempt(2))  # type: ignore[arg-type]

    assert not isinstance(raised.value, RunNotShownError), "a throttled look must not count as 'no run of ours'"


def test_a_retried_start_refused_while_glue_lists_no_run_of_ours_is_retried_not_failed(
    stubbed: tuple[GlueJobRunWork, Stubber],
) -> None:
    work, stubber = stubbed
    _runs(stubber)
    stubber.add_client_error("start_job_run", "ConcurrentRunsExceededException", "Job already running", 400)

    with pytest.raises(StartNotConfirmedError):
        work.start(REQUEST, EXECUTION, None, Attempt(2))  # type: ignore[arg-type]


def test_a_first_start_refused_by_glue_fails_at_once(stubbed: tuple[GlueJobRunWork, Stubber]) -> None:
    work, stubber = stubbed
    stubber.add_client_error("start_job_run", "ConcurrentRunsExceededException", "Job already running", 400)

    with pytest.raises(RequestRejectedError, match="ConcurrentRunsExceededException"):
        work.start(REQUEST, EXECUTION, None, Attempt(1))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("ThrottlingException", 400, RetryableError),
        ("OperationTimeoutException", 400, RetryableError),
        ("InternalServiceException", 500, RetryableError),
        ("EntityNotFoundException", 400, TaskNotFoundError),
        ("InvalidInputException", 400, RequestRejectedError),
        ("AccessDeniedException", 400, RequestRejectedError),
    ],
)
def test_glue_errors_are_translated_by_type(
    stubbed: tuple[GlueJobRunWork, Stubber], code: str, status: int, error: type[Exception]
) -> None:
    work, stubber = stubbed
    stubber.add_client_error("get_job_runs", code, "an answer", status)

    with pytest.raises(error, match=code):
        work.describe(REQUEST, EXECUTION, Attempt(1))  # type: ignore[arg-type]


def test_the_look_bounds_the_run_after_every_run_it_saw(stubbed: tuple[GlueJobRunWork, Stubber]) -> None:
    work, stubber = stubbed
    newest = datetime.now(UTC) + timedelta(seconds=30)  # later than the Stubber's stand-in for Glue's Date header
    _runs(
        stubber, _run("jr_old", "SUCCEEDED", newest - timedelta(days=1), None), _run("jr_new", "FAILED", newest, None)
    )

    before = work.look(REQUEST, EXECUTION, Attempt(1))  # type: ignore[arg-type]

    assert before.status == "FAILED", "the look reports the newest run"
    assert before.outcome is WorkOutcome.FAILED
    assert before.observed_at > newest, "a run that began in the look's second would pass for this wait's"
    assert not before.belongs_to_run(before.observed_at)
