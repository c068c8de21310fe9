"""The start every wait shares: a checkpointed look at the work, then one start that reconciles after any ambiguity.

Two named steps, whose names and order are a stored contract (see the README on rolling out an upgrade):

- the look (``inspect-replication-task`` for DMS): the work's state before it is touched, read-only. Its time, taken
  from DMS's own clock, is the *run bound*: a state of the task whose run began before it belongs to another run,
  and never finishes this wait (``WorkSnapshot.belongs_to_run``). A kind whose runs are bound by their own identity
  (the third-party job: one job and one token per execution) has no look.
- the start (``start-replication-task``), ``AT_MOST_ONCE_PER_RETRY`` with a strategy that retries transient faults
  and ``StepInterruptedError``. Attempt 1 starts. Every later attempt follows an ambiguous one (a lost answer, a
  throttle, a Lambda that died inside the call), so it first asks the owner whether that start took effect, adopts
  it if so, and starts only if not. It never starts twice and never fails a task that runs because of its own start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypedDict

from waiting.domain import WorkFinishRecord, WorkRequest, WorkSnapshot
from waiting.durable_policies import RETRY_TRANSIENT_STEP, START_WORK_STEP
from waiting.errors import RequestRejectedError, StartNotConfirmedError

if TYPE_CHECKING:
    from aws_durable_execution_sdk_python import DurableContext
    from aws_durable_execution_sdk_python.types import OperationContext, StepContext


class StartRecord(TypedDict):
    """What the start step checkpoints."""

    ReplicationTaskArn: str
    StartedAt: str
    # DMS's time before the start: states of runs that began earlier are another run's (None: bound by identity).
    RunBoundAt: str | None
    # True when a retry found the start of an earlier, ambiguous attempt in effect and adopted it.
    Adopted: bool


@dataclass(frozen=True)
class StartedWork:
    """The outcome of the start step, read back from its checkpoint."""

    started_at: datetime
    run_bound_at: datetime | None
    adopted: bool

    @classmethod
    def from_record(cls, record: StartRecord) -> StartedWork:
        bound = record.get("RunBoundAt")
        return cls(
            started_at=datetime.fromisoformat(record["StartedAt"]),
            run_bound_at=datetime.fromisoformat(bound) if bound else None,
            adopted=bool(record.get("Adopted", False)),
        )


@dataclass(frozen=True)
class StartOutcome:
    """What one start attempt found or did: when the work started; whether an earlier attempt's start was adopted."""

    started_at: datetime
    adopted: bool = False


class WaitedWork(Protocol):
    """The port: a kind of work an execution starts once and waits for, seen from the waiting core."""

    @property
    def look_step_name(self) -> str | None:
        """The look step's name, or None for a kind whose runs are bound by their identity."""
        ...

    def look(self, request: WorkRequest, execution_arn: str, context: StepContext) -> WorkSnapshot:
        """The work's state before it is touched (only called when ``look_step_name`` is set)."""
        ...

    def start(
        self, request: WorkRequest, execution_arn: str, before: WorkSnapshot | None, context: StepContext
    ) -> StartOutcome:
        """Start the work; on a retry (``context.attempt > 1``) first find out whether an earlier start took effect."""
        ...

    def describe(self, request: WorkRequest, execution_arn: str, context: OperationContext) -> WorkSnapshot:
        """The work's state as its owner reports it now."""
        ...


START_STEP_NAME = "start-replication-task"


def start_took_effect(
    before: WorkSnapshot, now: WorkSnapshot, *, startable: Callable[[WorkSnapshot], bool], under_way: RunUnderWay
) -> bool:
    """Whether the owner shows a run that began after the look: the start of an earlier attempt took effect.

    Work that was startable at the look and now shows a run under way, or a run whose StartDate is not before the
    look, was started since: by this execution, which holds the work (the callback variants' claim) or is the only one
    told to start it.
    """
    if not startable(before):
        return False
    if now.start_date is not None:
        return now.belongs_to_run(before.observed_at)
    return under_way(now)


RunUnderWay = Callable[[WorkSnapshot], bool]


def reconcile_then_start(
    *,
    key: str,
    before: WorkSnapshot | None,
    attempt: int,
    describe: Callable[[], WorkSnapshot],
    start: Callable[[], datetime],
    startable: Callable[[WorkSnapshot], bool],
    under_way: RunUnderWay,
) -> StartOutcome:
    """The reconciling start for work whose owner can be asked (a look exists): adopt an earlier start, or start.

    A refusal on a retry raises StartNotConfirmedError (retryable): the earlier attempt's start may have taken effect
    while the owner does not show it yet; only when the retries run out does the refusal stand.
    """
    retry = attempt > 1
    if retry and before is not None:
        now = describe()
        if start_took_effect(before, now, startable=startable, under_way=under_way):
            return StartOutcome(started_at=now.start_date or now.observed_at, adopted=True)
    try:
        return StartOutcome(started_at=start())
    except RequestRejectedError as err:
        if retry:
            raise StartNotConfirmedError(
                f"{key}: a retried start was refused and the owner does not show this execution's run yet ({err})"
            ) from err
        raise


def look_at_work(
    context: DurableContext, work: WaitedWork, request: WorkRequest, execution_arn: str
) -> WorkSnapshot | None:
    """The checkpointed look before the start (None for a kind without one)."""
    name = work.look_step_name
    if name is None:
        return None

    def look(step_context: StepContext) -> WorkFinishRecord:
        snapshot = work.look(request, execution_arn, step_context)
        step_context.logger.info(
            "Looked at the work before starting it",
            extra={"ReplicationTaskArn": request.key, "Status": snapshot.status},
        )
        return snapshot.to_finish_record()

    record: WorkFinishRecord = context.step(look, name=name, config=RETRY_TRANSIENT_STEP)
    return WorkSnapshot.from_finish_record(record)


def start_work(
    context: DurableContext,
    work: WaitedWork,
    request: WorkRequest,
    execution_arn: str,
    before: WorkSnapshot | None,
) -> StartedWork:
    """Start the work at most once per attempt, reconciling every attempt after the first."""
    run_bound_at = before.observed_at if before is not None else None

    def start(step_context: StepContext) -> StartRecord:
        step_context.logger.info(
            "Starting the work",
            extra={
                "ReplicationTaskArn": request.key,
                "StartType": request.start_type,
                "Attempt": step_context.attempt,
            },
        )
        outcome = work.start(request, execution_arn, before, step_context)
        if outcome.adopted:
            step_context.logger.warning(
                "An earlier attempt's start had taken effect; adopted it instead of starting again",
                extra={"ReplicationTaskArn": request.key, "Attempt": step_context.attempt},
            )
        return {
            "ReplicationTaskArn": request.key,
            "StartedAt": outcome.started_at.isoformat(),
            "RunBoundAt": run_bound_at.isoformat() if run_bound_at else None,
            "Adopted": outcome.adopted,
        }

    record: StartRecord = context.step(start, name=START_STEP_NAME, config=START_WORK_STEP)
    return StartedWork.from_record(record)


@dataclass(frozen=True)
class AskableWork:
    """Work whose owner can be asked how it is (a DMS task, a DMS Serverless replication): the look is a describe,
    the start reconciles every retry (``reconcile_then_start``), the rest is describes. A kind gives its owner's two
    calls and its words for "startable" and "under way"."""

    describe_work: Callable[[str], WorkSnapshot]
    start_work: Callable[[str, str], datetime]
    startable: Callable[[WorkSnapshot], bool]
    under_way: RunUnderWay
    look_step_name: str | None

    def look(self, request: WorkRequest, execution_arn: str, context: StepContext) -> WorkSnapshot:
        return self.describe_work(request.key)

    def start(
        self, request: WorkRequest, execution_arn: str, before: WorkSnapshot | None, context: StepContext
    ) -> StartOutcome:
        return reconcile_then_start(
            key=request.key,
            before=before,
            attempt=context.attempt,
            describe=lambda: self.describe_work(request.key),
            start=lambda: self.start_work(request.key, request.start_type),
            startable=self.startable,
            under_way=self.under_way,
        )

    def describe(self, request: WorkRequest, execution_arn: str, context: OperationContext) -> WorkSnapshot:
        return self.describe_work(request.key)
