"""The third-party job API adapter: start and status against the local service, and every answer mapped to the
error tree (retryable or terminal) with the third party's own words."""

from __future__ import annotations

import io
import socket
import urllib.error
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from job_kinds.dms_task.rules import StartReplicationTaskType
from job_kinds.third_party_job.jobs_api import ThirdPartyJobs, job_id_for
from local_aws.dms_simulation import SimulatedDms, SimulatedOutcome, TaskPlan
from local_aws.third_party_service import LocalThirdPartyService
from waiting.domain import WorkOutcome, WorkRequest
from waiting.errors import (
    RetryableError,
    TaskNotFoundError,
    TerminalError,
    ThirdPartyJobRejectedError,
    ThirdPartyJobUnavailableError,
)

CALLBACK = "https://example.invalid/callbacks/token"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(clock: Clock) -> Iterator[LocalThirdPartyService]:
    with LocalThirdPartyService(SimulatedDms(clock=clock), b"secret") as local:
        yield local


def _request(service: LocalThirdPartyService, plan: TaskPlan | None = None) -> WorkRequest:
    arn = service.simulation.add_task("orders", plan or TaskPlan(duration=timedelta(hours=1)))
    return WorkRequest(arn, StartReplicationTaskType.START_REPLICATION)


def test_a_started_job_reports_its_progress_and_its_final_state(service: LocalThirdPartyService, clock: Clock) -> None:
    jobs = ThirdPartyJobs(service.url, timeout_seconds=5)
    request = _request(service)
    job_id = job_id_for("arn:aws:lambda:us-east-1:123456789012:function:f:1/durable-execution/x/y")

    created = jobs.start_job(job_id, request, CALLBACK)
    clock.now += timedelta(minutes=30)
    halfway = jobs.describe_job(job_id, request.key)
    clock.now += timedelta(hours=1)
    final = jobs.describe_job(job_id, request.key)

    assert created == {"JobId": job_id, "Created": True}
    assert (halfway.status, halfway.outcome) == ("running", WorkOutcome.RUNNING)
    assert 0 < (halfway.full_load_progress_percent or 0) < 100
    assert (final.status, final.outcome) == ("stopped", WorkOutcome.SUCCEEDED)
    assert final.observed_at == clock.now, "ObservedAt is the third party's own clock"
    assert final.stop_date is not None
    assert final.start_date is not None


def test_starting_the_same_job_again_is_idempotent(service: LocalThirdPartyService) -> None:
    jobs = ThirdPartyJobs(service.url, timeout_seconds=5)
    request = _request(service)

    jobs.start_job("mw-job", request, CALLBACK)
    again = jobs.start_job("mw-job", request, f"{CALLBACK}-2")

    assert again == {"JobId": "mw-job", "Created": False}
    assert service.simulation.task(request.key).start_calls == 1
    assert service.job("mw-job").callback_url == CALLBACK, "the first request's callback URL is kept"


def test_the_job_ids_are_derived_from_the_execution() -> None:
    first = job_id_for("arn:aws:lambda:us-east-1:1:function:f:1/durable-execution/a/1")

    assert first == job_id_for("arn:aws:lambda:us-east-1:1:function:f:1/durable-execution/a/1")
    assert first != job_id_for("arn:aws:lambda:us-east-1:1:function:f:1/durable-execution/a/2")
    assert first.startswith("mw-")


def test_an_unknown_task_is_not_found(service: LocalThirdPartyService) -> None:
    jobs = ThirdPartyJobs(service.url, timeout_seconds=5)
    request = WorkRequest("arn:aws:dms:us-east-1:123456789012:task:NOPE", StartReplicationTaskType.START_REPLICATION)

    with pytest.raises(TaskNotFoundError, match="not found"):
        jobs.start_job("mw-job", request, CALLBACK)


def test_an_unknown_job_is_not_found(service: LocalThirdPartyService) -> None:
    with pytest.raises(TaskNotFoundError, match="not found"):
        ThirdPartyJobs(service.url, timeout_seconds=5).describe_job("mw-nope", "arn")


def test_a_busy_task_is_refused_with_the_third_partys_words(service: LocalThirdPartyService) -> None:
    jobs = ThirdPartyJobs(service.url, timeout_seconds=5)
    request = _request(service)
    jobs.start_job("mw-first", request, CALLBACK)

    with pytest.raises(ThirdPartyJobRejectedError, match=r"\(409\).*currently running|\(409\).*currently starting"):
        jobs.start_job("mw-second", request, CALLBACK)


@pytest.mark.parametrize(("status", "error"), [(503, RetryableError), (429, RetryableError), (500, RetryableError)])
def test_throttling_and_server_errors_are_retryable(
    service: LocalThirdPartyService, status: int, error: type[Exception]
) -> None:
    service.fail_next(1, status=status)

    with pytest.raises(error, match=str(status)):
        ThirdPartyJobs(service.url, timeout_seconds=5).start_job("mw-job", _request(service), CALLBACK)


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_other_client_errors_are_terminal(service: LocalThirdPartyService, status: int) -> None:
    service.fail_next(1, status=status)

    with pytest.raises(TerminalError, match=str(status)):
        ThirdPartyJobs(service.url, timeout_seconds=5).start_job("mw-job", _request(service), CALLBACK)


def test_an_unreachable_third_party_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens there

    jobs = ThirdPartyJobs(f"http://127.0.0.1:{port}", timeout_seconds=2)

    with pytest.raises(ThirdPartyJobUnavailableError, match="did not answer"):
        jobs.describe_job("mw-job", "arn")


class _Answer(io.BytesIO):
    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *args: object) -> None:
        self.close()


def _opener(result: Any) -> Any:
    def open_url(request: Any, timeout: float) -> Any:
        if isinstance(result, BaseException):
            raise result
        return _Answer(result)

    return open_url


@pytest.mark.parametrize(
    ("result", "error", "named"),
    [
        (TimeoutError("timed out"), ThirdPartyJobUnavailableError, "timed out"),
        (urllib.error.URLError("connection reset"), ThirdPartyJobUnavailableError, "connection reset"),
        (b"<html>bad gateway</html>", ThirdPartyJobUnavailableError, "not JSON"),
        (b"[1]", ThirdPartyJobRejectedError, "not an object"),
        (b'{"Status": "stopped"}', ThirdPartyJobRejectedError, "ObservedAt"),
    ],
    ids=["timeout", "reset", "html", "array", "no-observedat"],
)
def test_odd_answers_are_mapped_by_type_and_named(result: Any, error: type[Exception], named: str) -> None:
    jobs = ThirdPartyJobs("https://jobs.example.invalid", timeout_seconds=1, opener=_opener(result))

    with pytest.raises(error, match=named):
        jobs.describe_job("mw-job", "arn")


def test_a_failed_job_carries_the_third_partys_reason(service: LocalThirdPartyService, clock: Clock) -> None:
    jobs = ThirdPartyJobs(service.url, timeout_seconds=5)
    plan = TaskPlan(duration=timedelta(hours=1), outcome=SimulatedOutcome.FAILS, failure_message="ORA-01555")
    request = _request(service, plan)
    jobs.start_job("mw-job", request, CALLBACK)
    clock.now += timedelta(hours=2)

    final = jobs.describe_job("mw-job", request.key)

    assert final.outcome is WorkOutcome.FAILED
    assert "ORA-01555" in final.failure_reason()
