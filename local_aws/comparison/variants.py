"""The variants the comparison runs, and how each one is driven through a scenario.

Adding a variant is one ``Variant`` entry: an id, a label, the template resource that prices it, the self-check
shape it must show, and a driver (``run``) that returns an ``ExecutionFacts`` for a scenario. The third-party
job variant is one such entry, its driver (``_run_third_party``) beside ``_run_callback``. ``work`` says what the
DMS variants wait on: a replication task, or (the ``-serverless`` rows) a DMS Serverless replication. A variant whose
schedule reads the task's progress runs over every progress profile (``profiles``); the others see linear
progress, which does not change what they do.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local_aws.aws_call_meter import AwsCallMeter, metered_aws_calls
from local_aws.comparison.measure import ExecutionFacts, RunMeasurement, Scenario, quiet_sdk_logging, summarize
from local_aws.dms_serverless_simulation import SimulatedReplication
from local_aws.dms_simulation import SimulatedDms, SimulatedTask
from local_aws.environment import local_environment
from local_aws.progress_profiles import LINEAR, PROFILES
from local_aws.simulated_timeline import CallbackTimeline
from waiting.settings import DEFAULT_MAX_WAIT_SECONDS

QUIET = {"POWERTOOLS_LOG_LEVEL": "CRITICAL"}  # the report carries every outcome; a log line would only interleave
# The classic fixed 1-minute loop. One execution may make about 2,900 polls (AWS's 3,000 operations), so a
# 1-minute loop can wait 2 days at most: with the default 7-day MAX_WAIT_SECONDS the handler would stretch the
# interval from the first poll to stay within the quota, and the loop would no longer poll every minute.
FIXED_ONE_MINUTE = {
    "POLL_INITIAL_INTERVAL_SECONDS": "60",
    "POLL_MAX_INTERVAL_SECONDS": "60",
    "MAX_WAIT_SECONDS": str(2 * 86_400),
}
# Real seconds a single run may take before it counts as stuck (a 3-day migration polled every minute: ~30 s).
RUN_TIMEOUT_SECONDS = 600
TASK, SERVERLESS = "task", "serverless"


@dataclass(frozen=True)
class Variant:
    id: str
    label: str
    kind: str  # "polling" or "callback": which self-checks apply
    function: str  # the template resource whose memory and architecture price the durable invocations
    handler: str  # "module:attribute", imported lazily
    run: Callable[[Variant, Scenario], ExecutionFacts]
    settings: Mapping[str, str] = field(default_factory=dict)
    completer_function: str | None = None
    work: str = TASK  # what the DMS variants wait on: TASK or SERVERLESS
    # The progress profiles its successful scenarios run over (local_aws/progress_profiles.py).
    profiles: tuple[str, ...] = (LINEAR.name,)

    @property
    def max_wait_seconds(self) -> float:
        """When the variant's execution gives up: a task that runs longer is expected to fail the wait."""
        return float(self.settings.get("MAX_WAIT_SECONDS", DEFAULT_MAX_WAIT_SECONDS))

    def load_handler(self) -> Callable[..., Any]:
        module, _, attribute = self.handler.partition(":")
        handler: Callable[..., Any] = getattr(importlib.import_module(module), attribute)
        return handler


def _add_work(variant: Variant, scenario: Scenario, dms: SimulatedDms) -> tuple[str, dict[str, Any]]:
    """The scenario's migration in the simulated account, and the execution input that names it."""
    arn: str
    if variant.work == SERVERLESS:
        arn = dms.add_replication(scenario.task_identifier, scenario.replication_plan())
        return arn, {"ReplicationConfigArn": arn}
    arn = dms.add_task(scenario.task_identifier, scenario.task_plan())
    return arn, {"ReplicationTaskArn": arn}


def _work(variant: Variant, dms: SimulatedDms, arn: str) -> SimulatedTask | SimulatedReplication:
    return dms.replication(arn) if variant.work == SERVERLESS else dms.task(arn)


def _run_polling(variant: Variant, scenario: Scenario) -> ExecutionFacts:
    handler = variant.load_handler()
    with (
        quiet_sdk_logging(),
        metered_aws_calls() as meter,
        local_environment(handler, {**QUIET, **variant.settings}) as env,
    ):
        task_arn, payload = _add_work(variant, scenario, env.dms)
        started = time.perf_counter()
        execution_arn = env.runner.start(payload, execution_timeout=RUN_TIMEOUT_SECONDS, name=scenario.variant)
        env.runner.runner.wait_for_result(execution_arn, timeout=RUN_TIMEOUT_SECONDS)
        wall = time.perf_counter() - started
        measured = env.runner.measure(execution_arn)
        return ExecutionFacts(
            scenario=scenario,
            label=variant.label,
            kind=variant.kind,
            function=variant.function,
            completer_function=None,
            execution=env.runner.store.load(execution_arn),
            measured=measured,
            task=_work(variant, env.dms, task_arn),
            meter=meter,
            payload=payload,
            wall_seconds=wall,
            max_wait_seconds=variant.max_wait_seconds,
        )


def _drive_callback_execution(
    variant: Variant,
    scenario: Scenario,
    env: Any,
    tasks: SimulatedDms,
    *,
    meter: AwsCallMeter,
    deliver: Callable[[dict[str, Any]], int] | None,
    through_eventbridge: bool,
) -> ExecutionFacts:
    """Start the execution, play its timeline (``deliver`` the finish, or lose it), and gather what it did.

    ``deliver`` returns how many completer invocations the delivery took.
    """
    task_arn, payload = _add_work(variant, scenario, tasks)
    completer_invocations = 0

    def count_and_deliver(event: dict[str, Any]) -> None:
        nonlocal completer_invocations
        if deliver is not None:
            completer_invocations += deliver(event)

    started = time.perf_counter()
    execution_arn = env.runner.start(payload, execution_timeout=RUN_TIMEOUT_SECONDS, name=scenario.variant)
    timeline = CallbackTimeline(env.runner, tasks, task_arn, count_and_deliver if deliver is not None else None)
    log = timeline.drive(execution_arn, real_timeout_seconds=RUN_TIMEOUT_SECONDS)
    env.runner.runner.wait_for_result(execution_arn, timeout=RUN_TIMEOUT_SECONDS)
    wall = time.perf_counter() - started
    return ExecutionFacts(
        scenario=scenario,
        label=variant.label,
        kind=variant.kind,
        function=variant.function,
        completer_function=variant.completer_function,
        execution=env.runner.store.load(execution_arn),
        measured=env.runner.measure(execution_arn),
        task=_work(variant, tasks, task_arn),
        meter=meter,
        payload=payload,
        wall_seconds=wall,
        max_wait_seconds=variant.max_wait_seconds,
        completer_invocations=completer_invocations,
        events_delivered=log.count("event-delivered"),
        safety_net_timeouts=log.count("callback-timed-out"),
        delivered_through_eventbridge=through_eventbridge,
    )


def _run_callback(variant: Variant, scenario: Scenario, *, event_delivered: bool) -> ExecutionFacts:
    """The callback handler with moto DynamoDB and the real completer, on the task's simulated timeline."""
    # Imported here: the callback environment imports moto, which only these variants need.
    from local_aws.callback_environment import callback_environment  # noqa: PLC0415

    with quiet_sdk_logging(), callback_environment({**QUIET, **variant.settings}) as env, metered_aws_calls() as meter:

        def deliver(event: dict[str, Any]) -> int:
            env.deliver(event)  # one DmsEventsFunction invocation
            return 1

        return _drive_callback_execution(
            variant,
            scenario,
            env,
            env.dms,
            meter=meter,
            deliver=deliver if event_delivered else None,
            through_eventbridge=True,
        )


def _run_third_party(variant: Variant, scenario: Scenario) -> ExecutionFacts:
    """ThirdPartyJobFunction with the local third party, whose signed callback reaches the real CallbackApiFunction."""
    # Imported here: the third-party environment imports moto, which only the callback variants need.
    from local_aws.third_party_environment import third_party_environment  # noqa: PLC0415

    settings = {**QUIET, **variant.settings}
    with quiet_sdk_logging(), third_party_environment(settings) as env, metered_aws_calls() as meter:

        def call_back(event: dict[str, Any]) -> int:
            # The job finished: the third party calls back its URL (one CallbackApiFunction invocation per call).
            return len(env.service.call_back_task(event["resources"][0]))

        return _drive_callback_execution(
            variant, scenario, env, env.jobs, meter=meter, deliver=call_back, through_eventbridge=False
        )


def _run_callback_event_delivered(variant: Variant, scenario: Scenario) -> ExecutionFacts:
    return _run_callback(variant, scenario, event_delivered=True)


def _run_callback_event_lost(variant: Variant, scenario: Scenario) -> ExecutionFacts:
    return _run_callback(variant, scenario, event_delivered=False)


MEASURED_VARIANTS: dict[str, Variant] = {
    v.id: v
    for v in (
        Variant(
            id="polling-default",
            label="polling, default (30 s x2, cap 5 min)",
            kind="polling",
            function="PollingFunction",
            handler="polling_handler:handler",
            run=_run_polling,
        ),
        Variant(
            id="polling-progress",
            label="polling, progress-aware (cap 2 h)",
            kind="polling",
            function="PollingFunction",
            handler="polling_handler:handler",
            run=_run_polling,
            settings={"POLL_STRATEGY": "progress"},
            profiles=tuple(PROFILES),
        ),
        Variant(
            id="polling-fixed-1m",
            label="polling, fixed 1 min",
            kind="polling",
            function="PollingFunction",
            handler="polling_handler:handler",
            run=_run_polling,
            settings=FIXED_ONE_MINUTE,
        ),
        Variant(
            id="callback-event",
            label="callback, DMS event delivered",
            kind="callback",
            function="CallbackFunction",
            handler="callback_handler:handler",
            run=_run_callback_event_delivered,
            completer_function="DmsEventsFunction",
        ),
        Variant(
            id="callback-lost-event",
            label="callback, event lost (safety net)",
            kind="callback",
            function="CallbackFunction",
            handler="callback_handler:handler",
            run=_run_callback_event_lost,
            completer_function="DmsEventsFunction",
        ),
        Variant(
            id="callback-lost-event-1h",
            label="callback, event lost, 1 h safety net",
            kind="callback",
            function="CallbackFunction",
            handler="callback_handler:handler",
            run=_run_callback_event_lost,
            settings={"CALLBACK_TIMEOUT_SECONDS": "3600"},
            completer_function="DmsEventsFunction",
        ),
        Variant(
            id="third-party-callback",
            label="third party, signed callback URL",
            kind="callback",
            function="ThirdPartyJobFunction",
            handler="third_party_job_handler:handler",
            run=_run_third_party,
            completer_function="CallbackApiFunction",
        ),
        Variant(
            id="polling-default-serverless",
            label="polling, default, DMS Serverless",
            kind="polling",
            function="PollingFunction",
            handler="polling_handler:handler",
            run=_run_polling,
            work=SERVERLESS,
        ),
        Variant(
            id="callback-event-serverless",
            label="callback, DMS Serverless event delivered",
            kind="callback",
            function="CallbackFunction",
            handler="callback_handler:handler",
            run=_run_callback_event_delivered,
            completer_function="DmsEventsFunction",
            work=SERVERLESS,
        ),
    )
}


def run_scenario(scenario: Scenario) -> RunMeasurement:
    """Run one scenario of a measured variant and summarize it (a top-level function: it runs in worker processes)."""
    variant = MEASURED_VARIANTS[scenario.variant]
    return summarize(variant.run(variant, scenario))
