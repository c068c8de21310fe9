"""The DMS Serverless kind piece by piece: its rules, the one DMS input parser, the adapter's two calls, the
reconciling start and its events. End to end through the handlers: ``test_dms_serverless_variant.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from aws_adapters.dms_gateway import DmsGateway
from job_kinds.dms_inputs import dms_work_for, parse_dms_request
from job_kinds.dms_serverless.events import dms_replication_events, parse_dms_replication_event
from job_kinds.dms_serverless.rules import PROVISIONING_STATUSES, classify_replication_state
from job_kinds.dms_serverless.work import dms_replication_work, start_took_effect
from job_kinds.dms_task.events import dms_task_events
from local_aws.dms_serverless_simulation import PROVISIONING_PHASES
from waiting.domain import WorkOutcome, WorkRequest, WorkSnapshot
from waiting.errors import (
    DmsRequestRejectedError,
    DmsThrottledError,
    InvalidDmsEventError,
    InvalidInputError,
    StartNotConfirmedError,
    TaskNotFoundError,
)

ARN = "arn:aws:dms:us-east-1:123456789012:replication-config:EXAMPLEABCDEFGHIJKLMNOPQRS"
TASK_ARN = "arn:aws:dms:us-east-1:123456789012:task:ORDERS"
DMS_DATE = "Mon, 30 Nov 2026 12:00:00 GMT"
LOOKED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
REQUEST = WorkRequest(ARN, "reload-target", "ReplicationConfigArn", "StartReplicationType")
DESCRIBE_PARAMS = {"Filters": [{"Name": "replication-config-arn", "Values": [ARN]}]}


# --- what each status means ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "stop_reason", "outcome"),
    [
        ("failed", "Stop Reason FATAL_ERROR", WorkOutcome.FAILED),
        ("stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED", WorkOutcome.SUCCEEDED),
        ("stopped", "Stop Reason NORMAL", WorkOutcome.SUCCEEDED),
        ("stopped", "Stop Reason RECOVERABLE_ERROR", WorkOutcome.FAILED),
        ("stopped", "Stop Reason STOPPED_DUE_TO_LOW_MEMORY", WorkOutcome.FAILED),
        ("stopped", None, WorkOutcome.SUCCEEDED),
        ("created", None, WorkOutcome.RUNNING),
        ("running", None, WorkOutcome.RUNNING),
        ("stopping", None, WorkOutcome.RUNNING),
        ("a-status-dms-adds-next-year", None, WorkOutcome.RUNNING),
    ],
)
def test_a_replications_status_and_stop_reason_classify_its_run(
    status: str, stop_reason: str | None, outcome: WorkOutcome
) -> None:
    assert classify_replication_state(status, stop_reason) is outcome


def test_every_provisioning_phase_the_simulation_goes_through_is_a_run_under_way() -> None:
    phases = {status for status, _weight in PROVISIONING_PHASES}

    assert phases == PROVISIONING_STATUSES, "the rules and the simulation disagree on DMS's provisioning statuses"
    assert all(classify_replication_state(p, None) is WorkOutcome.RUNNING for p in phases)


# --- the one input parser -----------------------------------------------------------------------------------


def test_a_replication_input_becomes_a_request_under_the_serverless_fields() -> None:
    request = parse_dms_request({"ReplicationConfigArn": ARN, "StartReplicationType": "reload-target"})

    assert request == WorkRequest(ARN, "reload-target", "ReplicationConfigArn", "StartReplicationType")
    assert request.as_input() == {"ReplicationConfigArn": ARN, "StartReplicationType": "reload-target"}


def test_a_task_input_is_parsed_as_it_always_was() -> None:
    request = parse_dms_request({"ReplicationTaskArn": TASK_ARN})

    assert request == WorkRequest(TASK_ARN, "start-replication", "ReplicationTaskArn", "StartReplicationTaskType")


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({}, "give exactly one"),
        ({"ReplicationTaskArn": TASK_ARN, "ReplicationConfigArn": ARN}, "not both"),
        ({"ReplicationConfigArn": ARN.replace("replication-config", "rep")}, "replication-config:ID"),
        ({"ReplicationConfigArn": ARN, "StartReplicationType": "restart"}, "StartReplicationType must be one of"),
        ({"ReplicationConfigArn": ARN, "Extra": 1}, "unknown input field(s): Extra"),
        ("not a dict", "input must be a JSON object"),
    ],
)
def test_invalid_input_is_refused_naming_the_field(event: object, named: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_dms_request(event)

    assert named in str(refused.value)
    if named in ("give exactly one", "not both"):
        assert "ReplicationTaskArn" in str(refused.value)
        assert "ReplicationConfigArn" in str(refused.value)


def test_the_work_is_picked_by_the_requests_key_field() -> None:
    gateway = DmsGateway(client=boto3.client("dms", region_name="us-east-1"))

    serverless = dms_work_for(parse_dms_request({"ReplicationConfigArn": ARN}), gateway)
    task = dms_work_for(parse_dms_request({"ReplicationTaskArn": TASK_ARN}), gateway)

    assert serverless.look_step_name == "inspect-replication"
    assert serverless.describe_work == gateway.describe_replication, "a replication is read with DescribeReplications"
    assert task.look_step_name == "inspect-replication-task"
    assert task.describe_work == gateway.describe_task, "a task is read with DescribeReplicationTasks"


# --- the adapter: StartReplication and DescribeReplications --------------------------------------------------


@pytest.fixture
def stubbed() -> tuple[DmsGateway, Stubber]:
    client = boto3.client("dms", region_name="us-east-1")
    return DmsGateway(client=client), Stubber(client)


def _answer(replications: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Replications": replications,
        "ResponseMetadata": {"HTTPHeaders": {"date": DMS_DATE}, "HTTPStatusCode": 200},
    }


def test_a_failed_replication_is_read_with_its_failure_messages_joined(stubbed: tuple[DmsGateway, Stubber]) -> None:
    gateway, stubber = stubbed
    start, stop = LOOKED_AT - timedelta(hours=2), LOOKED_AT - timedelta(minutes=5)
    replication = {
        "ReplicationConfigArn": ARN,
        "Status": "failed",
        "StopReason": "Stop Reason FATAL_ERROR",
        "FailureMessages": ["ORA-01555: snapshot too old", "Stream component failed"],
        "ReplicationStats": {"FullLoadProgressPercent": 40, "StartDate": start, "StopDate": stop},
    }
    stubber.add_response("describe_replications", _answer([replication]), DESCRIBE_PARAMS)

    with stubber:
        snapshot = gateway.describe_replication(ARN)

    assert snapshot.outcome is WorkOutcome.FAILED
    assert snapshot.last_failure_message == "ORA-01555: snapshot too old; Stream component failed"
    assert (snapshot.start_date, snapshot.stop_date) == (start, stop)
    assert snapshot.full_load_progress_percent == 40
    assert snapshot.observed_at == LOOKED_AT, "observed time is DMS's Date header"
    assert "ORA-01555: snapshot too old; Stream component failed" in snapshot.failure_reason()


def test_a_replication_never_started_has_no_stats_and_no_run(stubbed: tuple[DmsGateway, Stubber]) -> None:
    gateway, stubber = stubbed
    stubber.add_response(
        "describe_replications", _answer([{"ReplicationConfigArn": ARN, "Status": "created"}]), DESCRIBE_PARAMS
    )

    with stubber:
        snapshot = gateway.describe_replication(ARN)

    assert (snapshot.status, snapshot.outcome) == ("created", WorkOutcome.RUNNING)
    assert snapshot.start_date is None
    assert snapshot.last_failure_message is None


@pytest.mark.parametrize("answer", ["empty-list", "fault", "another-replication"])
def test_no_replication_under_the_arn_is_not_found(stubbed: tuple[DmsGateway, Stubber], answer: str) -> None:
    gateway, stubber = stubbed
    if answer == "fault":
        stubber.add_client_error("describe_replications", "ResourceNotFoundFault", "No replications found", 404)
    else:
        other = [{"ReplicationConfigArn": ARN + "X", "Status": "running"}] if answer == "another-replication" else []
        stubber.add_response("describe_replications", _answer(other), DESCRIBE_PARAMS)

    with stubber, pytest.raises(TaskNotFoundError, match="DMS replication not found"):
        gateway.describe_replication(ARN)


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("InvalidParameterCombinationException", 400, DmsRequestRejectedError),
        ("InvalidResourceStateFault", 400, DmsRequestRejectedError),
        ("ThrottlingException", 400, DmsThrottledError),
        ("ResourceNotFoundFault", 404, TaskNotFoundError),
    ],
)
def test_start_replication_errors_are_translated_as_for_tasks(
    stubbed: tuple[DmsGateway, Stubber], code: str, status: int, error: type[Exception]
) -> None:
    gateway, stubber = stubbed
    stubber.add_client_error("start_replication", code, "DMS says no", status)

    with stubber, pytest.raises(error) as raised:
        gateway.start_replication(ARN, "start-replication")

    assert ARN in str(raised.value)


def test_start_replication_returns_when_dms_accepted_it(stubbed: tuple[DmsGateway, Stubber]) -> None:
    gateway, stubber = stubbed
    stubber.add_response(
        "start_replication",
        {
            "Replication": {"ReplicationConfigArn": ARN, "Status": "initializing"},
            "ResponseMetadata": {"HTTPHeaders": {"date": DMS_DATE}, "HTTPStatusCode": 200},
        },
        {"ReplicationConfigArn": ARN, "StartReplicationType": "start-replication"},
    )

    with stubber:
        assert gateway.start_replication(ARN, "start-replication") == LOOKED_AT


# --- the reconciling start ----------------------------------------------------------------------------------


def _state(status: str, start: datetime | None = None, observed: timedelta = timedelta(minutes=1)) -> WorkSnapshot:
    return WorkSnapshot(
        status, None, None, None, None, LOOKED_AT + observed, start, outcome=classify_replication_state(status, None)
    )


# The look: the previous run's end, seen by DMS at LOOKED_AT (the run bound).
BEFORE = _state("stopped", LOOKED_AT - timedelta(days=1), observed=timedelta(0))


@dataclass
class FakeDmsGateway:
    now: WorkSnapshot
    refuse_start: bool = False
    starts: list[str] = field(default_factory=list)

    def describe_replication(self, config_arn: str) -> WorkSnapshot:
        return self.now

    def start_replication(self, config_arn: str, start_type: str) -> datetime:
        if self.refuse_start:
            raise DmsRequestRejectedError("InvalidResourceStateFault: Replication is currently initializing")
        self.starts.append(start_type)
        return LOOKED_AT + timedelta(seconds=5)


@dataclass(frozen=True)
class Attempt:
    attempt: int
    logger: Any = None


def _start(gateway: FakeDmsGateway, attempt: int) -> Any:
    work = dms_replication_work(gateway)  # type: ignore[arg-type]
    return work.start(REQUEST, "execution", BEFORE, Attempt(attempt))  # type: ignore[arg-type]


def test_a_retry_adopts_a_run_that_is_still_provisioning() -> None:
    gateway = FakeDmsGateway(now=_state("fetching_metadata", LOOKED_AT + timedelta(seconds=2)))

    outcome = _start(gateway, attempt=2)

    assert gateway.starts == [], "the earlier start took effect: starting again would be refused, or start twice"
    assert outcome.adopted
    assert outcome.started_at == LOOKED_AT + timedelta(seconds=2)


def test_a_retry_starts_when_dms_still_shows_the_previous_run() -> None:
    gateway = FakeDmsGateway(now=BEFORE)

    outcome = _start(gateway, attempt=2)

    assert gateway.starts == ["reload-target"]
    assert not outcome.adopted


def test_a_retry_refused_while_dms_does_not_show_the_run_yet_is_retried_not_failed() -> None:
    with pytest.raises(StartNotConfirmedError):
        _start(FakeDmsGateway(now=BEFORE, refuse_start=True), attempt=2)


def test_a_first_attempt_refused_is_a_terminal_error() -> None:
    with pytest.raises(DmsRequestRejectedError) as refused:
        _start(FakeDmsGateway(now=BEFORE, refuse_start=True), attempt=1)

    assert not isinstance(refused.value, StartNotConfirmedError)


@pytest.mark.parametrize(
    ("before", "now", "took_effect"),
    [
        (BEFORE, _state("initializing"), True),
        (BEFORE, _state("running", LOOKED_AT + timedelta(seconds=3)), True),
        (_state("created", observed=timedelta(0)), _state("provisioning_capacity"), True),
        (BEFORE, BEFORE, False),
        (_state("created", observed=timedelta(0)), _state("created"), False),
        (_state("running", LOOKED_AT - timedelta(hours=1)), _state("running", LOOKED_AT - timedelta(hours=1)), False),
    ],
    ids=["initializing-no-date-yet", "running-since", "first-run-provisioning", "previous-run", "never-ran", "busy"],
)
def test_what_counts_as_the_earlier_start_having_taken_effect(
    before: WorkSnapshot, now: WorkSnapshot, took_effect: bool
) -> None:
    assert start_took_effect(before, now) is took_effect


# --- events -------------------------------------------------------------------------------------------------


def _event(event_type: str, resource: str = ARN) -> dict[str, Any]:
    return {
        "source": "aws.dms",
        "detail-type": "DMS Replication State Change",
        "resources": [resource],
        "time": "2026-11-30T12:00:00Z",
        "detail": {"type": "REPLICATION_CONFIG", "eventType": event_type, "detailMessage": "has stopped."},
    }


@pytest.mark.parametrize(
    ("event_type", "terminal"),
    [("REPLICATION_STOPPED", True), ("REPLICATION_FAILED", True), ("REPLICATION_INITIALIZING", False)],
)
def test_a_replication_event_is_terminal_when_it_stopped_or_failed(event_type: str, terminal: bool) -> None:
    event = parse_dms_replication_event(_event(event_type))

    assert event.replication_config_arn == ARN
    assert event.is_terminal is terminal


def test_each_kind_recognises_only_its_own_detail_type() -> None:
    gateway = DmsGateway(client=boto3.client("dms", region_name="us-east-1"))
    replication_event = _event("REPLICATION_STOPPED")
    task_event = {**replication_event, "detail-type": "DMS Replication Task State Change", "resources": [TASK_ARN]}

    assert dms_replication_events(gateway).recognises(replication_event)
    assert not dms_replication_events(gateway).recognises(task_event)
    assert dms_task_events(gateway).recognises(task_event)
    assert not dms_task_events(gateway).recognises(replication_event)


def test_a_replication_event_naming_a_task_is_malformed() -> None:
    with pytest.raises(InvalidDmsEventError, match=r"resources\[0\]"):
        parse_dms_replication_event(_event("REPLICATION_STOPPED", resource=TASK_ARN))
