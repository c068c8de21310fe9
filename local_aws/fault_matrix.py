"""The fault-injection matrix: every fault AWS really produces, at every boundary of every variant's timeline.

Each scenario builds a fresh local environment (the SDK's runner with time skipping, the DMS simulation, moto's
DynamoDB and Secrets Manager, the local Lambda callback endpoint and, for the third-party variant, the local third
party and function URL), injects one fault (``local_aws.faults``, ``SimulatedDms.lose_answer_next`` / ``throttle``),
plays the migration's timeline and measures what matters to a user of the wait:

- the execution's outcome against the one expected (a fault must never fail a healthy wait);
- starts DMS accepted (never two for one run), callbacks completed (never two), the detection lag;
- whether the result carries another run's data (a stale event must never finish a wait);
- whether an event that was delivered, or could have been by a retry, was left to the safety net.

The DMS variants run against a replication task, and (``polling/serverless``, ``callback/serverless``) against a DMS
Serverless replication: the same faults at the same boundaries (its StartReplication, DescribeReplications and
``DMS Replication State Change`` events), after its provisioning phases.

Durable handlers run wrapped in ``crash_tolerant`` (a crash is a failed invocation the runner re-invokes, as Lambda
does); a completer invocation that raises, or crashes, is invoked again up to twice, as Lambda retries an
asynchronous invocation (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html), and an
event that fails all three ends in the dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import callback_handler
import polling_handler
import third_party_job_handler
from aws_adapters.clients import dms_client
from local_aws.callback_environment import CallbackEnvironment, callback_environment
from local_aws.dms_serverless_simulation import PROVISIONING_PHASES, ReplicationPlan, SimulatedReplication
from local_aws.dms_simulation import SimulatedDms, SimulatedTask, TaskPlan
from local_aws.durable_runner import ExecutionMeasurements, LocalDurableRunner
from local_aws.environment import local_environment
from local_aws.faults import FaultPlan, SimulatedLambdaCrash, crash_tolerant
from local_aws.simulated_timeline import CallbackTimeline, is_replication_config_arn
from local_aws.third_party_environment import ThirdPartyEnvironment, third_party_environment

POLLING, CALLBACK, THIRD_PARTY = "polling", "callback", "third-party"
POLLING_SERVERLESS, CALLBACK_SERVERLESS = "polling/serverless", "callback/serverless"
# Lambda retries a failed asynchronous invocation twice (three tries in all), then the dead-letter queue keeps it.
ASYNC_TRIES = 3
TASK_HOURS = 1.5
# Shorter than the task, so every wait also goes through a safety-net round and a re-registration.
SAFETY_NET = {"CALLBACK_TIMEOUT_SECONDS": "3600", "REREGISTRATION_GRACE_SECONDS": "0.2"}
_INVOCATION_RETRY_SECONDS = 0.01
EVENT_LAG_TOLERANCE_SECONDS = 60.0
# A run in one of these has not failed: an execution that fails meanwhile failed while its work ran.
_RUN_NOT_FAILED_STATUSES = frozenset(
    {"starting", "running", "stopping", "stopped", *(status for status, _weight in PROVISIONING_PHASES)}
)


@dataclass
class FaultOutcome:
    """One row of the matrix."""

    fault: str
    variant: str
    expected: str
    status: str = "NOT RUN"
    starts_accepted: int = 0
    completions: int = 0
    detection_lag_seconds: float | None = None
    safety_net_checks: int = 0
    faults_fired: int = 0
    another_runs_data: bool = False
    failed_while_task_ran: bool = False
    left_to_safety_net: bool = False
    # Safety-net rounds beyond what the migration's length needs (a fault that cost the wait a round).
    extra_rounds: int = 0
    dead_lettered: int = 0
    note: str = ""
    error: str | None = None

    @property
    def double_start(self) -> bool:
        return self.starts_accepted > 1

    @property
    def double_completion(self) -> bool:
        return self.completions > 1

    @property
    def as_expected(self) -> bool:
        return (
            self.status == self.expected
            and not self.double_start
            and not self.double_completion
            and not self.another_runs_data
            and not self.failed_while_task_ran
            and not self.left_to_safety_net
            and self.extra_rounds == 0
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "Fault": self.fault,
            "Variant": self.variant,
            "Expected": self.expected,
            "Status": self.status,
            "StartsAccepted": self.starts_accepted,
            "Completions": self.completions,
            "DetectionLagSeconds": self.detection_lag_seconds,
            "SafetyNetChecks": self.safety_net_checks,
            "FaultsFired": self.faults_fired,
            "AnotherRunsData": self.another_runs_data,
            "FailedWhileTaskRan": self.failed_while_task_ran,
            "LeftToSafetyNet": self.left_to_safety_net,
            "ExtraRounds": self.extra_rounds,
            "DeadLettered": self.dead_lettered,
            "AsExpected": self.as_expected,
            "Note": self.note,
        }


@dataclass(frozen=True)
class Scenario:
    fault: str
    variant: str
    run: Callable[[FaultOutcome], None]
    expected: str = "SUCCEEDED"
    note: str = ""
    # A fault in the events themselves (stale, duplicated, lost, malformed, a dead holder), not an injected AWS call:
    # it counts as one fault injected. None of these: the baseline.
    event_fault: bool = False

    @property
    def key(self) -> str:
        return f"{self.variant}: {self.fault}"


@dataclass
class Completer:
    """Hands events to a completer as Lambda's asynchronous invocation does: up to three tries, then the DLQ."""

    invoke: Callable[[dict[str, Any]], Any]
    arm: Callable[[], AbstractContextManager[Any]] = nullcontext
    armed_tries: int = 1
    dead_lettered: int = 0
    tries: int = 0
    reports: list[Any] = field(default_factory=list)

    def __call__(self, event: dict[str, Any]) -> None:
        for _ in range(ASYNC_TRIES):
            self.tries += 1
            try:
                with self.arm() if self.tries <= self.armed_tries else nullcontext():
                    self.reports.append(self.invoke(event))
                return
            except (Exception, SimulatedLambdaCrash):  # noqa: BLE001, S112 - Lambda retries whatever fails the invocation
                continue
        self.dead_lettered += 1


def _work(dms: SimulatedDms, arn: str) -> SimulatedTask | SimulatedReplication:
    """The simulated work an ARN names: a DMS Serverless replication, or a task."""
    return dms.replication(arn) if is_replication_config_arn(arn) else dms.task(arn)


def _payload(arn: str, start_type: str | None = None) -> dict[str, str]:
    """The execution input for the work, under its kind's fields."""
    if is_replication_config_arn(arn):
        return {"ReplicationConfigArn": arn, **({"StartReplicationType": start_type} if start_type else {})}
    return {"ReplicationTaskArn": arn, **({"StartReplicationTaskType": start_type} if start_type else {})}


def _add_work(dms: SimulatedDms, *, serverless: bool, previous_run: bool) -> str:
    if serverless:
        replication = ReplicationPlan(full_load=timedelta(hours=TASK_HOURS))
        return dms.add_replication("orders", replication, previous_run=replication if previous_run else None)
    plan = TaskPlan(duration=timedelta(hours=TASK_HOURS))
    return dms.add_task("orders", plan, previous_run=plan if previous_run else None)


def _measure(
    outcome: FaultOutcome,
    measured: ExecutionMeasurements,
    dms: SimulatedDms,
    task_arn: str,
    *,
    starts_before: int = 0,
    completions: int = 0,
    event_delivered: bool = True,
    faults_fired: int = 0,
) -> None:
    result = measured.result or {}
    task = _work(dms, task_arn)
    run = task.runs[-1] if task.runs else None
    outcome.status = measured.status
    outcome.starts_accepted = task.start_calls - starts_before
    outcome.completions = completions
    outcome.faults_fired = faults_fired
    outcome.error = measured.error["ErrorMessage"][:300] if measured.error else None
    outcome.detection_lag_seconds = result.get("DetectionLagSeconds")
    outcome.safety_net_checks = int(result.get("SafetyNetChecks", 0))
    stopped_at = result.get("TaskStoppedAt")
    finishes_at = run.finishes_at if run is not None else None
    if stopped_at and finishes_at is not None:
        outcome.another_runs_data = abs((datetime.fromisoformat(stopped_at) - finishes_at).total_seconds()) > 1
    now = dms.clock()
    outcome.failed_while_task_ran = (
        measured.status == "FAILED"
        and run is not None
        and not run.fails
        and run.status(now) in _RUN_NOT_FAILED_STATUSES
        and outcome.expected == "SUCCEEDED"
    )
    # The event reaches the completer the moment the task stops: a wait that ended later was ended by a check.
    lag = outcome.detection_lag_seconds
    outcome.left_to_safety_net = event_delivered and (lag is None or lag > EVENT_LAG_TOLERANCE_SECONDS)
    if event_delivered and run is not None and finishes_at is not None and not outcome.variant.startswith(POLLING):
        # The event comes when the run stops: one safety-net round per full period the run lasted, no more.
        lasted = (finishes_at - run.started_at).total_seconds()
        expected_rounds = int(lasted // int(SAFETY_NET["CALLBACK_TIMEOUT_SECONDS"]))
        outcome.extra_rounds = max(0, outcome.safety_net_checks - expected_rounds)


# --- polling ------------------------------------------------------------------------------------------------------


@contextmanager
def _polling(
    previous_run: bool = False, serverless: bool = False
) -> Iterator[tuple[LocalDurableRunner, SimulatedDms, str]]:
    with local_environment(crash_tolerant(polling_handler.handler)) as env:
        env.runner.retry_failed_invocations_after(_INVOCATION_RETRY_SECONDS)
        task_arn = _add_work(env.dms, serverless=serverless, previous_run=previous_run)
        yield env.runner, env.dms, task_arn


def _polling_scenario(
    inject: Callable[[SimulatedDms, FaultPlan], object], *, rerun: bool = False, serverless: bool = False
) -> Any:
    def run(outcome: FaultOutcome) -> None:
        with (
            _polling(previous_run=rerun, serverless=serverless) as (runner, dms, task_arn),
            FaultPlan(clock=runner.clock) as faults,
        ):
            inject(dms, faults)
            start_type = "reload-target" if rerun else "start-replication"
            measured = runner.run(_payload(task_arn, start_type))
            _measure(
                outcome,
                measured,
                dms,
                task_arn,
                event_delivered=False,
                faults_fired=len(faults.firings) + len(dms.firings),
            )

    return run


# --- callback -----------------------------------------------------------------------------------------------------


@contextmanager
def _callback(previous_run: bool = False, serverless: bool = False) -> Iterator[tuple[CallbackEnvironment, str]]:
    with callback_environment(SAFETY_NET, handler=crash_tolerant(callback_handler.handler)) as env:
        env.runner.retry_failed_invocations_after(_INVOCATION_RETRY_SECONDS)
        yield env, _add_work(env.dms, serverless=serverless, previous_run=previous_run)


def _callback_scenario(
    inject: Callable[[CallbackEnvironment, str, FaultPlan], object] | None = None,
    *,
    completer_fault: Callable[[FaultPlan, CallbackEnvironment], object] | None = None,
    deliveries: int = 1,
    lose_event: bool = False,
    rerun: bool = False,
    serverless: bool = False,
) -> Any:
    def run(outcome: FaultOutcome) -> None:
        with (
            _callback(previous_run=rerun, serverless=serverless) as (env, task_arn),
            FaultPlan(clock=env.runner.clock) as faults,
        ):
            if inject is not None:
                inject(env, task_arn, faults)
            completer_faults = FaultPlan(clock=env.runner.clock)

            @contextmanager
            def arm() -> Iterator[None]:
                if completer_fault is None:
                    yield
                    return
                completer_fault(completer_faults, env)
                with completer_faults:
                    yield

            completer = Completer(env.deliver, arm=arm)

            def deliver(event: dict[str, Any]) -> None:
                for _ in range(deliveries):
                    completer(event)

            execution_arn = env.runner.start(_payload(task_arn, "reload-target" if rerun else "start-replication"))
            CallbackTimeline(env.runner, env.dms, task_arn, deliver=None if lose_event else deliver).drive(
                execution_arn, 60
            )
            measured = env.runner.measure(execution_arn)
            _measure(
                outcome,
                measured,
                env.dms,
                task_arn,
                completions=env.endpoint.accepted["succeed"] + env.endpoint.accepted["fail"],
                event_delivered=not lose_event,
                faults_fired=len(faults.firings) + len(completer_faults.firings) + len(env.dms.firings),
            )
            outcome.dead_lettered = completer.dead_lettered

    return run


def _stale_event_between_claim_and_start(env: CallbackEnvironment, task_arn: str, faults: FaultPlan) -> None:
    """The previous run's STOPPED event arrives late, after this execution's claim and before its start."""
    delivered: list[Any] = []
    serverless = is_replication_config_arn(task_arn)

    def deliver_stale(**_kwargs: Any) -> None:
        if not delivered:
            # Before the start, the latest run is still the previous one.
            stale = (
                env.dms.terminal_replication_event(task_arn)
                if serverless
                else env.dms.finished_run_events(task_arn)[-1]
            )
            delivered.append(Completer(env.deliver)(stale))

    operation = "StartReplication" if serverless else "StartReplicationTask"
    dms_client().meta.events.register(f"before-call.database-migration-service.{operation}", deliver_stale)


def _dead_holder_takes_over(outcome: FaultOutcome) -> None:
    """An execution stopped by an operator keeps its claim; the next execution asks Lambda and takes it over."""
    with _callback() as (env, task_arn):
        first = env.runner.start({"ReplicationTaskArn": task_arn}, name="stopped")
        env.wait_for_callback(first)
        env.runner.stop(first)
        env.runner.advance_clock_to(env.dms.task(task_arn).finishes_at or env.runner.clock())
        env.runner.advance_clock_to(env.runner.clock() + timedelta(minutes=5))
        starts_before = env.dms.task(task_arn).start_calls
        second = env.runner.start(
            {"ReplicationTaskArn": task_arn, "StartReplicationTaskType": "reload-target"}, name="next"
        )
        completer = Completer(env.deliver)
        CallbackTimeline(env.runner, env.dms, task_arn, deliver=completer).drive(second, 60)
        _measure(
            outcome,
            env.runner.measure(second),
            env.dms,
            task_arn,
            starts_before=starts_before,
            completions=env.endpoint.accepted["succeed"] + env.endpoint.accepted["fail"],
        )


def _malformed_event(outcome: FaultOutcome) -> None:
    """A malformed event is raised by every try, so it ends in the dead-letter queue; the wait is untouched."""
    with _callback() as (env, task_arn):
        completer = Completer(env.deliver)
        execution_arn = env.runner.start({"ReplicationTaskArn": task_arn})
        env.wait_for_callback(execution_arn)
        completer({"source": "aws.dms", "detail-type": "DMS Replication Task State Change", "resources": []})
        CallbackTimeline(env.runner, env.dms, task_arn, deliver=Completer(env.deliver)).drive(execution_arn, 60)
        _measure(
            outcome,
            env.runner.measure(execution_arn),
            env.dms,
            task_arn,
            completions=env.endpoint.accepted["succeed"] + env.endpoint.accepted["fail"],
        )
        outcome.dead_lettered = completer.dead_lettered


# --- third party --------------------------------------------------------------------------------------------------


def _table(name: str) -> Callable[[Any], bool]:
    """A fault predicate: the call is made on the DynamoDB table ``name``."""
    return lambda params: isinstance(params, dict) and params.get("TableName") == name


def _third_party_scenario(inject: Callable[[FaultPlan, ThirdPartyEnvironment], object]) -> Any:
    def run(outcome: FaultOutcome) -> None:
        with third_party_environment(SAFETY_NET, handler=crash_tolerant(third_party_job_handler.handler)) as env:
            env.runner.retry_failed_invocations_after(_INVOCATION_RETRY_SECONDS)
            task_arn = env.jobs.add_task("orders", TaskPlan(duration=timedelta(hours=TASK_HOURS)))
            with FaultPlan(clock=env.runner.clock) as faults:
                inject(faults, env)
                measured = env.run({"ReplicationTaskArn": task_arn})
            _measure(
                outcome,
                measured,
                env.jobs,
                task_arn,
                completions=_third_party_completions(env),
                faults_fired=len(faults.firings) + len(env.jobs.firings),
            )

    return run


def _third_party_completions(env: ThirdPartyEnvironment) -> int:
    return env.lambda_endpoint.accepted["succeed"] + env.lambda_endpoint.accepted["fail"]


# --- the matrix ---------------------------------------------------------------------------------------------------


def scenarios() -> list[Scenario]:
    """Every fault x variant, in the order the table prints them."""
    start = "StartReplicationTask"
    return [
        Scenario("none (baseline)", POLLING, _polling_scenario(lambda _d, _f: None)),
        Scenario(
            "StartReplicationTask answer lost", POLLING, _polling_scenario(lambda d, _f: d.lose_answer_next(1, start))
        ),
        Scenario(
            "StartReplicationTask throttled x3",
            POLLING,
            _polling_scenario(lambda d, _f: d.throttle(3, operation=start)),
        ),
        Scenario("crash before the start", POLLING, _polling_scenario(lambda _d, f: f.crash_before("dms", start))),
        Scenario("crash after the start", POLLING, _polling_scenario(lambda _d, f: f.crash_after("dms", start))),
        Scenario(
            "crash after the look",
            POLLING,
            _polling_scenario(lambda _d, f: f.crash_after("dms", "DescribeReplicationTasks")),
        ),
        Scenario(
            "task ran before (reload-target)",
            POLLING,
            _polling_scenario(lambda _d, _f: None, rerun=True),
            event_fault=True,
        ),
        Scenario("none (baseline)", CALLBACK, _callback_scenario()),
        Scenario(
            "StartReplicationTask answer lost",
            CALLBACK,
            _callback_scenario(lambda e, _t, _f: e.dms.lose_answer_next(1, start)),
        ),
        Scenario(
            "crash before the claim",
            CALLBACK,
            _callback_scenario(lambda _e, _t, f: f.crash_before("dynamodb", "PutItem")),
        ),
        Scenario(
            "crash after the claim",
            CALLBACK,
            _callback_scenario(lambda _e, _t, f: f.crash_after("dynamodb", "PutItem")),
        ),
        Scenario(
            "claim answer lost", CALLBACK, _callback_scenario(lambda _e, _t, f: f.lose_answer("dynamodb", "PutItem"))
        ),
        Scenario(
            "crash before the start", CALLBACK, _callback_scenario(lambda _e, _t, f: f.crash_before("dms", start))
        ),
        Scenario("crash after the start", CALLBACK, _callback_scenario(lambda _e, _t, f: f.crash_after("dms", start))),
        Scenario(
            "stale event of the previous run between claim and start",
            CALLBACK,
            _callback_scenario(_stale_event_between_claim_and_start, rerun=True),
            event_fault=True,
        ),
        Scenario(
            "crash inside a re-registration (event lost)",
            CALLBACK,
            _callback_scenario(lambda _e, _t, f: f.crash_after("dynamodb", "UpdateItem") and None, lose_event=True),
            note="two safety-net rounds: the lost event leaves the wait to the safety net",
        ),
        Scenario(
            "completer: DescribeReplicationTasks throttled x3",
            CALLBACK,
            _callback_scenario(completer_fault=lambda _f, e: e.dms.throttle(3, operation="DescribeReplicationTasks")),
        ),
        Scenario(
            "completer: crash between its read and its send",
            CALLBACK,
            _callback_scenario(completer_fault=lambda f, _e: f.crash_after("dms", "DescribeReplicationTasks")),
        ),
        Scenario(
            "completer: callback-success answer lost",
            CALLBACK,
            _callback_scenario(
                completer_fault=lambda f, _e: f.lose_answer("lambda", "SendDurableExecutionCallbackSuccess") and None
            ),
        ),
        Scenario(
            "completer: crash after the callback was sent",
            CALLBACK,
            _callback_scenario(
                completer_fault=lambda f, _e: f.crash_after("lambda", "SendDurableExecutionCallbackSuccess") and None
            ),
        ),
        Scenario("event delivered three times", CALLBACK, _callback_scenario(deliveries=3), event_fault=True),
        Scenario(
            "event lost",
            CALLBACK,
            _callback_scenario(lose_event=True),
            note="the safety net finishes it: a lost event is what it is for",
            event_fault=True,
        ),
        Scenario("claim held by a stopped execution", CALLBACK, _dead_holder_takes_over, event_fault=True),
        Scenario(
            "malformed event",
            CALLBACK,
            _malformed_event,
            note="raised three times, then the dead-letter queue",
            event_fault=True,
        ),
        *_serverless_scenarios(),
        Scenario("none (baseline)", THIRD_PARTY, _third_party_scenario(lambda _f, _e: None)),
        Scenario(
            "token issue answer lost",
            THIRD_PARTY,
            _third_party_scenario(lambda f, e: f.lose_answer("dynamodb", "PutItem", when=_table(e.token_table_name))),
        ),
        Scenario(
            "crash after the token issue",
            THIRD_PARTY,
            _third_party_scenario(lambda f, e: f.crash_after("dynamodb", "PutItem", when=_table(e.token_table_name))),
        ),
        Scenario(
            "crash after the claim",
            THIRD_PARTY,
            _third_party_scenario(lambda f, e: f.crash_after("dynamodb", "PutItem", when=_table(e.table_name))),
        ),
        Scenario(
            "callback API: crash between the token lookup and the send",
            THIRD_PARTY,
            _third_party_scenario(lambda f, e: f.crash_after("dynamodb", "GetItem", when=_table(e.token_table_name))),
            note="the function URL answers 502; the third party sends its callback again",
        ),
        Scenario(
            "callback API: callback-success answer lost",
            THIRD_PARTY,
            _third_party_scenario(lambda f, _e: f.lose_answer("lambda", "SendDurableExecutionCallbackSuccess")),
        ),
    ]


def _serverless_scenarios() -> list[Scenario]:
    """A DMS Serverless replication under the faults that matter most to its start and its events."""
    start = "StartReplication"
    return [
        Scenario("none (baseline)", POLLING_SERVERLESS, _polling_scenario(lambda _d, _f: None, serverless=True)),
        Scenario(
            "StartReplication answer lost",
            POLLING_SERVERLESS,
            _polling_scenario(lambda d, _f: d.lose_answer_next(1, start), serverless=True),
        ),
        Scenario(
            "crash after the start",
            POLLING_SERVERLESS,
            _polling_scenario(lambda _d, f: f.crash_after("dms", start), serverless=True),
        ),
        Scenario("none (baseline)", CALLBACK_SERVERLESS, _callback_scenario(serverless=True)),
        Scenario(
            "StartReplication answer lost",
            CALLBACK_SERVERLESS,
            _callback_scenario(lambda e, _t, _f: e.dms.lose_answer_next(1, start), serverless=True),
        ),
        Scenario(
            "crash after the start",
            CALLBACK_SERVERLESS,
            _callback_scenario(lambda _e, _t, f: f.crash_after("dms", start), serverless=True),
        ),
        Scenario(
            "stale event of the previous run between claim and start",
            CALLBACK_SERVERLESS,
            _callback_scenario(_stale_event_between_claim_and_start, rerun=True, serverless=True),
            event_fault=True,
        ),
        Scenario(
            "completer: DescribeReplications throttled x3",
            CALLBACK_SERVERLESS,
            _callback_scenario(
                completer_fault=lambda _f, e: e.dms.throttle(3, operation="DescribeReplications"), serverless=True
            ),
        ),
        Scenario(
            "event lost",
            CALLBACK_SERVERLESS,
            _callback_scenario(lose_event=True, serverless=True),
            note="the safety net finishes it: a lost event is what it is for",
            event_fault=True,
        ),
    ]


def run_scenario(scenario: Scenario) -> FaultOutcome:
    outcome = FaultOutcome(scenario.fault, scenario.variant, scenario.expected, note=scenario.note)
    scenario.run(outcome)
    outcome.faults_fired += int(scenario.event_fault)
    return outcome


@dataclass(frozen=True)
class MatrixSummary:
    rows: list[FaultOutcome]

    @property
    def headline(self) -> dict[str, int]:
        return {
            "scenarios": len(self.rows),
            "faults injected": sum(r.faults_fired for r in self.rows),
            "executions failed while their task ran": sum(r.failed_while_task_ran for r in self.rows),
            "double starts": sum(r.double_start for r in self.rows),
            "double completions": sum(r.double_completion for r in self.rows),
            "completions with another run's data": sum(r.another_runs_data for r in self.rows),
            "events left to the safety net when a retry could have delivered them": sum(
                r.left_to_safety_net for r in self.rows
            ),
            "extra safety-net rounds": sum(r.extra_rounds for r in self.rows),
            "scenarios not as expected": sum(not r.as_expected for r in self.rows),
        }

    @property
    def passed(self) -> bool:
        return all(r.as_expected for r in self.rows)

    def to_json(self) -> str:
        return json.dumps({"Headline": self.headline, "Rows": [r.to_record() for r in self.rows]}, indent=2)


def run_matrix(only: Callable[[Scenario], bool] = lambda _s: True) -> MatrixSummary:
    return MatrixSummary([run_scenario(s) for s in scenarios() if only(s)])


def format_table(summary: MatrixSummary) -> str:
    columns = ["variant", "fault", "outcome", "starts accepted", "completions", "lag (s)", "safety-net checks"]
    header = "| " + " | ".join([*columns, "faults fired", "ok"]) + " |"
    lines = [header, "|---|---|---|---:|---:|---:|---:|---:|---|"]
    for r in summary.rows:
        lag = "-" if r.detection_lag_seconds is None else f"{r.detection_lag_seconds:g}"
        outcome = r.status if r.status == r.expected else f"{r.status} (expected {r.expected})"
        if r.dead_lettered:
            outcome += f", {r.dead_lettered} event(s) dead-lettered"
        flags = [
            name
            for name, on in (
                ("double start", r.double_start),
                ("double completion", r.double_completion),
                ("another run's data", r.another_runs_data),
                ("failed while the task ran", r.failed_while_task_ran),
                ("left to the safety net", r.left_to_safety_net),
                ("an extra safety-net round", r.extra_rounds > 0),
            )
            if on
        ]
        ok = "yes" if r.as_expected else "NO: " + (", ".join(flags) or (r.error or "unexpected outcome"))
        lines.append(
            f"| {r.variant} | {r.fault} | {outcome} | {r.starts_accepted} | {r.completions} | {lag} | "
            f"{r.safety_net_checks} | {r.faults_fired} | {ok} |"
        )
    lines.append("")
    lines.extend(f"- {name}: {value}" for name, value in summary.headline.items())
    return "\n".join(lines)


__all__ = ["FaultOutcome", "MatrixSummary", "Scenario", "format_table", "run_matrix", "run_scenario", "scenarios"]
