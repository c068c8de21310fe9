"""Self-checks on the measured shapes: a mismatch means the measurement (or a handler) is not what we think it is.

- every run ends as its scenario says (success -> SUCCEEDED, failure -> FAILED; a task that outlasts the
  variant's MAX_WAIT_SECONDS -> FAILED, the wait gives up);
- the documented operation count is backed by the store: at least one per stored operation (the execution itself
  excepted), at most one per checkpointed update;
- polling: the three counts of polls agree (the store's attempts of the wait_for_condition step, the handler's own
  ``Polls`` figure, the describe calls DMS received for the work's kind (DescribeReplicationTasks for a task,
  DescribeReplications for a serverless replication) less the one look before the start), every poll is one
  invocation, and the history
  grows by exactly 3 events per poll (StepStarted, StepSucceeded, InvocationCompleted, as read from the real
  history): ``history_events - 3 x polls`` is the same for every run of a variant;
- telemetry: the documented count made from the execution's own telemetry record (the SDK team's
  DurableExecutionTelemetry, written by the handler's plugin) equals the count made from the store, polls included;
- callback: the store's callback rounds match the timeline (one per safety-net timeout, plus the one the
  event completed), and every count (invocations, durable operations, history events, checkpointed updates,
  DynamoDB units, completer invocations) is the same for every duration, once the safety-net checks are accounted
  for: ``count = base + per_check x safety_net_checks`` with one base and one per_check per variant.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from local_aws.comparison.measure import RunMeasurement
from local_aws.progress_profiles import LINEAR

HISTORY_EVENTS_PER_POLL = 3
# Each kind's describe operation; a polling run waits on one kind, so only its own is ever called.
DESCRIBE_OPERATIONS = ("DescribeReplicationTasks", "DescribeReplications")
# The polling variant reads the task once before it starts it (the look that bounds the run; work_start.py).
LOOKS_BEFORE_START = 1
CALLBACK_SHAPE_FIELDS = (
    "invocations",
    "durable_operations",
    "history_events",
    "checkpointed_updates",
    "dynamodb_write_units",
    "dynamodb_read_units",
    "completer_invocations",
)


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str


def _check(name: str, passed: bool, detail: str) -> CheckResult:
    return CheckResult(name=name, passed=passed, detail=detail)


def _where(run: RunMeasurement) -> str:
    where = f"{run.variant} {run.duration_seconds:g}s {run.scenario}"
    return where if run.profile == LINEAR.name else f"{where} {run.profile}"


def check_runs(runs: list[RunMeasurement], kinds: dict[str, str]) -> list[CheckResult]:
    """``kinds`` maps each measured variant id to its shape ("polling" or "callback")."""
    measured = [r for r in runs if not r.modelled]
    results = [_outcome(r) for r in measured]
    results += [_operations_backed_by_store(r) for r in measured]
    results += [_telemetry_agrees(r) for r in measured]
    by_variant: dict[str, list[RunMeasurement]] = defaultdict(list)
    for run in measured:
        by_variant[run.variant].append(run)
    for variant, variant_runs in by_variant.items():
        if kinds.get(variant) == "polling":
            results.extend(_polls_agree(r) for r in variant_runs)
            results.append(_history_per_poll(variant, variant_runs))
        elif kinds.get(variant) == "callback":
            results.extend(_rounds_match_timeline(r) for r in variant_runs)
            results.append(_callback_shape(variant, [r for r in variant_runs if r.scenario == "success"]))
    return results


def _outcome(run: RunMeasurement) -> CheckResult:
    expected = "SUCCEEDED" if run.scenario == "success" and not run.outlasts_max_wait else "FAILED"
    why = " (the task outlasts MAX_WAIT_SECONDS)" if run.outlasts_max_wait else ""
    return _check(
        f"outcome {_where(run)}",
        run.execution_status == expected,
        f"execution {run.execution_status}, scenario expects {expected}{why}",
    )


def _operations_backed_by_store(run: RunMeasurement) -> CheckResult:
    # Each counted operation is an operation of the store (the execution itself is not counted), and each
    # counted attempt was checkpointed at least once: the count sits between the two.
    low, high = run.store_operations - 1, run.checkpointed_updates
    return _check(
        f"durable operations backed by the store {_where(run)}",
        low <= run.durable_operations <= high,
        f"{run.durable_operations} by the documented rule; store: {run.store_operations} operations "
        f"(execution included), {run.checkpointed_updates} checkpointed updates",
    )


def _telemetry_agrees(run: RunMeasurement) -> CheckResult:
    name = f"durable operations agree with the telemetry record {_where(run)}"
    if run.telemetry_operations is None:
        return _check(name, False, "no DurableExecutionTelemetry record was written for the execution")
    agree = run.telemetry_operations == run.durable_operations and run.telemetry_polls == run.polls
    return _check(
        name,
        agree,
        f"store: {run.durable_operations} operations, {run.polls} polls; telemetry record: "
        f"{run.telemetry_operations} operations, {run.telemetry_polls} polls",
    )


def _polls_agree(run: RunMeasurement) -> CheckResult:
    describes = sum(run.dms_calls.get(op, 0) for op in DESCRIBE_OPERATIONS) - LOOKS_BEFORE_START
    reported = run.result_figures.get("Polls", run.polls)  # a failed execution reports no figures
    counts = {"store attempts": run.polls, "handler Polls": reported, "DMS describes after the look": describes}
    counts["invocations"] = run.invocations
    return _check(
        f"polls agree {_where(run)}",
        len(set(counts.values())) == 1,
        ", ".join(f"{k} {v}" for k, v in counts.items()),
    )


def _history_per_poll(variant: str, runs: list[RunMeasurement]) -> CheckResult:
    intercepts = {r.history_events - HISTORY_EVENTS_PER_POLL * r.polls for r in runs}
    detail = "; ".join(f"{r.duration_seconds:g}s: {r.history_events} events for {r.polls} polls" for r in runs)
    return _check(
        f"history grows by {HISTORY_EVENTS_PER_POLL} events per poll ({variant})",
        len(intercepts) == 1,
        f"history - {HISTORY_EVENTS_PER_POLL} x polls = {sorted(intercepts)} ({detail})",
    )


def _rounds_match_timeline(run: RunMeasurement) -> CheckResult:
    expected = run.safety_net_checks + run.events_delivered
    return _check(
        f"callback rounds match the timeline {_where(run)}",
        run.callback_waits == expected and run.polls == 0,
        f"store: {run.callback_waits} callback rounds, {run.polls} polls; timeline: "
        f"{run.safety_net_checks} safety-net timeouts + {run.events_delivered} event(s) delivered",
    )


def _callback_shape(variant: str, runs: list[RunMeasurement]) -> CheckResult:
    name = f"callback counts do not depend on the duration ({variant})"
    if not runs:
        return _check(name, True, "no successful runs")
    base_run = min(runs, key=lambda r: r.safety_net_checks)
    slopes: dict[str, float] = {}
    problems: list[str] = []
    for run in runs:
        extra_checks = run.safety_net_checks - base_run.safety_net_checks
        for field_name in CALLBACK_SHAPE_FIELDS:
            delta = float(getattr(run, field_name)) - float(getattr(base_run, field_name))
            if extra_checks == 0:
                if delta != 0:
                    problems.append(f"{field_name} {getattr(run, field_name)} at {run.duration_seconds:g}s")
                continue
            slope = delta / extra_checks
            if slopes.setdefault(field_name, slope) != slope:
                problems.append(f"{field_name} per safety-net check varies at {run.duration_seconds:g}s")
    base = ", ".join(f"{f} {getattr(base_run, f)}" for f in CALLBACK_SHAPE_FIELDS)
    per_check = ", ".join(f"{f} +{v:g}" for f, v in slopes.items()) or "no run needed an extra check"
    detail = f"base ({base_run.safety_net_checks} safety-net checks): {base}; per extra check: {per_check}"
    if problems:
        detail = f"{detail}; differs: {'; '.join(problems)} (against {base_run.duration_seconds:g}s)"
    return _check(name, not problems, detail)
