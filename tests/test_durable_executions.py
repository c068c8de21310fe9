"""The durable-execution reader: Lambda's answers mapped onto statuses, outcomes and the error tree (Stubber), and
the same reads against real local executions through the local endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
from aws_durable_execution_sdk_python.exceptions import CallbackError
from botocore.config import Config
from botocore.stub import Stubber

from aws_adapters.durable_executions import (
    CallbackOutcome,
    CallbackStatus,
    DurableExecutions,
    ExecutionStatus,
)
from local_aws.callback_endpoint import LocalCallbackEndpoint
from local_aws.durable_runner import LocalDurableRunner, local_durable_runner
from local_aws.environment import patched_environment
from waiting.errors import (
    DurableCallbackNotFoundError,
    DurableExecutionNotFoundError,
    DurableExecutionReadRejectedError,
    DurableExecutionReadUnavailableError,
)

ARN = "arn:aws:lambda:us-east-1:123456789012:function:ThirdPartyJobFunction:7/durable-execution/run/0f9c"
CALLBACK_ID = "Y2FsbGJhY2stb25l"
OPERATION_ID = "c0ffee"
CALLBACK_NAME = "wait-for-test create callback id"


def _stubbed() -> tuple[DurableExecutions, Stubber]:
    client = boto3.client("lambda", region_name="us-east-1")
    return DurableExecutions(client), Stubber(client)


def _execution(status: str) -> dict[str, Any]:
    return {
        "DurableExecutionArn": ARN,
        "DurableExecutionName": "run",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:ThirdPartyJobFunction:7",
        "StartTimestamp": 1_700_000_000,
        "Status": status,
    }


def _started(callback_id: str = CALLBACK_ID, operation_id: str = OPERATION_ID) -> dict[str, Any]:
    return {"EventType": "CallbackStarted", "Id": operation_id, "CallbackStartedDetails": {"CallbackId": callback_id}}


def _succeeded(payload: str, operation_id: str = OPERATION_ID, truncated: bool = False) -> dict[str, Any]:
    result = {"Payload": payload, "Truncated": truncated}
    return {"EventType": "CallbackSucceeded", "Id": operation_id, "CallbackSucceededDetails": {"Result": result}}


def _history_request(marker: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "DurableExecutionArn": ARN,
        "IncludeExecutionData": True,
        "ReverseOrder": True,
        "MaxItems": 1000,
    }
    return {**request, "Marker": marker} if marker else request


# --- status ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(ExecutionStatus))
def test_every_status_of_the_api_model_is_read(status: ExecutionStatus) -> None:
    executions, stubber = _stubbed()
    stubber.add_response("get_durable_execution", _execution(status.value), {"DurableExecutionArn": ARN})

    with stubber:
        assert executions.status(ARN) is status


def test_only_an_execution_that_can_never_run_again_is_finished() -> None:
    finished = {status for status in ExecutionStatus if status.finished}

    assert finished == {"SUCCEEDED", "FAILED", "TIMED_OUT", "STOPPED", "DELETING"}, "PAUSED may resume: not finished"


@pytest.mark.parametrize(
    ("code", "http_status", "expected"),
    [
        ("ResourceNotFoundException", 404, DurableExecutionNotFoundError),
        ("TooManyRequestsException", 429, DurableExecutionReadUnavailableError),
        ("ServiceException", 500, DurableExecutionReadUnavailableError),
        ("InvalidParameterValueException", 400, DurableExecutionReadRejectedError),
        ("AccessDeniedException", 403, DurableExecutionReadRejectedError),
    ],
)
def test_lambda_errors_on_a_status_read_map_onto_the_error_tree(
    code: str, http_status: int, expected: type[Exception]
) -> None:
    executions, stubber = _stubbed()
    stubber.add_client_error("get_durable_execution", service_error_code=code, http_status_code=http_status)

    with stubber, pytest.raises(expected, match=code):
        executions.status(ARN)


def test_a_status_this_code_does_not_know_is_a_terminal_error_naming_it() -> None:
    executions, stubber = _stubbed()
    stubber.add_response("get_durable_execution", _execution("HIBERNATING"), {"DurableExecutionArn": ARN})

    with stubber, pytest.raises(DurableExecutionReadRejectedError, match="HIBERNATING"):
        executions.status(ARN)


def test_an_unreachable_lambda_is_retryable() -> None:
    nothing_listens = "http://127.0.0.1:9"
    config = Config(connect_timeout=1, read_timeout=1, retries={"total_max_attempts": 1})
    client = boto3.client("lambda", region_name="us-east-1", endpoint_url=nothing_listens, config=config)

    with pytest.raises(DurableExecutionReadUnavailableError, match="unreachable"):
        DurableExecutions(client).status(ARN)


# --- callback outcome -----------------------------------------------------------------------------------------


def test_the_outcome_is_found_across_pages_from_the_callback_id_on_callback_started() -> None:
    executions, stubber = _stubbed()
    # Newest first: the closing event on page one, the CallbackStarted event that names the callback on page two.
    stubber.add_response(
        "get_durable_execution_history",
        {"Events": [_succeeded('{"Status":"stopped"}'), _succeeded("other", operation_id="b")], "NextMarker": "5"},
        _history_request(),
    )
    stubber.add_response(
        "get_durable_execution_history",
        {"Events": [_started("b-callback", operation_id="b"), _started()]},
        _history_request("5"),
    )

    with stubber:
        outcome = executions.callback_outcome(ARN, CALLBACK_ID)

    stubber.assert_no_pending_responses()
    assert outcome == CallbackOutcome(CallbackStatus.SUCCEEDED, result='{"Status":"stopped"}')
    assert outcome.shows_success('{"Status":"stopped"}')
    assert not outcome.shows_success('{"Status":"failed"}')


def test_an_open_callback_has_no_outcome() -> None:
    executions, stubber = _stubbed()
    stubber.add_response("get_durable_execution_history", {"Events": [_started()]}, _history_request())

    with stubber:
        assert executions.callback_outcome(ARN, CALLBACK_ID) is None


def test_a_failed_callback_shows_its_error_type_and_data_and_a_timed_out_one_is_neither() -> None:
    executions, stubber = _stubbed()
    error = {"ErrorType": "ReplicationTaskFailed", "ErrorMessage": "ORA-01555", "ErrorData": '{"Status":"failed"}'}
    failed = {"EventType": "CallbackFailed", "Id": OPERATION_ID, "CallbackFailedDetails": {"Error": {"Payload": error}}}
    timed_out = {
        "EventType": "CallbackTimedOut",
        "Id": "t",
        "CallbackTimedOutDetails": {"Error": {"Payload": {"ErrorType": "CallbackTimeout"}}},
    }
    stubber.add_response("get_durable_execution_history", {"Events": [failed, _started()]}, _history_request())
    stubber.add_response(
        "get_durable_execution_history", {"Events": [timed_out, _started("t-callback", "t")]}, _history_request()
    )

    with stubber:
        failure = executions.callback_outcome(ARN, CALLBACK_ID)
        expiry = executions.callback_outcome(ARN, "t-callback")

    assert failure is not None
    assert failure.status is CallbackStatus.FAILED
    assert failure.shows_failure("ReplicationTaskFailed", '{"Status":"failed"}')
    assert not failure.shows_failure("ReplicationTaskFailed", '{"Status":"stopped"}')
    assert not failure.shows_success('{"Status":"failed"}')
    assert expiry is not None
    assert expiry.status is CallbackStatus.TIMED_OUT
    assert not expiry.shows_failure("CallbackTimeout", "")


def test_a_truncated_payload_proves_nothing() -> None:
    executions, stubber = _stubbed()
    stubber.add_response(
        "get_durable_execution_history",
        {"Events": [_succeeded('{"Status":"st', truncated=True), _started()]},
        _history_request(),
    )

    with stubber:
        outcome = executions.callback_outcome(ARN, CALLBACK_ID)

    assert outcome is not None
    assert not outcome.shows_success('{"Status":"st')


def test_a_callback_the_history_does_not_hold_is_an_error() -> None:
    executions, stubber = _stubbed()
    stubber.add_response("get_durable_execution_history", {"Events": [_started("another")]}, _history_request())

    with stubber, pytest.raises(DurableCallbackNotFoundError):
        executions.callback_outcome(ARN, CALLBACK_ID)


def test_a_history_read_that_is_throttled_is_retryable() -> None:
    executions, stubber = _stubbed()
    stubber.add_client_error("get_durable_execution_history", "TooManyRequestsException", http_status_code=429)

    with stubber, pytest.raises(DurableExecutionReadUnavailableError):
        executions.callback_outcome(ARN, CALLBACK_ID)


# --- against real local executions, through the local endpoint -------------------------------------------------


@durable_execution
def _waits_for_one_callback(event: Any, context: DurableContext) -> Any:
    try:
        return context.wait_for_callback(
            lambda _callback_id, _ctx: None,
            name="wait-for-test",
            config=WaitForCallbackConfig(timeout=Duration.from_seconds(60)),
        )
    except CallbackError as err:
        return {"failed": str(err)}


@pytest.fixture
def local() -> Iterator[tuple[LocalDurableRunner, LocalCallbackEndpoint]]:
    with (
        local_durable_runner(_waits_for_one_callback) as runner,
        LocalCallbackEndpoint(runner.runner) as endpoint,
        patched_environment({"AWS_ENDPOINT_URL_LAMBDA": endpoint.url}),
    ):
        yield runner, endpoint


def test_a_local_execution_reads_running_then_succeeded_with_its_callback_open_then_completed(
    local: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    runner, endpoint = local
    executions = DurableExecutions(boto3.client("lambda"))
    arn = runner.start({})
    callback_id = runner.runner.wait_for_callback(arn, name=CALLBACK_NAME)
    while_waiting = (executions.status(arn), executions.callback_outcome(arn, callback_id))

    runner.runner.send_callback_success(callback_id, b'{"Status":"stopped"}')
    runner.wait(arn)

    assert while_waiting == (ExecutionStatus.RUNNING, None)
    assert executions.status(arn) is ExecutionStatus.SUCCEEDED
    outcome = executions.callback_outcome(arn, callback_id)
    assert outcome == CallbackOutcome(CallbackStatus.SUCCEEDED, result='{"Status":"stopped"}')
    assert endpoint.reads == {"GetDurableExecution": 2, "GetDurableExecutionHistory": 2}


def test_a_failed_local_callback_reads_back_with_its_error_through_small_pages(
    local: tuple[LocalDurableRunner, LocalCallbackEndpoint],
) -> None:
    runner, endpoint = local
    executions = DurableExecutions(boto3.client("lambda"), history_page_size=2)
    arn = runner.start({})
    callback_id = runner.runner.wait_for_callback(arn, name=CALLBACK_NAME)
    boto3.client("lambda").send_durable_execution_callback_failure(
        CallbackId=callback_id,
        Error={"ErrorType": "ReplicationTaskFailed", "ErrorMessage": "ORA-01555", "ErrorData": '{"Status":"failed"}'},
    )
    runner.wait(arn)

    outcome = executions.callback_outcome(arn, callback_id)

    assert outcome is not None
    assert outcome.shows_failure("ReplicationTaskFailed", '{"Status":"failed"}'), outcome
    assert outcome.error_message == "ORA-01555"
    assert endpoint.reads["GetDurableExecutionHistory"] > 1, "expected the history to be read over several pages"


def test_an_unknown_local_execution_is_not_found(local: tuple[LocalDurableRunner, LocalCallbackEndpoint]) -> None:
    executions = DurableExecutions(boto3.client("lambda"))

    with pytest.raises(DurableExecutionNotFoundError):
        executions.status("no-such-execution/inv-0")
    with pytest.raises(DurableExecutionNotFoundError):
        executions.callback_outcome("no-such-execution/inv-0", CALLBACK_ID)


def test_the_history_page_is_what_botocore_parses(local: tuple[LocalDurableRunner, LocalCallbackEndpoint]) -> None:
    runner, _ = local
    arn = runner.start({})
    runner.runner.wait_for_callback(arn, name=CALLBACK_NAME)

    page = boto3.client("lambda").get_durable_execution_history(DurableExecutionArn=arn, IncludeExecutionData=True)

    types = [event["EventType"] for event in page["Events"]]
    assert "CallbackStarted" in types, json.dumps(types)
    assert all("EventTimestamp" in event for event in page["Events"])
