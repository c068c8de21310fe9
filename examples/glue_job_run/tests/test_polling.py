"""The polling variant on a Glue job run: the example's handler, the SDK's local runner, moto's Glue."""

from __future__ import annotations

from glue_job_run.rules import RUN_TAG_ARGUMENT, run_tag
from glue_job_run.tests.glue_support import MotoGlue, start_step_record
from local_aws.durable_runner import LocalDurableRunner
from local_aws.faults import FaultKind, FaultPlan

JOB = "nightly-orders"


def test_polling_waits_for_the_run_it_started_and_reports_its_success(
    polling_runner: LocalDurableRunner, glue: MotoGlue
) -> None:
    glue.create_job(JOB)
    glue.advance_runs_every(2)  # two reads STARTING, two RUNNING, then SUCCEEDED

    execution_arn = polling_runner.start({"JobName": JOB, "Arguments": {"--day": "2026-11-30"}})
    measured = polling_runner.wait(execution_arn)

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["JobName"] == JOB
    assert measured.result["Variant"] == "polling"
    assert measured.result["Status"] == "SUCCEEDED"
    assert measured.result["Polls"] == 4, "one poll per read: 2 STARTING, 1 RUNNING, then SUCCEEDED"
    operations = [op.name for op in polling_runner.store.load(execution_arn).operations if op.parent_id is None]
    # The look is the kind's; the start and the wait keep the core's names (a stored contract, DMS-worded).
    assert operations == ["execution", "inspect-glue-job", "start-replication-task", "wait-for-replication-task"]
    (run,) = glue.runs(JOB)
    assert run["Arguments"] == {"--day": "2026-11-30", RUN_TAG_ARGUMENT: run_tag(execution_arn)}, (
        "the run must carry the caller's arguments and the execution's tag"
    )


def test_a_failed_run_fails_the_execution_with_glues_error_message(
    polling_runner: LocalDurableRunner, glue: MotoGlue
) -> None:
    glue.create_job(JOB)
    glue.runs_end_in("FAILED", "ZeroDivisionError: division by zero")
    glue.advance_runs_every(1)

    measured = polling_runner.run({"JobName": JOB})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "'FAILED'" in measured.error["ErrorMessage"]
    assert "ZeroDivisionError: division by zero" in measured.error["ErrorMessage"], "Glue's reason was lost"


def test_a_start_whose_answer_was_lost_is_adopted_not_repeated(
    polling_runner: LocalDurableRunner, glue: MotoGlue
) -> None:
    glue.create_job(JOB, max_concurrent_runs=3)  # Glue would accept a second start: only the tag prevents one
    glue.advance_runs_every(1)

    with FaultPlan(clock=polling_runner.clock).lose_answer("glue", "StartJobRun") as faults:
        execution_arn = polling_runner.start({"JobName": JOB})
        measured = polling_runner.wait(execution_arn)

    assert faults.count(FaultKind.LOSE_ANSWER, "glue", "StartJobRun") == 1, "the fault never fired"
    assert measured.status == "SUCCEEDED", measured.error
    assert len(glue.runs(JOB)) == 1, "the retried start started a second run"
    assert start_step_record(polling_runner, execution_arn)["Adopted"] is True


def test_an_unknown_job_fails_at_the_look_naming_it(polling_runner: LocalDurableRunner, glue: MotoGlue) -> None:
    measured = polling_runner.run({"JobName": "no-such-job"})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "EntityNotFoundException" in measured.error["ErrorMessage"]
    assert "no-such-job" in measured.error["ErrorMessage"]


def test_a_job_already_running_refuses_the_start_and_the_execution_says_so(
    polling_runner: LocalDurableRunner, glue: MotoGlue
) -> None:
    glue.create_job(JOB)  # one run at a time
    glue.hold_runs()
    glue.start_run_of_another_execution(JOB, "arn:aws:lambda:us-east-1:123456789012:function:f:1/other")

    measured = polling_runner.run({"JobName": JOB})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "ConcurrentRunsExceededException" in measured.error["ErrorMessage"]
    assert len(glue.runs(JOB)) == 1, "a refused start must not leave a run behind"


def test_invalid_input_fails_the_execution_naming_the_field(polling_runner: LocalDurableRunner, glue: MotoGlue) -> None:
    measured = polling_runner.run({"JobName": JOB, "Arguments": {"--retries": 3}})

    assert measured.status == "FAILED"
    assert measured.error is not None
    assert "Arguments" in measured.error["ErrorMessage"]
