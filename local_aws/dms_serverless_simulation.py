"""A clock-driven simulation of DMS Serverless replications: provisioning, runs, start rules, stats and events.

``SimulatedDms`` holds one ``ServerlessReplications`` next to its tasks and routes ``StartReplication``,
``DescribeReplications`` and ``StopReplication`` to it, so its faults (``throttle``, ``fail_next``,
``lose_answer_next``) and the boto3 transport (``local_aws.dms_transport``) apply to them unchanged. Like the task
simulation it holds no timers: every answer is computed from the clock, and it is never kinder than DMS: where the
sources are unclear it takes the stricter reading, and says so.

Sources, cited by their tag in the comments below:

- [model] botocore's DMS service model (``botocore/data/dms/2016-01-01/service-2.json``): the operations, their
  errors, the ``Replication``, ``ReplicationStats`` and ``ProvisionData`` shapes and their documentation strings.
- [components] DMS User Guide, "AWS DMS Serverless components"
  (https://docs.aws.amazon.com/dms/latest/userguide/CHAP_Serverless.Components.html): after a start the replication
  is Initializing, then Preparing Metadata Resources, Testing Connection, Fetching Metadata, Calculating Capacity,
  Provisioning Capacity, Replication Starting, and finally Running.
- [tf] terraform-provider-aws, ``internal/service/dms/consts.go`` and ``replication_config.go``: the same states as
  the API spells them (``initializing``, ``preparing_metadata_resources``, ``testing_connection``,
  ``fetching_metadata``, ``calculating_capacity``, ``provisioning_capacity``, ``replication_starting``,
  ``running``, ``stopping``, ``stopped``, ``failed``) and ``created`` for a replication never started.
- [airflow] Apache Airflow's Amazon provider (``operators/dms.py``, ``waiters/dms.json``): startable statuses
  ``created``, ``stopped``, ``failed``; ``ProvisionData.ProvisionState`` ``deprovisioning`` then ``deprovisioned``
  (absent before the first provisioning); it waits for deprovisioning to end before starting again.
- [48h] The [components] page as quoted in https://dev.classmethod.jp/en/articles/aws-dms-serverless-stop-billing-48hours
  (with a measurement): a stopped replication stays provisioned (and billed) for 48 hours, then is deprovisioned.
- [eb-ref] EventBridge reference, "AWS Database Migration Service events"
  (https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-dms.html): DMS sends ``DMS Replication State
  Change`` (and ``DMS Replication Task State Change``) directly to EventBridge, best effort.
- [field] An incident write-up that captured DMS Serverless's events and errors on AWS ("RDS の Blue/Green 切替で
  DMS が静かに死んだ話", 2026): the event shape (``detail.type`` ``REPLICATION_CONFIG``, ``category``,
  ``eventType`` such as ``REPLICATION_INITIALIZING``, ``detailMessage`` "Replication with resource id, '<id>', is
  initializing."; the replication-config ARN in ``resources``, no ARN in ``detail``); a failure is announced only as
  ``REPLICATION_FAILED`` on that detail-type; DMS also sends ``DMS Replication Task State Change`` events for an
  internal ``serv-res-id-...`` task, ``REPLICATION_TASK_STARTED`` and ``REPLICATION_TASK_STOPPED`` but never
  ``REPLICATION_TASK_FAILED``; StartReplication's refusal "Start Type : START_REPLICATION, valid only for
  replications running for the first time" (InvalidParameterCombinationException); a recreated config's ARN ends
  in a generated resource id, not its identifier.
- [workshop] A DMS Serverless workshop's phase timings
  (https://vanhoangkha.github.io/000043-DMSSCT/4-serverless/4.1-migrate/4.1.2-replicationstages/): initializing
  2-5 min, preparing metadata resources 15-20, testing connection 2-5, fetching metadata up to 5, calculating
  capacity 1-2, provisioning capacity 15-20, replication starting 1-2.

Assumptions (no source says otherwise; each is the stricter choice for a caller that waits):

- Provisioning takes ``ReplicationPlan.provisioning`` (default 39 minutes, the [workshop]'s lower bounds) before
  any data moves, split over the phases in the [workshop]'s proportions, on every run (a restart is not assumed to
  reuse the capacity it still holds).
- ``ProvisionState`` is ``provisioning`` during Provisioning Capacity and ``provisioned`` from Replication Starting
  on (the values [airflow] names are ``deprovisioning`` and ``deprovisioned``; these two follow their spelling).
  Deprovisioning lasts ``DEPROVISIONING_TAKES`` (10 minutes) and refuses a start meanwhile ([airflow] waits).
- A stop goes through ``stopping`` for ``ReplicationPlan.stopping`` (1 minute; [tf] waits on it).
- ``FailureMessages`` stay on the replication after a later run starts or succeeds (the stricter reading, as for
  a task's ``LastFailureMessage``): a reader must look at ``Status``, never at the messages alone.
- Event types other than ``REPLICATION_INITIALIZING`` and ``REPLICATION_FAILED``, and every ``detailMessage`` but
  the initializing one, are named after the captured ones and the user guide's event descriptions (e.g. "DMS
  replication has stopped"); the stop event carries no stop reason and the failure event no failure message
  ("serverless wording carries no ERROR token"): the outcome is read with DescribeReplications.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NewType

from local_aws.dms_simulation import (
    FAILURE_STOP_REASON,
    RELOAD_TARGET,
    RESUME_PROCESSING,
    START_REPLICATION,
    START_TYPES,
    SUCCESS_STOP_REASON,
    USER_STOP_REASON,
    SimulatedDmsError,
    SimulatedOutcome,
)

ReplicationConfigArn = NewType("ReplicationConfigArn", str)

START_REPLICATION_OPERATION = "StartReplication"
DESCRIBE_REPLICATIONS_OPERATION = "DescribeReplications"
STOP_REPLICATION_OPERATION = "StopReplication"
REPLICATION_OPERATIONS = frozenset(
    {START_REPLICATION_OPERATION, DESCRIBE_REPLICATIONS_OPERATION, STOP_REPLICATION_OPERATION}
)

# Statuses as the API spells them [tf]; CREATED is a replication that never started [tf][airflow].
CREATED = "created"
RUNNING = "running"
STOPPING = "stopping"
STOPPED = "stopped"
FAILED = "failed"
# The phases before data moves, in order [components][tf], weighted by the [workshop]'s lower bounds in minutes.
PROVISIONING_PHASES: tuple[tuple[str, int], ...] = (
    ("initializing", 2),
    ("preparing_metadata_resources", 15),
    ("testing_connection", 2),
    ("fetching_metadata", 3),
    ("calculating_capacity", 1),
    ("provisioning_capacity", 15),
    ("replication_starting", 1),
)
_PHASE_WEIGHT = sum(weight for _status, weight in PROVISIONING_PHASES)
DEFAULT_PROVISIONING = timedelta(minutes=_PHASE_WEIGHT)
# A run in one of these refuses StartReplication (InvalidResourceStateFault, [model]).
BUSY_STATUSES = frozenset({status for status, _weight in PROVISIONING_PHASES} | {RUNNING, STOPPING})

PROVISIONING = "provisioning"
PROVISIONED = "provisioned"
DEPROVISIONING = "deprovisioning"
DEPROVISIONED = "deprovisioned"
DEPROVISION_AFTER = timedelta(hours=48)  # [48h]
DEPROVISIONING_TAKES = timedelta(minutes=10)  # assumption (module docstring)

# DMS's answer to start-replication on a replication that ran before, verbatim as captured on AWS [field].
START_REPLICATION_RERUN_MESSAGE = (
    "Start Type : START_REPLICATION, valid only for replications running for the first time"
)
DEFAULT_FAILURE_MESSAGE = (
    "Last Error Task error notification received from subtask 0, thread 0 [reptask/replicationtask.c:2891] "
    "[1020101] Error executing source loader; Stream component failed at subtask 0. "
    "Stop Reason FATAL_ERROR Error Level FATAL"
)

REPLICATION_STATE_CHANGE = "DMS Replication State Change"  # [eb-ref]
TASK_STATE_CHANGE = "DMS Replication Task State Change"  # [eb-ref]


class ReplicationType(StrEnum):
    """``MigrationTypeValue`` [model]; ``cdc`` alone is not simulated."""

    FULL_LOAD = "full-load"
    FULL_LOAD_AND_CDC = "full-load-and-cdc"


@dataclass(frozen=True)
class ReplicationPlan:
    """How one run of a simulated serverless replication behaves once started.

    ``full_load`` is the time data moves for (after ``provisioning``); a failing run fails ``fail_at_fraction`` of
    the way through it, or at the end of Testing Connection with ``fail_while_provisioning``.
    """

    full_load: timedelta
    outcome: SimulatedOutcome = SimulatedOutcome.SUCCEEDS
    fail_at_fraction: float = 0.5
    fail_while_provisioning: bool = False
    failure_messages: tuple[str, ...] = (DEFAULT_FAILURE_MESSAGE,)
    stop_reason: str = SUCCESS_STOP_REASON
    provisioning: timedelta = DEFAULT_PROVISIONING
    stopping: timedelta = timedelta(minutes=1)
    capacity_units: int = 2
    tables: int = 1

    def __post_init__(self) -> None:
        if self.full_load <= timedelta(0):
            raise ValueError(f"full_load must be positive, got {self.full_load}")
        if self.provisioning <= timedelta(0):
            raise ValueError(f"provisioning must be positive, got {self.provisioning}")
        if self.stopping <= timedelta(0):
            raise ValueError(f"stopping must be positive, got {self.stopping}")
        if not 0.0 < self.fail_at_fraction <= 1.0:
            raise ValueError(f"fail_at_fraction must be in (0, 1], got {self.fail_at_fraction}")
        if self.fail_while_provisioning and self.outcome is not SimulatedOutcome.FAILS:
            raise ValueError("fail_while_provisioning needs outcome=SimulatedOutcome.FAILS")
        if self.tables < 1:
            raise ValueError(f"tables must be at least 1, got {self.tables}")
        if not self.failure_messages:
            raise ValueError("failure_messages must not be empty")


@dataclass(frozen=True)
class _Transition:
    at: datetime
    status: str


@dataclass
class ReplicationRun:
    """One run of a replication: from an accepted StartReplication to its final state (or on, for CDC)."""

    number: int
    start_type: str
    plan: ReplicationPlan
    replication_type: ReplicationType
    started_at: datetime
    # ReplicationStats.FreshStartDate: "started either with a fresh start or a target reload" [model], so a
    # resume-processing run keeps the fresh start of the run it resumes.
    fresh_start_at: datetime
    stop_requested_at: datetime | None = None

    # --- the plan's timeline -------------------------------------------------------------------------------

    def _phase_starts(self) -> list[_Transition]:
        starts = []
        at = self.started_at
        for status, weight in PROVISIONING_PHASES:
            starts.append(_Transition(at, status))
            at += self.plan.provisioning * (weight / _PHASE_WEIGHT)
        return starts

    def _phase_end(self, status: str) -> datetime:
        starts = self._phase_starts()
        names = [t.status for t in starts]
        index = names.index(status)
        return starts[index + 1].at if index + 1 < len(starts) else self.load_start

    @property
    def load_start(self) -> datetime:
        return self.started_at + self.plan.provisioning

    @property
    def load_end(self) -> datetime:
        return self.load_start + self.plan.full_load

    @property
    def provisioning_capacity_at(self) -> datetime:
        return self._phase_end("calculating_capacity")

    @property
    def provisioned_at(self) -> datetime:
        return self._phase_end("provisioning_capacity")

    @property
    def planned_end(self) -> datetime | None:
        """When the plan alone ends the run; None for a CDC run that succeeds (it replicates until stopped)."""
        if self.plan.outcome is SimulatedOutcome.FAILS:
            if self.plan.fail_while_provisioning:
                return self._phase_end("testing_connection")
            return self.load_start + self.plan.full_load * self.plan.fail_at_fraction
        if self.replication_type is ReplicationType.FULL_LOAD_AND_CDC:
            return None
        return self.load_end

    @property
    def stopped_by_user(self) -> bool:
        end = self.planned_end
        return self.stop_requested_at is not None and (end is None or self.stop_requested_at < end)

    @property
    def fails(self) -> bool:
        return self.plan.outcome is SimulatedOutcome.FAILS and not self.stopped_by_user

    @property
    def finishes_at(self) -> datetime | None:
        """When the run reaches (or reached) stopped or failed; None while it would replicate on forever."""
        stop_at = self.stop_requested_at
        if stop_at is not None and self.stopped_by_user:
            return stop_at + self.plan.stopping
        return self.planned_end

    @property
    def data_halts_at(self) -> datetime | None:
        """When data stops moving: the stop request, the failure, or never (a success loads on to its end)."""
        if self.stopped_by_user:
            return self.stop_requested_at
        return self.planned_end if self.fails else None

    @property
    def stop_reason(self) -> str:
        if self.stopped_by_user:
            return USER_STOP_REASON
        return FAILURE_STOP_REASON if self.fails else self.plan.stop_reason

    @property
    def data_moved(self) -> bool:
        """Whether the run reaches the load at all."""
        halt = self.data_halts_at
        return not self.plan.fail_while_provisioning and (halt is None or halt > self.load_start)

    def transitions(self) -> list[_Transition]:
        """Every status the run goes through, with the instant it enters it, ending in its final status."""
        timeline = self._phase_starts()
        if self.plan.fail_while_provisioning:
            timeline = timeline[: [t.status for t in timeline].index("testing_connection") + 1]
        else:
            timeline.append(_Transition(self.load_start, RUNNING))
        stop_at = self.stop_requested_at
        if stop_at is not None and self.stopped_by_user:
            timeline = [t for t in timeline if t.at <= stop_at]
            timeline.append(_Transition(stop_at, STOPPING))
            timeline.append(_Transition(stop_at + self.plan.stopping, STOPPED))
            return timeline
        end = self.planned_end
        if end is not None:
            timeline = [t for t in timeline if t.at < end]
            timeline.append(_Transition(end, FAILED if self.fails else STOPPED))
        return timeline

    # --- what DescribeReplications shows -------------------------------------------------------------------

    def status(self, now: datetime) -> str:
        current = self.transitions()[0]
        for transition in self.transitions():
            if transition.at > now:
                break
            current = transition
        return current.status

    def updated_at(self, now: datetime) -> datetime:
        return max(t.at for t in self.transitions() if t.at <= now)

    def loaded_fraction(self, now: datetime) -> float:
        if not self.data_moved or now <= self.load_start:
            return 0.0
        halt = self.data_halts_at
        at = now if halt is None else min(now, halt)
        return max(0.0, min(1.0, (at - self.load_start) / self.plan.full_load))

    def load_complete(self, now: datetime) -> bool:
        halt = self.data_halts_at
        return now >= self.load_end and (halt is None or halt >= self.load_end)

    def stats(self, now: datetime) -> dict[str, Any]:
        """ReplicationStats [model] at ``now``."""
        end = self.finishes_at
        until = now if end is None else min(now, end)
        tables = self.plan.tables
        fraction = self.loaded_fraction(now)
        complete = self.load_complete(now)
        loaded = tables if complete else min(tables - 1, int(fraction * tables))
        status = self.status(now)
        loading = 1 if status == RUNNING and not complete and now >= self.load_start else 0
        errored = 1 if status == FAILED and self.data_moved else 0
        stats: dict[str, Any] = {
            "FullLoadProgressPercent": 100 if complete else min(99, int(fraction * 100)),
            "ElapsedTimeMillis": int((until - self.started_at).total_seconds() * 1000),
            "TablesLoaded": loaded,
            "TablesLoading": loading,
            "TablesQueued": tables - loaded - loading - errored,
            "TablesErrored": errored,
            "StartDate": self.started_at,
            "FreshStartDate": self.fresh_start_at,
        }
        if self.data_moved and now >= self.load_start:
            stats["FullLoadStartDate"] = self.load_start
        if complete:
            stats["FullLoadFinishDate"] = self.load_end
        if end is not None and now >= end:
            stats["StopDate"] = end
        return stats

    def holds_capacity(self) -> bool:
        """Whether the run got its capacity provisioned (it did unless it ended before Replication Starting)."""
        halt = self.finishes_at if self.fails else self.stop_requested_at if self.stopped_by_user else None
        return not self.plan.fail_while_provisioning and (halt is None or halt >= self.provisioned_at)

    @property
    def deprovision_at(self) -> datetime | None:
        end = self.finishes_at
        return end + DEPROVISION_AFTER if end is not None and self.holds_capacity() else None

    def provision_data(self, now: datetime, before: dict[str, Any] | None) -> dict[str, Any] | None:
        """ProvisionData [model] at ``now``; ``before`` is what the previous run left (None: never provisioned)."""
        if now < self.provisioning_capacity_at:
            return before
        if not self.holds_capacity():
            stop_at = self.stop_requested_at
            in_phase = stop_at is not None and now < stop_at and not self.plan.fail_while_provisioning
            return {"ProvisionState": PROVISIONING} if in_phase else before
        if now < self.provisioned_at:
            return {"ProvisionState": PROVISIONING}
        data: dict[str, Any] = {
            "ProvisionState": PROVISIONED,
            "ProvisionedCapacityUnits": self.plan.capacity_units,
            "DateProvisioned": self.provisioned_at,
            "IsNewProvisioningAvailable": False,
        }
        release = self.deprovision_at
        if release is None or now < release:
            return data
        if now < release + DEPROVISIONING_TAKES:
            return data | {"ProvisionState": DEPROVISIONING}
        return data | {"ProvisionState": DEPROVISIONED, "ProvisionedCapacityUnits": 0}


def _resource_id(identifier: str, salt: str = "") -> str:
    # A replication config's ARN ends in a generated resource id, not its identifier [field]: derived here from the
    # identifier (stable across test runs) so no caller can read the identifier back out of an ARN.
    digest = hashlib.sha256(f"{salt}{identifier}".encode()).digest()
    return base64.b32encode(digest).decode()[:26]


@dataclass
class SimulatedReplication:
    """One replication config and the runs of its serverless replication."""

    arn: ReplicationConfigArn
    identifier: str
    resource_id: str
    replication_type: ReplicationType
    # The plan the next accepted StartReplication follows (assign it to change the next run).
    next_plan: ReplicationPlan
    created_at: datetime
    source_endpoint_arn: str
    target_endpoint_arn: str
    runs: list[ReplicationRun] = field(default_factory=list)
    # StartReplication calls DMS accepted (a run given as ``previous_run`` is not one).
    start_calls: int = 0

    @property
    def latest_run(self) -> ReplicationRun | None:
        return self.runs[-1] if self.runs else None

    @property
    def finishes_at(self) -> datetime | None:
        """When the latest run reaches (or reached) its final state; None if never started, or replicating on."""
        run = self.latest_run
        return run.finishes_at if run is not None else None

    def status(self, now: datetime) -> str:
        return self.runs[-1].status(now) if self.runs else CREATED

    def provision_data(self, now: datetime) -> dict[str, Any] | None:
        before: dict[str, Any] | None = None
        for run, following in zip(self.runs, self.runs[1:], strict=False):
            before = run.provision_data(following.started_at, before)
        return self.runs[-1].provision_data(now, before) if self.runs else None

    def describe(self, now: datetime) -> dict[str, Any]:
        """The replication as DescribeReplications shows it at ``now`` [model]."""
        body: dict[str, Any] = {
            "ReplicationConfigIdentifier": self.identifier,
            "ReplicationConfigArn": self.arn,
            "SourceEndpointArn": self.source_endpoint_arn,
            "TargetEndpointArn": self.target_endpoint_arn,
            "ReplicationType": self.replication_type.value,
            "Status": self.status(now),
            "ReplicationCreateTime": self.created_at,
            "ReplicationUpdateTime": self.created_at,
        }
        provision = self.provision_data(now)
        if provision is not None:
            body["ProvisionData"] = provision
        failed = [run for run in self.runs if run.fails and run.finishes_at is not None and now >= run.finishes_at]
        if failed:
            # "Error and other information about why a serverless replication failed" [model]: kept after a later
            # run starts, the stricter reading (module docstring).
            body["FailureMessages"] = list(failed[-1].plan.failure_messages)
        finished = [run for run in self.runs if run.finishes_at is not None and now >= run.finishes_at]
        if finished:
            body["ReplicationLastStopTime"] = finished[-1].finishes_at
        run = self.latest_run
        if run is None:
            return body
        body["StartReplicationType"] = run.start_type
        body["ReplicationUpdateTime"] = run.updated_at(now)
        body["ReplicationStats"] = run.stats(now)
        if run.status(now) in (STOPPED, FAILED):
            # A run in progress has no StopReason: the previous run's is gone once this one started.
            body["StopReason"] = run.stop_reason
            if run.deprovision_at is not None:
                body["ReplicationDeprovisionTime"] = run.deprovision_at
        return body


@dataclass
class ServerlessReplications:
    """The serverless replications of one simulated account, answering the three replication operations."""

    region: str
    account: str
    _replications: dict[str, SimulatedReplication] = field(default_factory=dict)

    # --- arranging (under the caller's lock) ---------------------------------------------------------------

    def add(
        self,
        identifier: str,
        plan: ReplicationPlan,
        previous_run: ReplicationPlan | None,
        replication_type: ReplicationType | str,
        now: datetime,
    ) -> ReplicationConfigArn:
        kind = ReplicationType(replication_type)
        resource_id = _resource_id(identifier)
        arn = ReplicationConfigArn(f"arn:aws:dms:{self.region}:{self.account}:replication-config:{resource_id}")
        endpoint = f"arn:aws:dms:{self.region}:{self.account}:endpoint:"
        replication = SimulatedReplication(
            arn=arn,
            identifier=identifier,
            resource_id=resource_id,
            replication_type=kind,
            next_plan=plan,
            created_at=now,
            source_endpoint_arn=endpoint + _resource_id(identifier, "source:"),
            target_endpoint_arn=endpoint + _resource_id(identifier, "target:"),
        )
        if previous_run is not None:
            replication.runs.append(self._previous_run(previous_run, kind, now))
            replication.created_at = replication.runs[0].started_at
        self._replications[arn] = replication
        return arn

    @staticmethod
    def _previous_run(plan: ReplicationPlan, kind: ReplicationType, now: datetime) -> ReplicationRun:
        """A start-replication run that followed ``plan`` and reached its final state just now."""
        probe = ReplicationRun(1, START_REPLICATION, plan, kind, now, now)
        end = probe.planned_end
        if end is None:
            # A CDC run never ends by itself: it was stopped, and is stopped just now.
            began = now - plan.provisioning - plan.full_load - plan.stopping
            run = ReplicationRun(1, START_REPLICATION, plan, kind, began, began)
            run.stop_requested_at = now - plan.stopping
            return run
        began = now - (end - now)
        return ReplicationRun(1, START_REPLICATION, plan, kind, began, began)

    def get(self, arn: str) -> SimulatedReplication:
        return self._replications[arn]

    # --- the API -------------------------------------------------------------------------------------------

    @staticmethod
    def serves(operation: str) -> bool:
        return operation in REPLICATION_OPERATIONS

    def handle(
        self, operation: str, params: dict[str, Any], now: datetime, *, empty_list_when_not_found: bool
    ) -> dict[str, Any]:
        if operation == START_REPLICATION_OPERATION:
            return self._start(params, now)
        if operation == DESCRIBE_REPLICATIONS_OPERATION:
            return self._describe(params, now, empty_list_when_not_found)
        if operation == STOP_REPLICATION_OPERATION:
            return self._stop(params, now)
        raise SimulatedDmsError("InvalidAction", f"the simulation does not implement {operation}")

    def _find(self, arn: object) -> SimulatedReplication:
        replication = self._replications.get(arn) if isinstance(arn, str) else None
        if replication is None:
            # ResourceNotFoundFault is one of StartReplication's and StopReplication's declared errors [model];
            # the wording is ours.
            raise SimulatedDmsError("ResourceNotFoundFault", f"Replication config not found: {arn}")
        return replication

    def _start(self, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        if params.get("CdcStartTime") is not None and params.get("CdcStartPosition") is not None:
            # The model's CdcStartTime documentation: specifying both values "results in an error" [model].
            raise SimulatedDmsError(
                "InvalidParameterCombinationException", "Specify either CdcStartTime or CdcStartPosition, not both"
            )
        replication = self._find(params.get("ReplicationConfigArn"))
        self.begin_run(replication, params.get("StartReplicationType"), now)
        replication.start_calls += 1
        return {"Replication": replication.describe(now)}

    def begin_run(self, replication: SimulatedReplication, start_type: object, now: datetime) -> ReplicationRun:
        """Start ``replication`` under DMS's start rules, as StartReplication does."""
        if start_type not in START_TYPES:
            raise SimulatedDmsError("InvalidParameterValueException", f"Invalid StartReplicationType: {start_type}")
        status = replication.status(now)
        if status in BUSY_STATUSES:
            # A run is in progress: StartReplication's declared InvalidResourceStateFault, "the resource is in a
            # state that prevents it from being used" [model]; the wording is ours.
            raise SimulatedDmsError("InvalidResourceStateFault", f"Replication is currently {status}")
        provision = replication.provision_data(now)
        if provision is not None and provision["ProvisionState"] == DEPROVISIONING:
            # [airflow] waits for deprovisioning to end before it starts a replication again: refused here meanwhile.
            raise SimulatedDmsError("InvalidResourceStateFault", "Replication is deprovisioning its capacity")
        kind = str(start_type).upper().replace("-", "_")
        previous = replication.latest_run
        # StartReplicationType [model]: "When the replication type is full-load or full-load-and-cdc, the only valid
        # value for the first run of the replication is start-replication."
        if previous is None and start_type != START_REPLICATION:
            # A task accepts this and corrupts the target (its own documentation); refused here, the stricter one.
            raise SimulatedDmsError(
                "InvalidParameterCombinationException",
                f"Start Type : {kind}, refused by the simulation for a replication that never ran: "
                "start-replication is the only valid value for the first run",
            )
        if previous is not None and start_type == START_REPLICATION:
            raise SimulatedDmsError("InvalidParameterCombinationException", START_REPLICATION_RERUN_MESSAGE)
        if start_type == RESUME_PROCESSING and replication.replication_type is ReplicationType.FULL_LOAD:
            # "The resume-processing option isn't applicable for a full-load replication, because you can't resume
            # partially loaded tables during the full load phase." [model] DMS's answer is not documented: refused.
            raise SimulatedDmsError(
                "InvalidParameterCombinationException",
                f"Start Type : {kind}, refused by the simulation: resume-processing isn't applicable for a "
                "full-load replication (use reload-target)",
            )
        fresh = now if previous is None or start_type == RELOAD_TARGET else previous.fresh_start_at
        run = ReplicationRun(
            len(replication.runs) + 1, str(start_type), replication.next_plan, replication.replication_type, now, fresh
        )
        replication.runs.append(run)
        return run

    def _stop(self, params: dict[str, Any], now: datetime) -> dict[str, Any]:
        replication = self._find(params.get("ReplicationConfigArn"))
        run = replication.latest_run
        status = replication.status(now)
        if run is None or status not in BUSY_STATUSES or status == STOPPING:
            # StopReplication "stops any and all ongoing" replications [model]; with none ongoing, its declared
            # InvalidResourceStateFault ([tf] never calls it on created, stopped or failed). Wording ours.
            raise SimulatedDmsError("InvalidResourceStateFault", f"Replication is not running (status {status})")
        run.stop_requested_at = now
        return {"Replication": replication.describe(now)}

    def _describe(self, params: dict[str, Any], now: datetime, empty_list_when_not_found: bool) -> dict[str, Any]:
        chosen = list(self._replications.values())
        for flt in params.get("Filters", []):
            name, values = flt.get("Name"), set(flt.get("Values", []))
            # "Valid filter names: replication-config-arn | replication-config-id" [model]; [tf] filters
            # replication-config-id by the config's identifier. Another name is refused (DMS's answer is not
            # documented; ignoring it would answer more than was asked).
            if name == "replication-config-arn":
                chosen = [r for r in chosen if r.arn in values]
            elif name == "replication-config-id":
                chosen = [r for r in chosen if r.identifier in values]
            else:
                raise SimulatedDmsError("InvalidParameterValueException", f"Invalid filter name: {name}")
        if not chosen and not empty_list_when_not_found:
            # DescribeReplications declares ResourceNotFoundFault [model]; [tf] handles both it and an empty list.
            raise SimulatedDmsError("ResourceNotFoundFault", "No replications found matching the provided filters")
        return {"Replications": [r.describe(now) for r in chosen]}

    # --- EventBridge ---------------------------------------------------------------------------------------

    def events(self, arn: str, now: datetime) -> list[dict[str, Any]]:
        """Every event DMS has published for the replication by ``now``, oldest first (see ``replication_events``)."""
        replication = self.get(arn)
        timed: list[tuple[datetime, dict[str, Any]]] = []
        for index, run in enumerate(replication.runs):
            following = replication.runs[index + 1] if index + 1 < len(replication.runs) else None
            timed.extend(self._run_events(replication, run, following))
        timed.sort(key=lambda pair: pair[0])
        return [event for at, event in timed if at <= now]

    def terminal_event(self, arn: str, run: int = -1) -> dict[str, Any]:
        """The ``DMS Replication State Change`` event of a run's final state (see ``terminal_replication_event``)."""
        replication = self.get(arn)
        if not replication.runs:
            raise ValueError(f"replication {arn} was never started")
        try:
            chosen = replication.runs[run]
        except IndexError:
            raise ValueError(f"replication {arn} has {len(replication.runs)} run(s), no run {run}") from None
        end = chosen.finishes_at
        if end is None:
            raise ValueError(
                f"run {chosen.number} of {arn} replicates changes until it is stopped: it has no final event"
            )
        return self._config_event(replication, chosen, end, FAILED if chosen.fails else STOPPED)

    def _run_events(
        self, replication: SimulatedReplication, run: ReplicationRun, following: ReplicationRun | None
    ) -> list[tuple[datetime, dict[str, Any]]]:
        events = []
        for transition in run.transitions():
            if transition.status == "replication_starting" and run.holds_capacity():
                events.append((transition.at, self._config_event(replication, run, transition.at, PROVISIONED)))
            events.append((transition.at, self._config_event(replication, run, transition.at, transition.status)))
        release = run.deprovision_at
        if release is not None and (following is None or release < following.started_at):
            events.append((release, self._config_event(replication, run, release, DEPROVISIONING)))
            done = release + DEPROVISIONING_TAKES
            if following is None or done < following.started_at:
                events.append((done, self._config_event(replication, run, done, DEPROVISIONED)))
        if run.data_moved:
            events.append((run.load_start, self._task_event(replication, run, run.load_start, started=True)))
            end = run.finishes_at
            if end is not None and not run.fails:
                # The internal task announces its stop, never its failure [field].
                events.append((end, self._task_event(replication, run, end, started=False)))
        return events

    def _envelope(self, detail_type: str, resource: str, at: datetime, event_id: str) -> dict[str, Any]:
        return {
            "version": "0",
            "id": event_id,
            "detail-type": detail_type,
            "source": "aws.dms",
            "account": self.account,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [resource],
        }

    def _config_event(
        self, replication: SimulatedReplication, run: ReplicationRun, at: datetime, state: str
    ) -> dict[str, Any]:
        event_type, wording = _CONFIG_EVENTS[state]
        event_id = f"sim-{replication.identifier}-run{run.number}-{event_type.lower()}-{int(at.timestamp())}"
        return self._envelope(REPLICATION_STATE_CHANGE, replication.arn, at, event_id) | {
            "detail": {
                "type": "REPLICATION_CONFIG",
                "category": "Failure" if state == FAILED else "StateChange",
                "eventType": event_type,
                "detailMessage": f"Replication with resource id, '{replication.resource_id}', {wording}",
            }
        }

    def _task_event(
        self, replication: SimulatedReplication, run: ReplicationRun, at: datetime, *, started: bool
    ) -> dict[str, Any]:
        # The internal task's ARN as captured ("task:serv-res-id-<12 digits>-<suffix>" [field]); the parts are ours.
        task_id = f"serv-res-id-{self.account}-{replication.resource_id.lower()}"
        task_arn = f"arn:aws:dms:{self.region}:{self.account}:task:{task_id}"
        event_type = "REPLICATION_TASK_STARTED" if started else "REPLICATION_TASK_STOPPED"
        flag = "resume" if run.start_type == RESUME_PROCESSING else "fresh start"
        event_id = f"sim-{replication.identifier}-run{run.number}-{event_type.lower()}-{int(at.timestamp())}"
        # The task event's shape as the project's task simulation publishes it (captured on AWS).
        return self._envelope(TASK_STATE_CHANGE, task_arn, at, event_id) | {
            "detail": {
                "eventType": event_type,
                "detailMessage": f"Replication task started, with flag = {flag}" if started else run.stop_reason,
                "type": "REPLICATION_TASK",
                "category": "StateChange",
                "eventId": "DMS-EVENT-0069" if started else "DMS-EVENT-0079",
            }
        }


# State -> (detail.eventType, detailMessage after "Replication with resource id, '<id>', "). REPLICATION_INITIALIZING
# and its wording, and REPLICATION_FAILED, are captured [field]; the rest follow that pattern and the user guide's
# event descriptions (an assumption, module docstring).
_CONFIG_EVENTS: dict[str, tuple[str, str]] = {
    "initializing": ("REPLICATION_INITIALIZING", "is initializing."),
    "preparing_metadata_resources": (
        "REPLICATION_PREPARING_METADATA_RESOURCES",
        "is preparing the resources for metadata collection.",
    ),
    "testing_connection": ("REPLICATION_TESTING_CONNECTION", "is testing its connections."),
    "fetching_metadata": ("REPLICATION_FETCHING_METADATA", "is fetching metadata."),
    "calculating_capacity": ("REPLICATION_CALCULATING_CAPACITY", "is calculating capacity."),
    "provisioning_capacity": ("REPLICATION_PROVISIONING_CAPACITY", "is provisioning its capacity."),
    PROVISIONED: ("REPLICATION_PROVISIONED", "has been provisioned."),
    "replication_starting": ("REPLICATION_STARTED", "has started."),
    RUNNING: ("REPLICATION_RUNNING", "is running."),
    STOPPING: ("REPLICATION_STOPPING", "is being stopped."),
    STOPPED: ("REPLICATION_STOPPED", "has stopped."),
    FAILED: ("REPLICATION_FAILED", "has failed."),
    DEPROVISIONING: ("REPLICATION_DEPROVISIONING", "is deprovisioning its capacity."),
    DEPROVISIONED: ("REPLICATION_DEPROVISIONED", "has been deprovisioned."),
}
