"""A faithful, clock-driven simulation of DMS replication tasks: lifecycle, progress, stop reasons and faults.

The simulation holds no timers: every answer is computed from the clock it is given. Handed the local durable
runner's virtual clock, a task is exactly as far along as the skipped time says.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
SUCCESS_STOP_REASON = "Stop Reason FULL_LOAD_ONLY_FINISHED"
FAILURE_STOP_REASON = "Stop Reason FATAL_ERROR"


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


@dataclass
class TaskPlan:
    """How one simulated task behaves once started."""

    duration: timedelta
    outcome: SimulatedOutcome = SimulatedOutcome.SUCCEEDS
    fail_at_fraction: float = 0.5
    failure_message: str = "Error executing source loader; Stream component failed at subtask 0"
    stop_reason: str = SUCCESS_STOP_REASON
    starting: timedelta = timedelta(seconds=60)

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
class SimulatedTask:
    arn: str
    identifier: str
    plan: TaskPlan
    created_at: datetime
    started_at: datetime | None = None
    start_calls: int = 0
    start_type: str | None = None

    @property
    def finishes_at(self) -> datetime | None:
        return self.started_at + self.plan.runs_for if self.started_at else None

    def describe(self, now: datetime) -> dict[str, Any]:
        """The task as DescribeReplicationTasks shows it at ``now``."""
        body: dict[str, Any] = {
            "ReplicationTaskIdentifier": self.identifier,
            "ReplicationTaskArn": self.arn,
            "MigrationType": "full-load",
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
        if self.started_at is None or now < self.started_at:
            body["Status"] = "ready"
            body["ReplicationTaskStats"] = stats
            return body
        finishes_at = self.started_at + self.plan.runs_for
        body["ReplicationTaskStartDate"] = self.started_at
        stats["StartDate"] = self.started_at
        stats["ElapsedTimeMillis"] = int((min(now, finishes_at) - self.started_at).total_seconds() * 1000)
        loading_since = self.started_at + self.plan.starting
        if now < loading_since:
            body["Status"] = "starting"
        elif now < finishes_at:
            body["Status"] = "running"
            stats["FullLoadProgressPercent"] = self._progress(now)
            stats["TablesLoading"] = 1
        elif self.plan.outcome is SimulatedOutcome.FAILS:
            body["Status"] = "failed"
            body["StopReason"] = FAILURE_STOP_REASON
            body["LastFailureMessage"] = self.plan.failure_message
            stats["FullLoadProgressPercent"] = self._progress(finishes_at)
            stats["TablesErrored"] = 1
            stats["StopDate"] = finishes_at
        else:
            body["Status"] = "stopped"
            body["StopReason"] = self.plan.stop_reason
            stats["FullLoadProgressPercent"] = 100
            stats["TablesLoaded"] = 1
            stats["StopDate"] = finishes_at
        body["ReplicationTaskStats"] = stats
        return body

    def _progress(self, now: datetime) -> int:
        if self.started_at is None:
            return 0
        loading = self.plan.duration - self.plan.starting
        done = (now - self.started_at - self.plan.starting) / loading if loading else 1.0
        return max(0, min(100, int(done * 100)))


@dataclass
class _FaultRule:
    fault: SimulatedDmsError
    operation: str | None
    remaining: int


@dataclass
class SimulatedDms:
    """An in-memory DMS account: tasks, the calls made to it, and faults to inject."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    empty_list_when_not_found: bool = False
    calls: Counter[str] = field(default_factory=Counter)
    _tasks: dict[str, SimulatedTask] = field(default_factory=dict)
    _faults: list[_FaultRule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_task(self, identifier: str, plan: TaskPlan) -> str:
        arn = f"arn:aws:dms:{self.region}:{self.account}:task:{identifier.upper()}"
        with self._lock:
            self._tasks[arn] = SimulatedTask(arn=arn, identifier=identifier, plan=plan, created_at=self.clock())
        return arn

    def task(self, arn: str) -> SimulatedTask:
        with self._lock:
            return self._tasks[arn]

    def fail_next(
        self,
        calls: int,
        code: str = "ThrottlingException",
        message: str = "Rate exceeded",
        status: int = 400,
        operation: str | None = None,
    ) -> None:
        """Answer the next ``calls`` requests (to ``operation``, or to any) with this fault instead."""
        with self._lock:
            self._faults.append(_FaultRule(SimulatedDmsError(code, message, status), operation, calls))

    def throttle(self, calls: int, operation: str | None = None) -> None:
        """Answer the next ``calls`` requests with ThrottlingException, as DMS does under a burst."""
        self.fail_next(calls, operation=operation)

    def handle(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        """Answer one API call, as DMS would at the clock's current time."""
        with self._lock:
            self.calls[operation] += 1
            self._maybe_fail(operation)
            now = self.clock()
            if operation == "StartReplicationTask":
                return self._start(params, now)
            if operation == "DescribeReplicationTasks":
                return self._describe(params, now)
            if operation == "StopReplicationTask":
                return self._stop(params, now)
        raise SimulatedDmsError("InvalidAction", f"the simulation does not implement {operation}")

    def _maybe_fail(self, operation: str) -> None:
        for rule in self._faults:
            if rule.remaining > 0 and rule.operation in (None, operation):
                rule.remaining -= 1
                raise rule.fault

    def _find(self, arn: object) -> SimulatedTask:
        task = self._tasks.get(arn) if isinstance(arn, str) else None
        if task is None:
            raise SimulatedDmsError("ResourceNotFoundFault", f"Replication Task not found: {arn}")
        return task

    def _start(self, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        task = self._find(params.get("ReplicationTaskArn"))
        start_type = params.get("StartReplicationTaskType")
        if start_type not in ("start-replication", "resume-processing", "reload-target"):
            raise SimulatedDmsError("InvalidParameterValueException", f"Invalid StartReplicationTaskType: {start_type}")
        status = task.describe(now)["Status"]
        if status not in ("ready", "stopped", "failed"):
            raise SimulatedDmsError("InvalidResourceStateFault", f"Replication task is currently {status}")
        task.started_at = now
        task.start_calls += 1
        task.start_type = start_type
        return {"ReplicationTask": task.describe(now)}

    def _stop(self, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        task = self._find(params.get("ReplicationTaskArn"))
        if task.describe(now)["Status"] not in ("starting", "running"):
            raise SimulatedDmsError("InvalidResourceStateFault", "Replication task is not running")
        elapsed = now - task.started_at if task.started_at else timedelta(0)
        task.plan = TaskPlan(duration=max(elapsed, timedelta(seconds=1)), stop_reason="Stop Reason NORMAL")
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

    def terminal_event(self, arn: str) -> dict[str, Any]:
        """The EventBridge event DMS publishes when this task reaches its final state (as captured on AWS)."""
        task = self.task(arn)
        finishes_at = task.finishes_at
        if finishes_at is None:
            raise ValueError(f"task {arn} was never started")
        failed = task.plan.outcome is SimulatedOutcome.FAILS
        return {
            "version": "0",
            "id": f"sim-{task.identifier}-{int(finishes_at.timestamp())}",
            "detail-type": "DMS Replication Task State Change",
            "source": "aws.dms",
            "account": self.account,
            "time": finishes_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [arn],
            "detail": {
                "eventType": "REPLICATION_TASK_FAILED" if failed else "REPLICATION_TASK_STOPPED",
                "detailMessage": task.plan.failure_message if failed else task.plan.stop_reason,
                "type": "REPLICATION_TASK",
                "category": "Failure" if failed else "StateChange",
                "eventId": "DMS-EVENT-0078" if failed else "DMS-EVENT-0079",
                "resourceLink": f"https://console.aws.amazon.com/dms/v2/home?region={self.region}#taskDetails/{task.identifier}",
            },
        }
