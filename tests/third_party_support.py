"""Helpers for the third-party variant's tests: one local environment per test, a waiting execution, its job's
callback URL and the signed bodies a third party would send to it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from local_aws.dms_simulation import TaskPlan
from local_aws.third_party_environment import ThirdPartyEnvironment, third_party_environment
from local_aws.third_party_service import LocalJob

ThirdPartyEnvironmentFactory = Callable[..., ThirdPartyEnvironment]


@contextmanager
def third_party_environments() -> Iterator[ThirdPartyEnvironmentFactory]:
    """``make(settings={...})`` -> a ThirdPartyEnvironment, all closed when the block ends."""
    with ExitStack() as stack:

        def make(settings: dict[str, str] | None = None) -> ThirdPartyEnvironment:
            return stack.enter_context(third_party_environment(settings))

        yield make


@dataclass(frozen=True)
class WaitingExecution:
    """An execution waiting for its third-party job, the job, and the path of its callback URL."""

    env: ThirdPartyEnvironment
    execution_arn: str
    task_arn: str
    job: LocalJob

    @property
    def path(self) -> str:
        return urlsplit(self.job.callback_url).path

    def finish_job(self) -> None:
        """Move the simulated clock past the job's end, as if the time had passed while the execution waited."""
        finishes_at = self.env.jobs.task(self.task_arn).finishes_at
        assert finishes_at is not None, "the job was never started"
        self.env.runner.advance_clock_to(finishes_at + timedelta(seconds=2))

    def document(self, **changes: Any) -> dict[str, Any]:
        """The job's status document as the third party reports it now, with ``changes`` applied."""
        return {**self.env.service.status_document(self.job), **changes}

    def body(self, **changes: Any) -> bytes:
        return json.dumps(self.document(**changes), separators=(",", ":")).encode()

    def send(self, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        """POST ``body`` to the job's callback URL, signed as the third party would unless ``headers`` are given."""
        return self.env.post(self.path, body, self.env.signed(body) if headers is None else headers)

    def status(self) -> str:
        return self.env.runner.measure(self.execution_arn).status


def start_waiting(
    env: ThirdPartyEnvironment, duration: timedelta = timedelta(hours=1), name: str = "execution", task: str = "orders"
) -> WaitingExecution:
    """Start an execution and return once its job runs and it waits on round 0's callback."""
    task_arn = env.jobs.add_task(task, TaskPlan(duration=duration))
    execution_arn = env.start({"ReplicationTaskArn": task_arn}, name=name)
    env.wait_for_callback(execution_arn)
    return WaitingExecution(env, execution_arn, task_arn, env.service.job_for_task(task_arn))
