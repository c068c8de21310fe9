"""Durable operations counted by the documented billing rule from an execution's telemetry record.

The record is the SDK team's ``DurableExecutionTelemetry`` (aws-durable-execution-sdk-python-telemetry-exporter),
written by the handler itself (``aws_adapters.telemetry``): each operation with its ``type``, ``subType``, ``name``,
``status``, ``parentId`` and ``attempt``. The rule is the one ``operations.count_durable_operations`` applies to the
execution store: a step is 1 per attempt; a wait_for_condition 1 plus 1 per poll (its attempts); a wait_for_callback
3 plus 1 per submitter retry; a callback created on its own, a wait, a child context and a chained invoke 1 each.

Locally both counts are made for the same execution and the comparison's self-check fails when they differ
(``checks.py``); for a deployed stack the record is the only source (``migration-wait-deployed report``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from local_aws.comparison.operations import WAIT_FOR_CALLBACK, WAIT_FOR_CONDITION, OperationCount, OperationRuleError

_ONE_EACH = frozenset({"WAIT", "CONTEXT", "CHAINED_INVOKE"})


def _attempts(operation: Mapping[str, Any]) -> int:
    attempt = operation.get("attempt")
    return max(int(attempt), 1) if isinstance(attempt, int) else 1


def _from_summary(by_name: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``operationsByName`` (the log exporter's form: per name a count, the type, subtype and highest attempt) as
    operations. A wait_for_callback's inner operations are named after it and carry no parent there: they are put
    back under it by name."""
    contexts = {n for n, s in by_name.items() if isinstance(s, Mapping) and s.get("subType") == WAIT_FOR_CALLBACK}
    operations: list[Mapping[str, Any]] = []
    for name, summary in by_name.items():
        if not isinstance(summary, Mapping):
            continue
        parent = next((c for c in contexts if name in (f"{c} submitter", f"{c} create callback id")), None)
        count = int(summary.get("count") or 1)
        for index in range(count):
            operations.append(
                {
                    "id": f"{name}#{index}",
                    "name": name,
                    "type": summary.get("type"),
                    "subType": summary.get("subType"),
                    "parentId": f"{parent}#0" if parent else None,
                    "attempt": summary.get("maxAttempt") if count == 1 else None,
                }
            )
    return operations


def count_recorded_operations(record: Mapping[str, Any]) -> OperationCount:  # noqa: PLR0912 - one branch per rule
    """Apply the documented rule to the operations of one telemetry record: its ``operations`` array (full tree), or
    the ``operationsByName`` summary the log exporter writes instead."""
    if "operations" not in record and isinstance(record.get("operationsByName"), Mapping):
        operations: list[Mapping[str, Any]] = _from_summary(record["operationsByName"])
    else:
        operations = [op for op in record.get("operations") or [] if isinstance(op, Mapping)]
    children: dict[str | None, list[Mapping[str, Any]]] = {}
    for op in operations:
        children.setdefault(op.get("parentId"), []).append(op)
    counted_by_parent: set[str] = set()
    parts: dict[str, int] = {}
    polls = callback_waits = step_retries = 0
    for op in operations:
        identifier, kind, sub_type = str(op.get("id")), op.get("type"), op.get("subType")
        if identifier in counted_by_parent or kind == "EXECUTION":
            continue
        label = f"{str(kind).lower()} {op.get('name') or identifier}"
        if label in parts:
            label = f"{label} ({identifier[:8]})"
        if kind == "STEP":
            tries = _attempts(op)
            if sub_type == WAIT_FOR_CONDITION:
                polls += tries
                parts[label] = 1 + tries
            else:
                step_retries += tries - 1
                parts[label] = tries
        elif kind == "CONTEXT" and sub_type == WAIT_FOR_CALLBACK:
            inner = children.get(identifier, [])
            submitters = [c for c in inner if c.get("type") == "STEP"]
            if len(submitters) != 1:
                raise OperationRuleError(f"wait_for_callback {op.get('name')!r} has {len(submitters)} submitter steps")
            counted_by_parent.update(str(c.get("id")) for c in inner)
            callback_waits += 1
            parts[label] = 3 + _attempts(submitters[0]) - 1
        elif kind == "CALLBACK":
            callback_waits += 1
            parts[label] = 1
        elif kind in _ONE_EACH:
            parts[label] = 1
        else:
            raise OperationRuleError(f"no documented counting rule for {kind} {sub_type} {op.get('name')!r}")
    return OperationCount(
        total=sum(parts.values()),
        parts=parts,
        polls=polls,
        callback_waits=callback_waits,
        step_retries=step_retries,
    )
