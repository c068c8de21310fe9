"""A faithful, clock-driven simulation of DMS replication tasks: runs, start rules, progress, stop reasons and faults.

The simulation holds no timers: every answer is computed from the clock it is given. Handed the local durable
runner's virtual clock, a task is exactly as far along as the skipped time says.

It must never be kinder than DMS. Where DMS would accept a call and corrupt data, it refuses (the stricter one);
each rule cites what it follows. A task keeps every run it made (``TaskRun``): a second run (``rerun``, or a
handler's start after ``plan_next_run``) follows its own plan, and ``terminal_event(arn, run=-2)`` is the event the
previous run published, to deliver late.

Faults (each firing is recorded in ``firings``):

- ``throttle`` / ``fail_next``: the next calls are answered with an error (ThrottlingException by default, as DMS
  answers a burst) instead of being applied.
- ``lose_answer_next``: the next calls ARE applied (the task really starts), then the answer is lost:
  ``handle`` raises ``SimulatedAnswerLost`` and the boto3 transport (``local_aws.dms_transport``) turns it into
  botocore's ``ReadTimeoutError`` inside botocore's retry loop, so a client that retries replays the call and gets
  DMS's second answer (for a start: InvalidResourceStateFault), as on AWS
  (https://docs.aws.amazon.com/boto3/latest/guide/retries.html: read timeouts are retried). Other callers of
  ``handle`` (the third-party job service) see ``SimulatedAnswerLost`` itself.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from local_aws.faults import FaultFiring, FaultKind
from local_aws.progress_profiles import LINEAR, ProgressProfile

if TYPE_CHECKING:
    from local_aws.dms_serverless_simulation import (
        ReplicationConfigArn,
        ReplicationPlan,
        ServerlessReplications,
        SimulatedReplication,
    )

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
SUCCESS_STOP_REASON = "Stop Reason FULL_LOAD_ONLY_FINISHED"
FAILURE_STOP_REASON = "Stop Reason FATAL_ERROR"
# What DMS reports when StopReplicationTask stopped the task (the API model's StopReason list).
USER_STOP_REASON = "Stop Reason NORMAL"

START_REPLICATION = "start-replication"
RESUME_PROCESSING = "resume-processing"
RELOAD_TARGET = "reload-target"
START_TYPES = (START_REPLICATION, RESUME_PROCESSING, RELOAD_TARGET)
# Statuses in which DMS refuses StartReplicationTask: the task is busy with a run.
BUSY_STATUSES = frozenset({"starting", "running", "stopping"})

# DMS's answer to start-replication on a task that ran before, verbatim as AWS CLI users quote it (found in public
# migration logs and in code matching on it; the rule itself: terraform-provider-aws PR #24047, "you can only use
# start-replication when it's the first time the task is run ... otherwise it will fail").
START_REPLICATION_RERUN_MESSAGE = "Start Type : START_REPLICATION, valid only for tasks running for the first time"


class SimulatedOutcome(StrEnum):
    SUCCEEDS = "succeeds"
    FAILS = "fails"


class SimulatedDmsError(Exception):
    """An error DMS would answer with: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class SimulatedAnswerLost(Exception):  # noqa: N818 - names the event, not an error of the caller
    """The call was applied, and its answer (``answer``, or ``error``) never reached the caller."""

    def __init__(self, operation: str, answer: dict[str, Any] | None, error: SimulatedDmsError | None) -> None:
        super().__init__(f"the answer to {operation} was lost after it was applied")
        self.operation = operation
        self.answer = answer
        self.error = error


@dataclass
class TaskPlan:
    """How one run of a simulated task behaves once started."""

    duration: timedelta
    outcome: SimulatedOutcome = SimulatedOutcome.SUCCEEDS
    fail_at_fraction: float = 0.5
    failure_message: str = "Error executing source loader; Stream component failed at subtask 0"
    stop_reason: str = SUCCESS_STOP_REASON
    starting: timedelta = timedelta(seconds=60)
    # How FullLoadProgressPercent and the table counts move (local_aws/progress_profiles.py).
    progress: ProgressProfile = LINEAR

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise ValueError(f"duration must be positive, got {self.duration}")
        if not 0.0 < self.fail_at_fraction <= 1.0:
            raise ValueError(f"fail_at_fraction must be in (0, 1], got {self.fail_at_fraction}")
        # A short task spends at most a quarter of its life starting.
        self.starting = min(self.starting, self.duration / 4)

    @property
    def runs_for(self) -> timedelta:
        """From the start call to the final state."""
        if self.outcome is SimulatedOutcome.FAILS:
            return self.starting + (self.duration - self.starting) * self.fail_at_fraction
        return self.duration


@dataclass
class TaskRun:
    """One run of a task: from an accepted StartReplicationTask to its final state."""

    number: int
    start_type: str
    plan: TaskPlan
    started_at: datetime
    # ReplicationTaskStats.FreshStartDate: "started either with a fresh start or a target reload" (API model), so a
    # resume-processing run keeps the fresh start of the run it resumes.
    fresh_start_at: datetime
    stopped_at: datetime | None = None

    @property
    def planned_end(self) -> datetime:
        return self.started_at + self.plan.runs_for

    @property
    def finishes_at(self) -> datetime:
        """When this run reaches (or reached) its final state: its plan's end, or when it was stopped."""
        if self.stopped_at is not None and self.stopped_at < self.planned_end:
            return self.stopped_at
        return self.planned_end

    @property
    def stopped_by_user(self) -> bool:
        return self.stopped_at is not None and self.stopped_at < self.planned_end

    @property
    def fails(self) -> bool:
        return self.plan.outcome is SimulatedOutcome.FAILS and not self.stopped_by_user

    @property
    def stop_reason(self) -> str:
        if self.stopped_by_user:
            return USER_STOP_REASON
        return FAILURE_STOP_REASON if self.fails else (self.plan.progress.stop_reason or self.plan.stop_reason)

    def status(self, now: datetime) -> str:
        if now >= self.finishes_at:
            return "failed" if self.fails else "stopped"
        return "starting" if now < self.started_at + self.plan.starting else "running"

    def load_fraction(self, now: datetime) -> float:
        """How far through its load time (the plan's duration after starting) the run is, 0 to 1."""
        loading = self.plan.duration - self.plan.starting
        at = min(now, self.finishes_at)
        done = (at - self.started_at - self.plan.starting) / loading if loading else 1.0
        return max(0.0, min(1.0, done))

    def progress(self, now: datetime) -> int:
        if not self.fails and now >= self.finishes_at and not self.stopped_by_user:
            return 100
        return self.plan.progress.percent(self.load_fraction(now))


@dataclass
class SimulatedTask:
    arn: str
    identifier: str
    # The plan the next run follows (``SimulatedDms.plan_next_run`` changes it).
    next_plan: TaskPlan
    created_at: datetime
    runs: list[TaskRun] = field(default_factory=list)
    # StartReplicationTask calls DMS accepted (a run made before the test, or by ``rerun``, is not one).
    start_calls: int = 0

    @property
    def latest_run(self) -> TaskRun | None:
        return self.runs[-1] if self.runs else None

    @property
    def plan(self) -> TaskPlan:
        """The latest run's plan (the next run's, before the first)."""
        return self.runs[-1].plan if self.runs else self.next_plan

    @property
    def started_at(self) -> datetime | None:
        return self.runs[-1].started_at if self.runs else None

    @property
    def start_type(self) -> str | None:
        return self.runs[-1].start_type if self.runs else None

    @property
    def finishes_at(self) -> datetime | None:
        """When the latest run reaches its final state."""
        return self.runs[-1].finishes_at if self.runs else None

    def status(self, now: datetime) -> str:
        return self.runs[-1].status(now) if self.runs else "ready"

    def describe(self, now: datetime) -> dict[str, Any]:
        """The task as DescribeReplicationTasks shows it at ``now``: the latest run, its stats and dates."""
        body: dict[str, Any] = {
            "ReplicationTaskIdentifier": self.identifier,
            "ReplicationTaskArn": self.arn,
            "MigrationType": self.plan.progress.migration_type,
            "ReplicationTaskCreationDate": self.created_at,
        }
        stats: dict[str, Any] = {
            "FullLoadProgressPercent": 0,
            "ElapsedTimeMillis": 0,
            "TablesLoaded": 0,
            "TablesLoading": 0,
            "TablesQueued": 0,
            "TablesErrored": 0,
        }
        body["ReplicationTaskStats"] = stats
        failure = self._last_failure(now)
        if failure is not None:
            # LastFailureMessage is "the last error (failure) message generated for the replication task" (API
            # model): kept through a later run, the stricter reading (a reader must not take it for this run's).
            body["LastFailureMessage"] = failure.plan.failure_message
        run = self.latest_run
        if run is None:
            body["Status"] = "ready"
            return body
        status = run.status(now)
        body["Status"] = status
        body["ReplicationTaskStartDate"] = run.started_at
        # StartDate: this run's start, "with a fresh start or a resume"; FreshStartDate: the last fresh start or
        # reload (API model, ReplicationTaskStats). A run in progress has no StopDate or StopReason: the previous
        # run's are gone once this one started.
        stats["StartDate"] = run.started_at
        stats["FreshStartDate"] = run.fresh_start_at
        stats["ElapsedTimeMillis"] = int((min(now, run.finishes_at) - run.started_at).total_seconds() * 1000)
        stats["FullLoadProgressPercent"] = run.progress(now)
        full_load_start = run.started_at + run.plan.starting
        if now >= full_load_start and full_load_start < run.finishes_at:
            stats["FullLoadStartDate"] = full_load_start
        if status in BUSY_STATUSES:
            stats.update(run.plan.progress.table_counts(run.load_fraction(now)))
            return body
        body["StopReason"] = run.stop_reason
        stats["StopDate"] = run.finishes_at
        if run.fails:
            stats["TablesErrored"] = 1
        elif run.stopped_by_user:
            stats["TablesLoading"] = 0
        else:
            stats["TablesLoaded"] = run.plan.progress.tables
            stats["FullLoadFinishDate"] = full_load_start + (run.plan.duration - run.plan.starting) * (
                run.plan.progress.full_load_share
            )
        return body

    def _last_failure(self, now: datetime) -> TaskRun | None:
        for run in reversed(self.runs):
            if run.fails and now >= run.finishes_at:
                return run
        return None


@dataclass
class _FaultRule:
    fault: SimulatedDmsError | None  # None: lose the answer
    operation: str | None
    remaining: int
    # Matching calls answered normally before the rule fires (a fault in the middle of a run, not at its start).
    skip: int = 0


@dataclass
class SimulatedDms:
    """An in-memory DMS account: tasks and their runs, serverless replications
    (``local_aws.dms_serverless_simulation``), the calls made to it, and faults to inject."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    empty_list_when_not_found: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    firings: list[FaultFiring] = field(default_factory=list)
    _tasks: dict[str, SimulatedTask] = field(default_factory=dict)
    _faults: list[_FaultRule] = field(default_factory=list)
    _lost: list[_FaultRule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _replications: ServerlessReplications = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The serverless module builds on this one (its errors, outcomes and start types), so it is imported here.
        from local_aws.dms_serverless_simulation import ServerlessReplications  # noqa: PLC0415

        self._replications = ServerlessReplications(self.region, self.account)

    # --- arranging ------------------------------------------------------------------------------------------

    def add_task(self, identifier: str, plan: TaskPlan, previous_run: TaskPlan | None = None) -> str:
        """A task in ``ready`` whose first run follows ``plan``; with ``previous_run``, a task that already ran once
        (a start-replication run that followed ``previous_run`` and ended just now), so its next start must be
        resume-processing or reload-target."""
        arn = f"arn:aws:dms:{self.region}:{self.account}:task:{identifier.upper()}"
        now = self.clock()
        task = SimulatedTask(arn=arn, identifier=identifier, next_plan=plan, created_at=now)
        if previous_run is not None:
            began = now - previous_run.runs_for
            task.created_at = began
            task.runs.append(TaskRun(1, START_REPLICATION, previous_run, began, began))
        with self._lock:
            self._tasks[arn] = task
        return arn

    def task(self, arn: str) -> SimulatedTask:
        with self._lock:
            return self._tasks[arn]

    def task_arns(self) -> list[str]:
        """Every task's ARN, in the order they were added."""
        with self._lock:
            return list(self._tasks)

    def plan_next_run(self, arn: str, plan: TaskPlan) -> None:
        """The task's next accepted start (by a handler, or ``rerun``) follows ``plan``."""
        with self._lock:
            self._find(arn).next_plan = plan

    def rerun(self, arn: str, plan: TaskPlan | None = None, start_type: str = RELOAD_TARGET) -> TaskRun:
        """Start the task again now, as an operator would, under DMS's start rules; not counted as an API call."""
        with self._lock:
            task = self._find(arn)
            if plan is not None:
                task.next_plan = plan
            return self._begin_run(task, start_type, self.clock())

    def add_replication(
        self,
        identifier: str,
        plan: ReplicationPlan,
        previous_run: ReplicationPlan | None = None,
        *,
        replication_type: str = "full-load",
    ) -> ReplicationConfigArn:
        """A DMS Serverless replication config, never started (status ``created``), whose first run follows
        ``plan``; with ``previous_run``, one that already ran once (a start-replication run that followed
        ``previous_run`` and ended just now), so its next start must be reload-target (or, for full-load-and-cdc,
        resume-processing)."""
        with self._lock:
            return self._replications.add(identifier, plan, previous_run, replication_type, self.clock())

    def replication(self, arn: str) -> SimulatedReplication:
        with self._lock:
            return self._replications.get(arn)

    # --- faults ---------------------------------------------------------------------------------------------

    def fail_next(
        self,
        calls: int,
        code: str = "ThrottlingException",
        message: str = "Rate exceeded",
        status: int = 400,
        *,
        operation: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next ``calls`` requests (to ``operation``, or to any) with this fault, after ``after`` more."""
        with self._lock:
            self._faults.append(_FaultRule(SimulatedDmsError(code, message, status), operation, calls, after))

    def throttle(self, calls: int, *, operation: str | None = None, after: int = 0) -> None:
        """Answer the next ``calls`` requests with ThrottlingException, as DMS does under a burst."""
        self.fail_next(calls, operation=operation, after=after)

    def lose_answer_next(self, calls: int, operation: str | None = None) -> None:
        """Apply the next ``calls`` requests (to ``operation``, or to any), then lose their answers."""
        with self._lock:
            self._lost.append(_FaultRule(None, operation, calls))

    # --- the API --------------------------------------------------------------------------------------------

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Answer one API call, as DMS would at the clock's current time (or lose the answer, see the module)."""
        with self._lock:
            self.calls[operation] += 1
            now = self.clock()
            self._maybe_fail(operation, now)
            try:
                answer = self._apply(operation, params, now)
            except SimulatedDmsError as error:
                self._maybe_lose(operation, now, None, error)
                raise
            self._maybe_lose(operation, now, answer, None)
            return answer

    def _apply(self, operation: str, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        if operation == "StartReplicationTask":
            return self._start(params, now)
        if operation == "DescribeReplicationTasks":
            return self._describe(params, now)
        if operation == "StopReplicationTask":
            return self._stop(params, now)
        if self._replications.serves(operation):
            return self._replications.handle(
                operation, params, now, empty_list_when_not_found=self.empty_list_when_not_found
            )
        raise SimulatedDmsError("InvalidAction", f"the simulation does not implement {operation}")

    def _maybe_fail(self, operation: str, now: datetime) -> None:
        for rule in self._faults:
            if rule.fault is not None and rule.remaining > 0 and rule.operation in (None, operation):
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                rule.remaining -= 1
                fault = rule.fault
                kind = FaultKind.ERROR
                if fault.code == "ThrottlingException":
                    kind = FaultKind.THROTTLE
                elif fault.status >= 500:
                    kind = FaultKind.SERVER_ERROR
                self.firings.append(FaultFiring("dms", operation, kind, now, detail=fault.code))
                raise fault

    def _maybe_lose(
        self, operation: str, now: datetime, answer: dict[str, Any] | None, error: SimulatedDmsError | None
    ) -> None:
        for rule in self._lost:
            if rule.remaining > 0 and rule.operation in (None, operation):
                rule.remaining -= 1
                detail = error.code if error is not None else "applied"
                self.firings.append(FaultFiring("dms", operation, FaultKind.LOSE_ANSWER, now, detail=detail))
                raise SimulatedAnswerLost(operation, answer, error)

    def _find(self, arn: object) -> SimulatedTask:
        task = self._tasks.get(arn) if isinstance(arn, str) else None
        if task is None:
            raise SimulatedDmsError("ResourceNotFoundFault", f"Replication Task not found: {arn}")
        return task

    def _start(self, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        task = self._find(params.get("ReplicationTaskArn"))
        self._begin_run(task, params.get("StartReplicationTaskType"), now)
        task.start_calls += 1
        return {"ReplicationTask": task.describe(now)}

    def _begin_run(self, task: SimulatedTask, start_type: object, now: datetime) -> TaskRun:
        # Each rule follows the API model's StartReplicationTaskType documentation (botocore's dms service-2.json):
        # "start-replication is the only valid action that can be used for the first time a task ... is run. Any
        # other action used for the first time on a given task, such as resume-processing and reload-target will
        # result in data errors", and "resume-processing is only available for previously executed tasks".
        if start_type not in START_TYPES:
            raise SimulatedDmsError("InvalidParameterValueException", f"Invalid StartReplicationTaskType: {start_type}")
        status = task.status(now)
        if status in BUSY_STATUSES:
            # A run is in progress: DMS refuses any start (StartReplicationTask's declared InvalidResourceStateFault,
            # "the resource is in a state that prevents it from being used"); the wording here is ours.
            raise SimulatedDmsError("InvalidResourceStateFault", f"Replication task is currently {status}")
        previous = task.latest_run
        if previous is None and start_type != START_REPLICATION:
            # DMS accepts this and the target's data is wrong; the simulation is the stricter one and refuses.
            kind = str(start_type).upper().replace("-", "_")
            raise SimulatedDmsError(
                "InvalidParameterCombinationException",
                f"Start Type : {kind}, refused by the simulation for a task that never ran: DMS accepts it and "
                "the target's data is wrong (start-replication is the only valid action for a first run)",
            )
        if previous is not None and start_type == START_REPLICATION:
            raise SimulatedDmsError("InvalidParameterCombinationException", START_REPLICATION_RERUN_MESSAGE)
        fresh = now if previous is None or start_type == RELOAD_TARGET else previous.fresh_start_at
        run = TaskRun(len(task.runs) + 1, str(start_type), task.next_plan, now, fresh)
        task.runs.append(run)
        return run

    def _stop(self, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        task = self._find(params.get("ReplicationTaskArn"))
        run = task.latest_run
        if run is None or run.status(now) not in ("starting", "running"):
            raise SimulatedDmsError("InvalidResourceStateFault", "Replication task is not running")
        run.stopped_at = now
        return {"ReplicationTask": task.describe(now)}

    def _describe(self, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        wanted: set[str] | None = None
        for flt in params.get("Filters", []):
            if flt.get("Name") == "replication-task-arn":
                wanted = set(flt.get("Values", []))
        tasks = [t for arn, t in self._tasks.items() if wanted is None or arn in wanted]
        if not tasks and not self.empty_list_when_not_found:
            raise SimulatedDmsError("ResourceNotFoundFault", "No Replication Tasks found matching provided filters")
        return {"ReplicationTasks": [t.describe(now) for t in tasks]}

    # --- EventBridge ----------------------------------------------------------------------------------------

    def terminal_event(self, arn: str, run: int = -1) -> dict[str, Any]:
        """The EventBridge event DMS publishes when a run reaches its final state (as captured on AWS).

        ``run`` indexes the task's runs: -1 the latest, -2 the one before (a stale event, delivered late).
        """
        task = self.task(arn)
        if not task.runs:
            raise ValueError(f"task {arn} was never started")
        try:
            chosen = task.runs[run]
        except IndexError:
            raise ValueError(f"task {arn} has {len(task.runs)} run(s), no run {run}") from None
        return self._event(task, chosen)

    def finished_run_events(self, arn: str) -> list[dict[str, Any]]:
        """The final-state event of every run that has finished by now, oldest first."""
        task = self.task(arn)
        now = self.clock()
        return [self._event(task, run) for run in task.runs if now >= run.finishes_at]

    def _event(self, task: SimulatedTask, run: TaskRun) -> dict[str, Any]:
        finishes_at = run.finishes_at
        failed = run.fails
        return {
            "version": "0",
            "id": f"sim-{task.identifier}-run{run.number}-{int(finishes_at.timestamp())}",
            "detail-type": "DMS Replication Task State Change",
            "source": "aws.dms",
            "account": self.account,
            "time": finishes_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [task.arn],
            "detail": {
                "eventType": "REPLICATION_TASK_FAILED" if failed else "REPLICATION_TASK_STOPPED",
                "detailMessage": run.plan.failure_message if failed else run.stop_reason,
                "type": "REPLICATION_TASK",
                "category": "Failure" if failed else "StateChange",
                "eventId": "DMS-EVENT-0078" if failed else "DMS-EVENT-0079",
                "resourceLink": f"https://console.aws.amazon.com/dms/v2/home?region={self.region}#taskDetails/{task.identifier}",
            },
        }

    def replication_events(self, arn: str) -> list[dict[str, Any]]:
        """Every EventBridge event DMS has published by now for a serverless replication, oldest first: its
        ``DMS Replication State Change`` events and its internal task's ``DMS Replication Task State Change`` ones
        (their shapes, sources and assumptions: ``local_aws.dms_serverless_simulation``)."""
        with self._lock:
            return self._replications.events(arn, self.clock())

    def terminal_replication_event(self, arn: str, run: int = -1) -> dict[str, Any]:
        """The ``DMS Replication State Change`` event DMS publishes when a replication's run reaches its final
        state; ``run`` indexes the runs as for ``terminal_event``. Its shape, after an event captured on AWS (the
        user guide's EventBridge chapter shows only a task's event; the EventBridge reference lists the detail-type)::

            {"version": "0", "id": "...", "detail-type": "DMS Replication State Change", "source": "aws.dms",
             "account": "123456789012", "time": "2026-03-02T10:00:00Z", "region": "us-east-1",
             "resources": ["arn:aws:dms:us-east-1:123456789012:replication-config:<resource id>"],
             "detail": {"type": "REPLICATION_CONFIG", "category": "StateChange",
                        "eventType": "REPLICATION_STOPPED",
                        "detailMessage": "Replication with resource id, '<resource id>', has stopped."}}

        A failure is ``eventType`` ``REPLICATION_FAILED``, ``category`` ``Failure``. Unlike a task's event it has
        no event id and names neither the stop reason nor the failure: only DescribeReplications tells a finished
        full load from a stop, and gives the FailureMessages.
        """
        with self._lock:
            return self._replications.terminal_event(arn, run)
