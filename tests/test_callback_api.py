"""CallbackApiFunction's security table, one test per answer, through the real handler behind a local function URL.

Every test holds a real execution waiting on its third-party job (ThirdPartyJobFunction on the local runner), sends
a request as the third party (or an impostor) would, and checks the HTTP answer and what happened to the execution:
nothing completed, or completed exactly once.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from aws_adapters.callback_sender import CallbackSender
from aws_adapters.clients import reset_clients, secretsmanager_client
from callback_api.receiver import CallbackAnswer, SignedCallbackReceiver, build_receiver
from callback_api.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers
from callback_api.tokens import CallbackTokenStore, hash_token
from local_aws.aws_call_meter import metered_aws_calls
from local_aws.dms_simulation import TaskPlan
from local_aws.function_url_endpoint import function_url_event
from local_aws.third_party_environment import ThirdPartyEnvironment
from local_aws.third_party_service import Misbehaviour
from tests.third_party_support import ThirdPartyEnvironmentFactory, WaitingExecution, start_waiting
from tests.third_party_support import third_party_environments as _environments
from waiting.observability import get_logger
from waiting.settings import (
    DEFAULT_CALLBACK_MAX_BODY_BYTES,
    DEFAULT_REPLAY_WINDOW_SECONDS,
    CallbackApiSettings,
)


@pytest.fixture
def env() -> Iterator[ThirdPartyEnvironment]:
    with _environments() as make:
        yield make()


@pytest.fixture
def make_env() -> Iterator[ThirdPartyEnvironmentFactory]:
    with _environments() as make:
        yield make


@pytest.fixture
def waiting(env: ThirdPartyEnvironment) -> WaitingExecution:
    """An execution waiting for a job that has just finished (its callback is due)."""
    execution = start_waiting(env)
    execution.finish_job()
    return execution


def _nothing_completed(waiting: WaitingExecution) -> None:
    assert waiting.status() == "RUNNING", "the execution finished on a rejected request"
    assert not waiting.env.lambda_endpoint.accepted, "a rejected request completed a callback"


def _no_trace(answer: dict[str, object]) -> None:
    text = json.dumps(answer)
    assert "Traceback" not in text
    assert 'File "' not in text


# --- 200: a good callback completes the execution, once ---------------------------------------------------------


def test_a_signed_callback_is_200_and_completes_the_execution(waiting: WaitingExecution) -> None:
    status, answer = waiting.send(waiting.body())

    assert (status, answer["Outcome"]) == (200, "completed"), answer
    assert waiting.env.runner.wait(waiting.execution_arn).status == "SUCCEEDED"
    assert waiting.env.lambda_endpoint.accepted == {"succeed": 1}


# --- 401: missing or wrong signature ---------------------------------------------------------------------------


def test_a_missing_signature_is_401_and_completes_nothing(waiting: WaitingExecution) -> None:
    status, answer = waiting.send(waiting.body(), headers={"Content-Type": "application/json"})

    assert status == 401, answer
    assert "missing" in answer["Message"]
    _nothing_completed(waiting)


def test_a_signature_made_with_another_secret_is_401_and_completes_nothing(waiting: WaitingExecution) -> None:
    body = waiting.body()
    headers = signed_headers(b"an-impostor-secret", int(waiting.env.service.wall_clock()), body)

    status, answer = waiting.send(body, headers=headers)

    assert status == 401, answer
    assert "does not match" in answer["Message"]
    _nothing_completed(waiting)


def test_a_tampered_body_is_401_and_completes_nothing(waiting: WaitingExecution) -> None:
    signed_for = waiting.body()
    headers = waiting.env.signed(signed_for)

    status, answer = waiting.send(waiting.body(Status="failed"), headers=headers)

    assert status == 401, answer
    _nothing_completed(waiting)


def test_a_replayed_request_outside_the_replay_window_is_401_and_completes_nothing(
    waiting: WaitingExecution,
) -> None:
    body = waiting.body()
    old = int(waiting.env.service.wall_clock()) - DEFAULT_REPLAY_WINDOW_SECONDS - 60

    status, answer = waiting.send(body, headers=waiting.env.signed(body, timestamp=old))

    assert status == 401, answer
    assert "replay window" in answer["Message"]
    _nothing_completed(waiting)


def test_a_malformed_signature_header_is_401(waiting: WaitingExecution) -> None:
    body = waiting.body()
    headers = {TIMESTAMP_HEADER: "yesterday", SIGNATURE_HEADER: "v1=zz", "Content-Type": "application/json"}

    status, answer = waiting.send(body, headers=headers)

    assert status == 401, answer
    _nothing_completed(waiting)


# --- a rotated secret: accepted at once; a flood of bad signatures: at most one forced read --------------------


def test_a_warm_function_accepts_a_rotated_secret_at_once(waiting: WaitingExecution) -> None:
    env = waiting.env
    still_running = waiting.body(Status="running", StopReason=None, StopDate=None)
    assert waiting.send(still_running)[0] == 202, "the function reads (and caches) the old secret"
    new_secret = secrets.token_urlsafe(32).encode()
    secretsmanager_client().put_secret_value(SecretId=env.secret_arn, SecretString=new_secret.decode())
    body = waiting.body()

    status, answer = waiting.send(body, {**signed_headers(new_secret, int(env.service.wall_clock()), body)})

    assert (status, answer["Outcome"]) == (200, "completed"), answer
    assert env.runner.wait(waiting.execution_arn).status == "SUCCEEDED"


def test_a_flood_of_wrong_signatures_reads_the_secret_once_per_window(waiting: WaitingExecution) -> None:
    env = waiting.env
    assert waiting.send(waiting.body(Status="running", StopReason=None, StopDate=None))[0] == 202
    body = waiting.body()
    forged = signed_headers(b"an-impostor-secret", int(env.service.wall_clock()), body)

    with metered_aws_calls() as meter:
        reset_clients()
        answers = [waiting.send(body, forged)[0] for _ in range(20)]

    assert answers == [401] * 20
    # One forced refresh: AWSCURRENT, and AWSPREVIOUS as the secret is younger than the rotation overlap.
    assert meter.count("secrets-manager", "GetSecretValue") <= 2, meter.by_service("secrets-manager")
    _nothing_completed(waiting)


# --- 404: unknown or expired token -----------------------------------------------------------------------------


@pytest.mark.parametrize("token", [secrets.token_urlsafe(32), "short", "x" * 500, "%2e%2e"], ids=str.__len__)
def test_an_unknown_token_is_404_and_completes_nothing(waiting: WaitingExecution, token: str) -> None:
    body = waiting.body()

    status, answer = waiting.env.post(f"/callbacks/{token}", body, waiting.env.signed(body))

    assert status == 404, answer
    _no_trace(answer)
    _nothing_completed(waiting)


def test_an_expired_token_is_404_even_before_dynamodb_removes_it(waiting: WaitingExecution) -> None:
    env = waiting.env
    token = secrets.token_urlsafe(32)
    issued_long_ago = CallbackTokenStore(env.token_table_name, clock=lambda: datetime.now(UTC) - timedelta(days=30))
    issued_long_ago.issue(
        hash_token(token), waiting.task_arn, waiting.execution_arn, waiting.job.job_id, timedelta(days=8)
    )
    body = waiting.body()

    status, answer = env.post(f"/callbacks/{token}", body, env.signed(body))

    assert status == 404, answer
    assert answer["Outcome"] == "unknown-callback-url"
    _nothing_completed(waiting)


# --- the same answer as the first time: replays and duplicates -------------------------------------------------


def test_a_replayed_request_inside_the_window_gets_the_first_answer_and_completes_nothing_twice(
    waiting: WaitingExecution,
) -> None:
    body = waiting.body()
    headers = waiting.env.signed(body)

    first = waiting.send(body, headers=headers)
    waiting.env.runner.wait(waiting.execution_arn)
    replayed = waiting.send(body, headers=headers)

    assert first[0] == 200, first
    assert replayed == first, "a replay must get exactly the first answer"
    assert waiting.env.lambda_endpoint.accepted == {"succeed": 1}
    assert not waiting.env.lambda_endpoint.refused, "the replay reached Lambda's callback API"


def test_a_second_callback_with_another_outcome_gets_the_first_answer_and_changes_nothing(
    waiting: WaitingExecution,
) -> None:
    first = waiting.send(waiting.body())
    measured = waiting.env.runner.wait(waiting.execution_arn)

    second = waiting.send(waiting.body(Status="failed", LastFailureMessage="changed its mind"))

    assert second == first
    assert measured.status == "SUCCEEDED"
    assert waiting.env.runner.measure(waiting.execution_arn).result == measured.result
    assert waiting.env.lambda_endpoint.accepted == {"succeed": 1}


def test_three_identical_callbacks_at_the_same_instant_complete_the_execution_once(waiting: WaitingExecution) -> None:
    body = waiting.body()
    headers = waiting.env.signed(body)
    answers: list[tuple[int, dict[str, object]]] = []
    threads = [threading.Thread(target=lambda: answers.append(waiting.send(body, headers=headers))) for _ in range(3)]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    measured = waiting.env.runner.wait(waiting.execution_arn)

    assert measured.status == "SUCCEEDED", measured.error
    assert waiting.env.lambda_endpoint.accepted == {"succeed": 1}, "the callback was completed more than once"
    assert len(answers) == 3
    assert all(status < 500 for status, _ in answers), answers
    assert waiting.send(body, headers=headers) in answers, "a later replay must get one of the answers given"


# --- 400: malformed JSON or wrong shape, naming the problem ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00", "UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'"stopped"', "JSON object"),
        (b'{"Status": "stopped", "ObservedAt": "2026-11-26T10:00:00+00:00"}', "JobId"),
        (b'{"JobId": 7, "Status": "stopped"}', "JobId"),
        (b'{"JobId": "job", "ObservedAt": "2026-11-26T10:00:00+00:00"}', "Status"),
        (b'{"JobId": "job", "Status": 3, "ObservedAt": "2026-11-26T10:00:00+00:00"}', "Status"),
        (b'{"JobId": "job", "Status": "stopped"}', "ObservedAt"),
        (b'{"JobId": "job", "Status": "stopped", "ObservedAt": "soon"}', "ObservedAt"),
        (b'{"JobId": "job", "Status": "stopped", "ObservedAt": "2026-11-26T10:00:00"}', "ObservedAt"),
        (
            b'{"JobId": "j", "Status": "stopped", "ObservedAt": "2026-11-26T10:00Z", "FullLoadProgressPercent": "x"}',
            "FullLoad",
        ),
        (b'{"JobId": "job", "Status": "stopped", "ObservedAt": "2026-11-26T10:00:00Z", "StopReason": 1}', "StopReason"),
        (b"", "not JSON"),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "array",
        "string",
        "no-jobid",
        "jobid-number",
        "no-status",
        "status-number",
        "no-observedat",
        "observedat-not-a-time",
        "observedat-no-zone",
        "progress-text",
        "stopreason-number",
        "empty",
    ],
)
def test_a_malformed_body_is_400_naming_the_problem_and_completes_nothing(
    waiting: WaitingExecution, body: bytes, named: str
) -> None:
    status, answer = waiting.send(body)

    assert status == 400, answer
    assert named in answer["Message"], answer
    _no_trace(answer)
    _nothing_completed(waiting)


# --- 413: body over the limit ---------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_and_completes_nothing(waiting: WaitingExecution) -> None:
    body = waiting.body(Padding="x" * DEFAULT_CALLBACK_MAX_BODY_BYTES)

    status, answer = waiting.send(body)

    assert status == 413, answer
    assert str(DEFAULT_CALLBACK_MAX_BODY_BYTES) in answer["Message"]
    _nothing_completed(waiting)


# --- a token for another execution ----------------------------------------------------------------------------


def test_a_callback_for_another_job_sent_to_this_url_is_409_and_completes_neither(
    make_env: ThirdPartyEnvironmentFactory,
) -> None:
    env = make_env()
    first = start_waiting(env, name="first", task="orders")
    second = start_waiting(env, name="second", task="invoices")
    first.finish_job()
    second.finish_job()

    status, answer = second.send(first.body())

    assert status == 409, answer
    assert first.status() == second.status() == "RUNNING"
    assert not env.lambda_endpoint.accepted
    # The URL is still good for its own job, and the other job's URL for the other job.
    assert second.send(second.body())[0] == 200
    assert first.send(first.body())[0] == 200
    assert env.runner.wait(first.execution_arn).status == env.runner.wait(second.execution_arn).status == "SUCCEEDED"
    assert env.lambda_endpoint.accepted == {"succeed": 2}


def test_a_token_whose_task_is_now_awaited_by_another_execution_is_404_and_completes_nothing(
    make_env: ThirdPartyEnvironmentFactory,
) -> None:
    env = make_env({"CALLBACK_TIMEOUT_SECONDS": "3600"})
    env.service.misbehaviour = Misbehaviour.NO_CALLBACK
    arn = env.jobs.add_task("orders", TaskPlan(duration=timedelta(minutes=30)))
    first = env.run({"ReplicationTaskArn": arn}, name="first-run")  # finished by its safety net
    old_job = env.service.job_for_task(arn)
    old_body = json.dumps(env.service.status_document(old_job)).encode()
    # The task runs again, awaited by a new execution with its own job and token.
    next_run = env.start({"ReplicationTaskArn": arn, "StartReplicationTaskType": "reload-target"}, name="next-run")
    env.wait_for_callback(next_run)

    status, answer = env.post(urlsplit(old_job.callback_url).path, old_body, env.signed(old_body))

    assert first.status == "SUCCEEDED", first.error
    assert (status, answer["Outcome"]) == (404, "no-waiting-execution"), answer
    assert env.runner.measure(next_run).status == "RUNNING", "the old job's callback reached the new execution"
    assert not env.lambda_endpoint.accepted


# --- not final yet, and never a 500 --------------------------------------------------------------------------


def test_a_callback_saying_still_running_is_202_and_leaves_the_url_usable(waiting: WaitingExecution) -> None:
    status, answer = waiting.send(waiting.body(Status="running", StopReason=None, StopDate=None))

    assert (status, answer["Outcome"]) == (202, "ignored-not-terminal"), answer
    assert waiting.status() == "RUNNING"
    assert waiting.send(waiting.body())[0] == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/callbacks/abc", b""),
        ("PUT", "/callbacks/abc", b"{}"),
        ("POST", "/callbacks/", b"{}"),
        ("POST", "/", b"{}"),
        ("POST", "/callbacks/a/b", b"{}"),
        ("POST", "/callbacks/abc?x=1", b"{}"),
    ],
    ids=["get", "put", "no-token", "root", "nested", "query"],
)
def test_bad_requests_never_get_a_500_or_a_stack_trace(
    waiting: WaitingExecution, method: str, path: str, body: bytes
) -> None:
    event = function_url_event(method, path, {"content-type": "application/json"}, body)
    answer = waiting.env.api.handler(event, waiting.env.api.context_factory())

    assert 400 <= answer["statusCode"] < 500, answer
    assert "Traceback" not in str(answer.get("body"))
    _nothing_completed(waiting)


# --- invoked with something that is not a function URL request: a 400 naming the problem, never a raise ---------

_URL_EVENT = function_url_event("POST", "/callbacks/abc", {"content-type": "application/json"}, b"{}")
_API_GATEWAY_REST_EVENT = {
    "resource": "/callbacks/{token}",
    "path": "/callbacks/abc",
    "httpMethod": "POST",
    "headers": {"Content-Type": "application/json"},
    "multiValueHeaders": {"Content-Type": ["application/json"]},
    "pathParameters": {"token": "abc"},
    "requestContext": {"resourcePath": "/callbacks/{token}", "httpMethod": "POST", "stage": "prod"},
    "body": "{}",
    "isBase64Encoded": False,
}


def _with_http(**changes: object) -> dict[str, object]:
    context = _URL_EVENT["requestContext"]
    return {**_URL_EVENT, "requestContext": {**context, "http": {**context["http"], **changes}}}


@pytest.mark.parametrize(
    ("event", "named"),
    [
        ({}, "requestContext.http is missing"),
        ([], "an array"),
        ("POST /callbacks/abc", "a string"),
        (None, "null"),
        (42, "a number"),
        ({"key1": "value1", "key2": "value2", "key3": "value3"}, "top-level keys: key1, key2, key3"),
        (_API_GATEWAY_REST_EVENT, "API Gateway REST API"),
        ({**_URL_EVENT, "requestContext": {"http": "POST"}}, "requestContext.http is missing"),
        (_with_http(method=5), "requestContext.http.method is a number"),
        ({k: v for k, v in _URL_EVENT.items() if k != "rawPath"}, "rawPath is missing"),
        ({**_URL_EVENT, "headers": {"content-type": ["application/json"]}}, "headers is an object"),
        ({**_URL_EVENT, "body": {"JobId": "job"}}, "body is an object"),
        ({**_URL_EVENT, "isBase64Encoded": "yes"}, "isBase64Encoded is a string"),
        ({**_URL_EVENT, "queryStringParameters": ["a"]}, "queryStringParameters is an array"),
        ({**_URL_EVENT, "cookies": "a=b"}, "cookies is a string"),
    ],
    ids=[
        "empty-object",
        "list",
        "string",
        "none",
        "number",
        "console-test-event",
        "api-gateway-rest-v1",
        "http-not-an-object",
        "method-number",
        "no-rawpath",
        "header-list",
        "body-object",
        "base64-flag-string",
        "query-list",
        "cookies-string",
    ],
)
def test_an_event_that_is_not_a_function_url_request_is_400_naming_the_problem(
    waiting: WaitingExecution, event: object, named: str
) -> None:
    answer = waiting.env.api.handler(event, waiting.env.api.context_factory())

    assert answer["statusCode"] == 400, answer
    assert answer["headers"] == {"Content-Type": "application/json"}
    body = json.loads(answer["body"])
    assert body["Outcome"] == "rejected-not-a-function-url-request"
    assert named in body["Message"], body
    _no_trace(body)
    _nothing_completed(waiting)


def test_a_function_url_request_with_only_the_fields_lambda_always_sends_is_routed(waiting: WaitingExecution) -> None:
    minimal = {k: v for k, v in _URL_EVENT.items() if k not in ("headers", "body", "isBase64Encoded")}

    answer = waiting.env.api.handler(minimal, waiting.env.api.context_factory())

    assert answer["statusCode"] == 401, "an unsigned request must reach the signature check"


# --- the Lambda dies mid-request: the token stays usable, the execution is completed once -----------------------


class LambdaDied(BaseException):
    """The invocation ends here (timeout, out of memory): no except clause for Exception sees it."""


class DyingSender(CallbackSender):
    """Dies on its first send, before (``sent=False``) or after (``sent=True``) Lambda applied the completion."""

    def __init__(self, sent: bool) -> None:
        super().__init__()
        self.sent = sent
        self.died = False

    def succeed(self, callback_id: str, result: str, execution_arn: str | None = None) -> None:
        if not self.died:
            self.died = True
            if self.sent:
                super().succeed(callback_id, result, execution_arn)
            raise LambdaDied
        super().succeed(callback_id, result, execution_arn)


class SharedSecret:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def get(self) -> tuple[bytes, ...]:
        return (self.secret,)

    def refresh(self) -> tuple[bytes, ...]:
        return (self.secret,)


def _receiver(waiting: WaitingExecution, sender: CallbackSender) -> SignedCallbackReceiver:
    secret = SharedSecret(waiting.env.service.secret)
    return build_receiver(CallbackApiSettings.from_env(), secret, get_logger(), sender=sender)


def test_a_crash_between_the_token_lookup_and_the_send_leaves_the_url_usable_and_the_retry_completes_once(
    waiting: WaitingExecution,
) -> None:
    env = waiting.env
    token = waiting.path.rsplit("/", 1)[1]
    body = waiting.body()
    receiver = _receiver(waiting, DyingSender(sent=False))

    with pytest.raises(LambdaDied):
        receiver.receive(token, env.signed(body), body)
    issued = env.tokens.find(hash_token(token))
    retried = receiver.receive(token, env.signed(body), body)

    assert issued is not None
    assert issued.answer is None, "an answer was recorded although nothing was sent"
    assert (retried.status, retried.body["Outcome"]) == (200, "completed"), retried
    assert env.runner.wait(waiting.execution_arn).status == "SUCCEEDED"
    assert env.lambda_endpoint.accepted == {"succeed": 1}


def test_a_crash_after_the_send_completes_the_execution_once_and_the_retry_gets_a_recorded_answer(
    waiting: WaitingExecution,
) -> None:
    env = waiting.env
    token = waiting.path.rsplit("/", 1)[1]
    body = waiting.body()
    receiver = _receiver(waiting, DyingSender(sent=True))

    with pytest.raises(LambdaDied):
        receiver.receive(token, env.signed(body), body)
    env.runner.wait(waiting.execution_arn)
    retried = receiver.receive(token, env.signed(body), body)
    again = receiver.receive(token, env.signed(body), body)

    assert env.runner.measure(waiting.execution_arn).status == "SUCCEEDED"
    assert env.lambda_endpoint.accepted == {"succeed": 1}, "the execution was completed more than once"
    # The retry's answer is recorded and stands. Here it is 404 no-waiting-execution, although this very request
    # completed the execution: the execution has finished and released its correlation, so the callback id is gone
    # and nothing can be asked. (Before the release, the sender's look at the history answers 200 completed.)
    assert retried.recorded
    assert again == CallbackAnswer(retried.status, retried.body, recorded=True), "the recorded answer must stand"
