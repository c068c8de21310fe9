"""The callback variant on a Glue job run: the example's handler waits, the example's completer takes Glue's events.

The handler runs on the local runner; the completer (``glue_job_run.events_handler``) reaches it through the local
callback endpoint with its own boto3 lambda client; DynamoDB and Glue are moto.
"""

from __future__ import annotations

from typing import Any

import pytest

from aws_adapters.clients import service_client
from glue_job_run import events_handler
from glue_job_run.rules import RUN_TAG_ARGUMENT, run_tag
from glue_job_run.tests.glue_support import MotoGlue, job_state_change, start_step_record, wait_until
from local_aws.callback_environment import CallbackEnvironment, LambdaContextStandIn
from local_aws.faults import FaultKind, FaultPlan
from waiting.errors import InvalidEventError
from waiting.event_completion import CompletionReport

JOB = "nightly-orders"
EARLIER_EXECUTION = "arn:aws:lambda:us-east-1:123456789012:function:GlueCallbackFunction:1/durable-execution/a/b"


def _deliver(event: dict[str, Any]) -> CompletionReport:
    """Invoke the example's completer with ``event``, as the EventBridge rule would."""
    return events_handler.handler(event, LambdaContextStandIn(function_name="GlueEventsFunction"))  # type: ignore[arg-type]


def _start_and_wait_for_the_event(env: CallbackEnvironment, payload: dict[str, Any]) -> str:
    """Start an execution; return once it has claimed the job, started its run and waits for the run's event."""
    execution_arn = env.runner.start(payload)
    env.wait_for_callback(execution_arn)
    wait_until(lambda: not env.runner.invocation_in_flight(execution_arn), "the first invocation ended")
    return execution_arn


def _run_id_of(glue: MotoGlue, execution_arn: str) -> str:
    (run,) = [r for r in glue.runs(JOB) if r.get("Arguments", {}).get(RUN_TAG_ARGUMENT) == run_tag(execution_arn)]
    return str(run["Id"])


def test_a_glue_job_state_change_completes_the_waiting_execution(
    callback_env: CallbackEnvironment, glue: MotoGlue
) -> None:
    glue.create_job(JOB)
    glue.hold_runs()
    execution_arn = _start_and_wait_for_the_event(callback_env, {"JobName": JOB})
    glue.finish_runs()

    report = _deliver(job_state_change(JOB, _run_id_of(glue, execution_arn), "SUCCEEDED"))
    measured = callback_env.runner.wait(execution_arn)

    assert report["Outcome"] == "completed", report
    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["JobName"] == JOB
    assert measured.result["Status"] == "SUCCEEDED"
    assert measured.result["SafetyNetChecks"] == 0, "the event, not the safety net, should have ended the wait"
    assert callback_env.registration(JOB) is None, "the job's claim outlived its execution"


def test_a_failed_run_reaches_the_execution_with_glues_error_message(
    callback_env: CallbackEnvironment, glue: MotoGlue
) -> None:
    glue.create_job(JOB)
    glue.runs_end_in("FAILED", "AnalysisException: Table or view not found: orders")
    glue.hold_runs()
    execution_arn = _start_and_wait_for_the_event(callback_env, {"JobName": JOB})
    glue.finish_runs()

    report = _deliver(job_state_change(JOB, _run_id_of(glue, execution_arn), "FAILED"))
    measured = callback_env.runner.wait(execution_arn)

    assert report["Outcome"] == "completed", report
    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "AnalysisException: Table or view not found: orders" in measured.error["ErrorMessage"]
    assert callback_env.endpoint.accepted == {"fail": 1}, "the completer should have sent exactly one failure"


def test_a_stale_event_of_an_earlier_run_finishes_nothing(callback_env: CallbackEnvironment, glue: MotoGlue) -> None:
    glue.create_job(JOB, max_concurrent_runs=2)
    earlier = glue.start_run_of_another_execution(JOB, EARLIER_EXECUTION)
    glue.set_state(JOB, earlier, "FAILED")  # were its event believed, the wait would fail
    glue.hold_runs()
    execution_arn = _start_and_wait_for_the_event(callback_env, {"JobName": JOB})

    stale = _deliver(job_state_change(JOB, earlier, "FAILED"))
    assert stale["Outcome"] == "ignored-task-still-running", stale
    assert not callback_env.runner.store.load(execution_arn).is_complete, "a stale event finished the wait"

    glue.finish_runs()
    report = _deliver(job_state_change(JOB, _run_id_of(glue, execution_arn), "SUCCEEDED"))
    measured = callback_env.runner.wait(execution_arn)

    assert report["Outcome"] == "completed", report
    assert measured.status == "SUCCEEDED", measured.error


def test_an_earlier_runs_event_between_the_claim_and_the_start_is_ignored_by_the_run_bound(
    callback_env: CallbackEnvironment, glue: MotoGlue
) -> None:
    glue.create_job(JOB, max_concurrent_runs=2)
    earlier = glue.start_run_of_another_execution(JOB, EARLIER_EXECUTION)  # an earlier wait's run, ended
    glue.set_state(JOB, earlier, "SUCCEEDED")
    glue.hold_runs()
    reports: list[CompletionReport] = []

    def deliver_stale(**_kwargs: Any) -> None:
        reports.append(_deliver(job_state_change(JOB, earlier, "SUCCEEDED")))

    # The handler's Glue client (one attempt per call, cached): the late event arrives just before our start.
    service_client("glue", 1).meta.events.register("before-call.glue.StartJobRun", deliver_stale)
    execution_arn = _start_and_wait_for_the_event(callback_env, {"JobName": JOB})

    assert [r["Outcome"] for r in reports] == ["ignored-earlier-run"], reports
    glue.finish_runs()
    _deliver(job_state_change(JOB, _run_id_of(glue, execution_arn), "SUCCEEDED"))
    measured = callback_env.runner.wait(execution_arn)
    assert measured.status == "SUCCEEDED", measured.error
    assert len(glue.runs(JOB)) == 2, "one earlier run and this execution's"


def test_the_claim_exists_before_the_run_is_started(callback_env: CallbackEnvironment, glue: MotoGlue) -> None:
    glue.create_job(JOB)
    glue.hold_runs()
    claimed_at_start: list[bool] = []
    service_client("glue", 1).meta.events.register(
        "before-call.glue.StartJobRun", lambda **_: claimed_at_start.append(callback_env.registration(JOB) is not None)
    )

    _start_and_wait_for_the_event(callback_env, {"JobName": JOB})

    assert claimed_at_start == [True], "the run was started before anyone was registered to hear it end"


def test_a_malformed_glue_event_is_raised_naming_the_field(callback_env: CallbackEnvironment, glue: MotoGlue) -> None:
    event = job_state_change(JOB, "jr_1", "SUCCEEDED")
    del event["detail"]["jobName"]

    # Raised, not dropped: Lambda retries it twice, then the dead-letter queue keeps it.
    with pytest.raises(InvalidEventError, match=r"detail\.jobName"):
        _deliver(event)


def test_a_start_whose_answer_was_lost_is_adopted_and_its_event_completes_the_wait(
    callback_env: CallbackEnvironment, glue: MotoGlue
) -> None:
    glue.create_job(JOB, max_concurrent_runs=3)  # Glue would accept a second start: only the tag prevents one
    glue.hold_runs()

    with FaultPlan(clock=callback_env.runner.clock).lose_answer("glue", "StartJobRun") as faults:
        execution_arn = _start_and_wait_for_the_event(callback_env, {"JobName": JOB})
    glue.finish_runs()
    report = _deliver(job_state_change(JOB, _run_id_of(glue, execution_arn), "SUCCEEDED"))
    measured = callback_env.runner.wait(execution_arn)

    assert faults.count(FaultKind.LOSE_ANSWER, "glue", "StartJobRun") == 1, "the fault never fired"
    assert len(glue.runs(JOB)) == 1, "the retried start started a second run"
    assert report["Outcome"] == "completed", report
    assert measured.status == "SUCCEEDED", measured.error
    assert start_step_record(callback_env.runner, execution_arn)["Adopted"] is True


def test_a_second_callback_wait_on_the_same_job_is_refused_while_the_first_holds_it(
    callback_env: CallbackEnvironment, glue: MotoGlue
) -> None:
    glue.create_job(JOB, max_concurrent_runs=2)
    glue.hold_runs()
    first = _start_and_wait_for_the_event(callback_env, {"JobName": JOB})

    second = callback_env.runner.run({"JobName": JOB})

    assert second.status == "FAILED"
    assert second.error is not None
    assert "already awaited" in second.error["ErrorMessage"], "the job name is the claim: one wait per job at a time"
    assert len(glue.runs(JOB)) == 1, "the refused wait must not have started a run"
    assert not callback_env.runner.store.load(first).is_complete
