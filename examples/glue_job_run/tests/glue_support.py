"""moto's Glue, driven for the example's tests: jobs, their runs, how a run advances, and how it ends.

moto emulates a job run as a ``ManagedState`` (``moto.glue.models.FakeJobRun``: STARTING -> RUNNING -> SUCCEEDED) whose
progression its state manager decides per model, ``glue::job_run``: ``immediate`` (the default: every read shows the
last state), ``manual`` (the next state after every ``times`` reads of that run through GetJobRun or GetJobRuns) or
``time``. moto's runs always succeed and carry no ErrorMessage; ``runs_end_in`` teaches the runs moto starts from then
on to end as Glue says a failed run ends. moto lists runs oldest first, where Glue answers newest first: the example
sorts them itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import moto.glue.models
import pytest
from aws_durable_execution_sdk_python.serdes import SerDesContext
from moto.core import DEFAULT_ACCOUNT_ID
from moto.glue.models import FakeJobRun, glue_backends
from moto.moto_api import state_manager

from glue_job_run.rules import RUN_TAG_ARGUMENT, run_tag
from local_aws.durable_runner import LocalDurableRunner
from waiting.checkpoint_format import CHECKPOINT_JSON
from waiting.work_start import START_STEP_NAME

REGION = "us-east-1"
JOB_RUN_MODEL = "glue::job_run"


@dataclass
class MotoGlue:
    """moto's Glue backend for this test, and the knobs that decide how its runs move."""

    monkeypatch: pytest.MonkeyPatch

    @property
    def client(self) -> Any:
        return boto3.client("glue", region_name=REGION)

    def create_job(self, name: str, max_concurrent_runs: int = 1) -> str:
        self.client.create_job(
            Name=name,
            Role="arn:aws:iam::123456789012:role/glue-job",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://scripts/{name}.py"},
            ExecutionProperty={"MaxConcurrentRuns": max_concurrent_runs},
        )
        return name

    def start_run_of_another_execution(self, job_name: str, execution_arn: str) -> str:
        """A run some other wait started (it carries that execution's tag)."""
        response = self.client.start_job_run(JobName=job_name, Arguments={RUN_TAG_ARGUMENT: run_tag(execution_arn)})
        return str(response["JobRunId"])

    def runs(self, job_name: str) -> list[dict[str, Any]]:
        """The job's runs as moto holds them, oldest first; reading them here does not advance them."""
        return [run.as_dict() for run in self._job_runs(job_name)]

    def set_state(self, job_name: str, run_id: str, state: str) -> None:
        (run,) = (run for run in self._job_runs(job_name) if run.job_run_id == run_id)
        run.status = state

    def advance_runs_every(self, reads: int) -> None:
        """Each run moves to its next state after every ``reads`` reads of it."""
        state_manager.set_transition(JOB_RUN_MODEL, {"progression": "manual", "times": reads})

    def hold_runs(self) -> None:
        """Runs stay where they are (STARTING for a new one) until ``finish_runs``."""
        self.advance_runs_every(10**9)

    def finish_runs(self) -> None:
        """Every run shows its last state at its next read."""
        state_manager.set_transition(JOB_RUN_MODEL, {"progression": "immediate"})

    def runs_end_in(self, state: str, error_message: str) -> None:
        """Runs started from now on end in ``state`` with Glue's ``ErrorMessage`` instead of succeeding."""

        class EndingJobRun(FakeJobRun):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                self._transitions = [("STARTING", "RUNNING"), ("RUNNING", state)]

            def as_dict(self) -> dict[str, Any]:
                record: dict[str, Any] = super().as_dict()
                return {**record, "ErrorMessage": error_message} if record["JobRunState"] == state else record

        # FakeJob.start_job_run looks the class up in its module at each call; monkeypatch fails if it moves.
        self.monkeypatch.setattr(moto.glue.models, "FakeJobRun", EndingJobRun)

    def _job_runs(self, job_name: str) -> list[FakeJobRun]:
        return list(glue_backends[DEFAULT_ACCOUNT_ID][REGION].jobs[job_name].job_runs)


@contextmanager
def moto_glue(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoGlue]:
    """moto's Glue for one test; its state manager setting is put back afterwards."""
    try:
        yield MotoGlue(monkeypatch)
    finally:
        state_manager.unset_transition(JOB_RUN_MODEL)


def job_state_change(job_name: str, run_id: str, state: str, message: str = "Job run ended") -> dict[str, Any]:
    """A Glue Job State Change event as EventBridge delivers it (Glue developer guide's example)."""
    return {
        "version": "0",
        "id": "abcdef00-1234-5678-9abc-def012345678",
        "detail-type": "Glue Job State Change",
        "source": "aws.glue",
        "account": "123456789012",
        "time": "2026-11-30T12:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": {
            "jobName": job_name,
            "severity": "INFO" if state == "SUCCEEDED" else "ERROR",
            "state": state,
            "jobRunId": run_id,
            "message": message,
        },
    }


def start_step_record(runner: LocalDurableRunner, execution_arn: str) -> dict[str, Any]:
    """What the execution's start step checkpointed (``waiting.work_start.StartRecord``)."""
    (start,) = [op for op in runner.store.load(execution_arn).operations if op.name == START_STEP_NAME]
    result = start.step_details.result if start.step_details else None
    assert result is not None, "the start step checkpointed no result"
    record: dict[str, Any] = CHECKPOINT_JSON.deserialize(result, SerDesContext())
    return record


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Poll ``condition`` on the real clock (briefly): the local runner invokes handlers on its own threads."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {what}")
        time.sleep(0.005)
