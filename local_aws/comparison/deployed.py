"""The comparison from a deployed stack's own executions: their telemetry records, priced like ``make compare``.

Each durable function writes one ``DurableExecutionTelemetry`` record per execution to its log group
(``aws_adapters.telemetry``). ``runs_from_records`` turns them into the comparison's rows: the durable operations by
the documented rule (``telemetry.count_recorded_operations``), the execution's duration, its outcome, and the
invocations when the execution's history was readable (``InvocationCompleted`` events; the record has no such
count). What only the local harness can count (DMS and DynamoDB calls, checkpoint bytes, the detection lag) is 0 and
said in the row's notes. ``deployed_report`` prices them with the same cost model and prices as ``make compare``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from local_aws.comparison.checks import CheckResult
from local_aws.comparison.cost import price_run
from local_aws.comparison.function_config import FunctionConfig, load_function_configs
from local_aws.comparison.matrix import ComparisonResult
from local_aws.comparison.measure import RunMeasurement
from local_aws.comparison.prices import PriceList
from local_aws.comparison.report import build_report
from local_aws.comparison.telemetry import count_recorded_operations

RECORD_TYPE = "DurableExecutionTelemetry"
NOT_IN_RECORD = "deployed: DMS/DynamoDB calls, checkpoint bytes and detection lag are not in the telemetry record"


def parse_record_line(message: str) -> dict[str, Any] | None:
    """A record from one log line: the exporter's ``{"timestamp", "level", "message"}`` envelope, or the bare record."""
    try:
        value = json.loads(message)
        if isinstance(value, dict) and isinstance(value.get("message"), str) and "recordType" not in value:
            value = json.loads(value["message"])
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) and value.get("recordType") == RECORD_TYPE else None


def latest_records(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One record per execution, its last (a replayed invocation end can emit it again), in start order."""
    by_arn: dict[str, Mapping[str, Any]] = {}
    for record in records:
        arn = str(record.get("executionArn"))
        if arn not in by_arn or str(record.get("emittedAt")) >= str(by_arn[arn].get("emittedAt")):
            by_arn[arn] = record
    return sorted(by_arn.values(), key=lambda r: str(r.get("startTime")))


def _seconds(record: Mapping[str, Any]) -> float:
    if isinstance(record.get("durationMs"), int | float):
        return float(record["durationMs"]) / 1000
    start, end = record.get("startTime"), record.get("endTime")
    if isinstance(start, str) and isinstance(end, str):
        parsed = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (start, end)]
        return (parsed[1] - parsed[0]).total_seconds()
    return 0.0


def runs_from_records(
    records: Iterable[Mapping[str, Any]],
    variant_of_function: Mapping[str, tuple[str, str]],
    invocations: Mapping[str, int],
    durations: Mapping[str, float] | None = None,
) -> list[RunMeasurement]:
    """``variant_of_function``: function name -> (variant, template resource); ``invocations``: execution ARN ->
    InvocationCompleted events (absent: unknown, estimated); ``durations``: execution ARN -> seconds from
    GetDurableExecution (absent: the record's own times)."""
    runs = []
    for record in latest_records(records):
        function = str(record.get("functionName"))
        if function not in variant_of_function:
            continue
        variant, resource = variant_of_function[function]
        count = count_recorded_operations(record)
        arn = str(record.get("executionArn"))
        seconds = (durations or {}).get(arn, _seconds(record))
        notes = [NOT_IN_RECORD]
        invoked = invocations.get(arn)
        if invoked is None:
            invoked = 1 + count.polls + count.callback_waits
            notes.append("invocations estimated (history unreadable): 1 + polls + callback rounds")
        output = record.get("output") if record.get("status") == "SUCCEEDED" else record.get("error")
        io_bytes = len(json.dumps(record.get("input")).encode()) + len(json.dumps(output).encode())
        runs.append(
            RunMeasurement(
                variant=variant,
                label=str(record.get("executionName") or arn),
                kind="callback" if count.callback_waits else "polling",
                modelled=False,
                scenario="success" if record.get("status") == "SUCCEEDED" else "failure",
                duration_seconds=round(seconds, 3),
                task_seconds=round(seconds, 3),
                execution_status=str(record.get("status")),
                outcome="succeeded" if record.get("status") == "SUCCEEDED" else "failed",
                invocations=invoked,
                history_events=0,
                durable_operations=count.total,
                durable_operations_parts=count.parts,
                store_operations=0,
                checkpointed_updates=0,
                bytes_written=io_bytes,
                polls=count.polls,
                callback_waits=count.callback_waits,
                safety_net_checks=max(count.callback_waits - 1, 0),
                events_delivered=0,
                dms_calls={},
                dynamodb_write_units=0.0,
                dynamodb_read_units=0.0,
                aws_calls={},
                completer_invocations=0,
                eventbridge_events=0,
                state_transitions=0,
                execution_seconds=round(seconds, 3),
                detection_lag_seconds=0.0,
                wall_seconds=round(seconds, 3),
                function=resource,
                completer_function=None,
                notes=notes,
                telemetry_operations=count.total,
                telemetry_polls=count.polls,
            )
        )
    return runs


def deployed_report(
    runs: list[RunMeasurement], prices: PriceList, functions: dict[str, FunctionConfig] | None = None
) -> dict[str, Any]:
    """The report of ``make compare`` (report.json's shape) for the deployed executions."""
    configs = functions if functions is not None else load_function_configs()
    priced = [price_run(run, prices, configs.get(run.function or "") or configs["Globals"], None) for run in runs]
    check = CheckResult(
        "telemetry records read", bool(runs), f"{len(runs)} execution(s) with a DurableExecutionTelemetry record"
    )
    result = ComparisonResult(priced=priced, checks=[check], wall_seconds=0.0, jobs=0, functions=configs)
    return build_report(result, prices)
