"""The third-party job variant end to end: ThirdPartyJobFunction on the local runner, the local third-party service
calling back a signed URL, the real CallbackApiFunction behind a local function URL, DynamoDB and Secrets Manager
in moto. The callback's security answers have their own file (tests/test_callback_api.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from aws_adapters.clients import dynamodb_client
from callback_api.tokens import hash_token
from local_aws.dms_simulation import SimulatedOutcome, TaskPlan
from local_aws.durable_runner import ExecutionMeasurements
from local_aws.third_party_environment import ThirdPartyEnvironment
from local_aws.third_party_service import LocalThirdPartyService, Misbehaviour
from tests.third_party_support import ThirdPartyEnvironmentFactory, start_waiting, third_party_environments

SHORT_SAFETY_NET = {"CALLBACK_TIMEOUT_SECONDS": "3600"}


@pytest.fixture
def make_env() -> Iterator[ThirdPartyEnvironmentFactory]:
    with third_party_environments() as make:
        yield make


TASK = "arn:aws:dms:us-east-1:123456789012:task:ORDERS-FULL-LOAD"


def _run(env: ThirdPartyEnvironment, duration: timedelta, plan: TaskPlan | None = None) -> ExecutionMeasurements:
    arn = env.jobs.add_task("orders-full-load", plan or TaskPlan(duration=duration))
    assert arn == TASK
    return env.run({"ReplicationTaskArn": arn})


# --- the callback comes ----------------------------------------------------------------------------------------


def test_a_signed_callback_finishes_a_15_minute_and_a_72_hour_migration_with_the_same_work() -> None:
    measured: dict[str, ExecutionMeasurements] = {}
    for label, duration in (("15min", timedelta(minutes=15)), ("72h", timedelta(hours=72))):
        with third_party_environments() as make:
            env = make()
            measured[label] = _run(env, duration)
            assert env.api.answered == [200], f"{label}: CallbackApiFunction answered {env.api.answered}"
            assert env.lambda_endpoint.accepted == {"succeed": 1}
        assert measured[label].status == "SUCCEEDED", measured[label].error
        assert measured[label].result["Variant"] == "third-party"
        assert measured[label].result["SafetyNetChecks"] == 0

    short, long = measured["15min"], measured["72h"]
    assert (short.invocations, long.invocations) == (2, 2), "expected one invocation to start, one to finish"
    assert short.operations == long.operations, "the variant's work must not grow with the duration"
    assert long.result["WaitSeconds"] >= 72 * 3600 - 1, "finished before the job did"
    assert long.result["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"


def test_a_failed_job_fails_the_execution_with_the_reason_the_callback_carries(
    make_env: ThirdPartyEnvironmentFactory,
) -> None:
    env = make_env()
    plan = TaskPlan(duration=timedelta(hours=2), outcome=SimulatedOutcome.FAILS, failure_message="ORA-00942")

    measured = _run(env, timedelta(hours=2), plan)

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "ORA-00942" in measured.error["ErrorMessage"]
    assert "ReplicationTaskFailedError" in measured.error["ErrorType"]
    assert env.lambda_endpoint.accepted == {"fail": 1}, "CallbackApiFunction should have sent exactly one failure"
    assert env.store.find(TASK) is None, "the claim outlived its execution"


def test_the_claim_and_the_token_exist_before_the_third_party_starts_the_job(
    make_env: ThirdPartyEnvironmentFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = make_env()
    arn = env.jobs.add_task("orders-full-load", TaskPlan(duration=timedelta(minutes=5)))
    seen: list[tuple[bool, bool]] = []
    original = LocalThirdPartyService._put_job

    def record(service: LocalThirdPartyService, job_id: str, request: Any) -> tuple[int, dict[str, Any]]:
        token = urlsplit(request["CallbackUrl"]).path.rsplit("/", 1)[-1]
        seen.append((env.store.find(arn) is not None, env.tokens.find(hash_token(token)) is not None))
        return original(service, job_id, request)

    monkeypatch.setattr(LocalThirdPartyService, "_put_job", record)

    measured = env.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    assert seen == [(True, True)], "the job was started before its callback URL led anywhere"


def test_the_url_carries_an_unguessable_token_and_the_table_keeps_only_its_hash(
    make_env: ThirdPartyEnvironmentFactory,
) -> None:
    env = make_env()
    waiting = start_waiting(env)
    claim = env.store.find(waiting.task_arn)
    assert claim is not None

    token = waiting.path.rsplit("/", 1)[-1]
    items = dynamodb_client().scan(TableName=env.token_table_name)["Items"]

    assert waiting.job.callback_url.startswith(f"{env.api.url}/callbacks/")
    assert claim.callback_id not in waiting.job.callback_url, "the callback id must never be in the URL"
    assert len(token) == 43, "expected secrets.token_urlsafe(32): 256 random bits"
    assert [item["TokenHash"]["S"] for item in items] == [hash_token(token)]
    assert token not in str(items), "the raw token must not be stored"
    assert token not in str(env.runner.store.load(waiting.execution_arn).updates), "the token reached a checkpoint"


def test_two_executions_get_two_different_tokens_and_jobs(make_env: ThirdPartyEnvironmentFactory) -> None:
    env = make_env()
    first = start_waiting(env, name="first", task="orders")
    second = start_waiting(env, name="second", task="invoices")

    assert first.job.job_id != second.job.job_id
    assert first.path != second.path


def test_duplicate_callbacks_complete_the_execution_once_and_get_the_same_answer(
    make_env: ThirdPartyEnvironmentFactory,
) -> None:
    env = make_env()
    env.service.misbehaviour = Misbehaviour.DUPLICATE

    measured = _run(env, timedelta(hours=1))

    assert measured.status == "SUCCEEDED", measured.error
    first, second = env.service.callbacks
    assert (first.status, first.answer) == (second.status, second.answer) == (first.status, first.answer)
    assert first.status == 200
    assert env.lambda_endpoint.accepted == {"succeed": 1}, "the callback was completed more than once"


# --- the callback does not come, or is not believed: the safety net ---------------------------------------------


@pytest.mark.parametrize(
    "misbehaviour",
    [
        Misbehaviour.NO_CALLBACK,
        Misbehaviour.WRONG_SIGNATURE,
        Misbehaviour.MISSING_SIGNATURE,
        Misbehaviour.TAMPERED_BODY,
    ],
)
def test_without_a_valid_callback_the_safety_net_finishes_the_execution_through_the_job_status_endpoint(
    make_env: ThirdPartyEnvironmentFactory, misbehaviour: Misbehaviour
) -> None:
    env = make_env(SHORT_SAFETY_NET)
    env.service.misbehaviour = misbehaviour
    arn = env.jobs.add_task("orders-full-load", TaskPlan(duration=timedelta(minutes=90)))

    execution_arn = env.start({"ReplicationTaskArn": arn})
    log = env.timeline(arn, call_back=misbehaviour is not Misbehaviour.NO_CALLBACK).drive(execution_arn, 60)
    measured = env.runner.measure(execution_arn)

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["SafetyNetChecks"] == 2, "90 minutes with a 1-hour safety net: two checks"
    assert log.count("callback-timed-out") == 2
    assert not env.lambda_endpoint.accepted, "a rejected callback completed something"
    assert all(attempt.status == 401 for attempt in env.service.callbacks), env.service.callbacks
    assert env.service.requests["GET"] == 2, "each safety-net check reads the job status endpoint once"
    assert measured.result["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"


def test_a_late_callback_after_the_safety_net_finished_the_execution_completes_nothing(
    make_env: ThirdPartyEnvironmentFactory,
) -> None:
    env = make_env(SHORT_SAFETY_NET)
    env.service.misbehaviour = Misbehaviour.NO_CALLBACK
    arn = env.jobs.add_task("orders-full-load", TaskPlan(duration=timedelta(minutes=30)))
    measured = env.run({"ReplicationTaskArn": arn})
    env.service.misbehaviour = Misbehaviour.DUPLICATE

    late = env.service.call_back_task(arn)

    assert measured.status == "SUCCEEDED", measured.error
    assert [a.status for a in late] == [404, 404]
    assert late[0].answer == late[1].answer
    assert late[0].answer["Outcome"] == "no-waiting-execution"
    assert not env.lambda_endpoint.accepted


# --- starting the job ------------------------------------------------------------------------------------------


def test_a_throttled_start_is_retried_and_the_job_is_started_once(make_env: ThirdPartyEnvironmentFactory) -> None:
    env = make_env()
    env.service.fail_next(2, status=503)

    measured = _run(env, timedelta(minutes=30))

    assert measured.status == "SUCCEEDED", measured.error
    assert env.service.requests["PUT"] == 3, "two 503s, then the start that worked"
    assert env.jobs.task(TASK).start_calls == 1


def test_a_refused_start_fails_at_once_and_releases_the_claim(make_env: ThirdPartyEnvironmentFactory) -> None:
    env = make_env()
    env.service.fail_next(1, status=400)

    measured = _run(env, timedelta(minutes=30))

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "refused" in measured.error["ErrorMessage"], measured.error
    assert env.service.requests["PUT"] == 1, "a 400 is terminal: no retry"
    assert env.store.find(TASK) is None, "the claim outlived the failed start"


def test_a_second_execution_for_a_task_already_awaited_fails_and_starts_no_second_job(
    make_env: ThirdPartyEnvironmentFactory,
) -> None:
    env = make_env()
    first = start_waiting(env, name="first")

    second = env.runner.run({"ReplicationTaskArn": first.task_arn})

    assert second.status == "FAILED"
    assert second.error is not None
    assert "already awaited" in second.error["ErrorMessage"]
    assert env.service.requests["PUT"] == 1
    assert first.status() == "RUNNING"


def test_the_url_outlives_a_safety_net_round_and_completes_the_re_registered_callback(
    make_env: ThirdPartyEnvironmentFactory,
) -> None:
    env = make_env(SHORT_SAFETY_NET)
    waiting = start_waiting(env, duration=timedelta(minutes=90))
    round_0 = env.store.find(waiting.task_arn)
    assert round_0 is not None
    # The first hour passes without a callback: the safety net looks, finds the job running, and waits again.
    env.runner.advance_clock_to(round_0.registered_at + timedelta(hours=1, seconds=1))
    env.runner.fire_callback_timeout(waiting.execution_arn, round_0.callback_id)
    env.wait_for_callback(waiting.execution_arn, round_number=1)
    round_1 = env.store.find(waiting.task_arn)
    assert round_1 is not None
    assert (round_1.round, round_1.callback_id != round_0.callback_id) == (1, True)
    waiting.finish_job()

    status, answer = waiting.send(waiting.body())
    measured = env.runner.wait(waiting.execution_arn)

    assert (status, answer["Outcome"]) == (200, "completed"), answer
    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["SafetyNetChecks"] == 1
    assert env.service.requests["GET"] == 1, "the safety net read the job's status once"
