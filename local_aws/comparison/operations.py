"""Durable operations counted by the documented billing rule, from the operations in the execution store.

The rule (AWS Lambda durable functions, as documented): a step is 1 operation plus 1 per retry; a
wait_for_condition is 1 plus 1 per poll; a wait_for_callback is 3 plus 1 per submitter retry; a wait, a callback
created on its own, a child context and a chained invoke are 1 each. The execution itself is not counted.

Attempts are read from the store's checkpointed START updates (one per attempt), so a number here can be traced
to the execution's own record; an operation kind the rule does not cover fails loudly instead of being guessed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aws_durable_execution_sdk_python.lambda_service import OperationAction, OperationType

WAIT_FOR_CONDITION = "WaitForCondition"
WAIT_FOR_CALLBACK = "WaitForCallback"
# AWS's documented maximum number of operations in one durable execution.
OPERATIONS_PER_EXECUTION_LIMIT = 3000


class OperationRuleError(RuntimeError):
    """The store holds an operation the documented counting rule does not cover."""


@dataclass(frozen=True)
class OperationCount:
    """The documented count, its parts (name -> operations), and the figures it was derived from."""

    total: int
    parts: dict[str, int] = field(default_factory=dict)
    polls: int = 0
    callback_waits: int = 0
    step_retries: int = 0

    @property
    def exceeds_limit(self) -> bool:
        return self.total > OPERATIONS_PER_EXECUTION_LIMIT


def count_durable_operations(execution: Any) -> OperationCount:
    """Apply the documented rule to one execution as the store holds it (``store.load(arn)``)."""
    attempts: Counter[str] = Counter(
        update.operation_id for update in execution.updates if update.action is OperationAction.START
    )
    operations = list(execution.operations)
    children: dict[str | None, list[Any]] = {}
    for op in operations:
        children.setdefault(op.parent_id, []).append(op)
    counted_by_parent: set[str] = set()
    parts: dict[str, int] = {}
    polls = callback_waits = step_retries = 0
    for op in operations:
        if op.operation_id in counted_by_parent or op.operation_type is OperationType.EXECUTION:
            continue
        label = f"{op.operation_type.value.lower()} {op.name or op.operation_id}"
        if label in parts:
            label = f"{label} ({op.operation_id[:8]})"
        if op.operation_type is OperationType.STEP:
            tries = max(attempts[op.operation_id], 1)
            if op.sub_type == WAIT_FOR_CONDITION:
                polls += tries
                parts[label] = 1 + tries
            else:
                step_retries += tries - 1
                parts[label] = tries
        elif op.operation_type is OperationType.CONTEXT and op.sub_type == WAIT_FOR_CALLBACK:
            inner = children.get(op.operation_id, [])
            submitters = [c for c in inner if c.operation_type is OperationType.STEP]
            callbacks = [c for c in inner if c.operation_type is OperationType.CALLBACK]
            if len(submitters) != 1 or len(callbacks) != 1:
                raise OperationRuleError(
                    f"wait_for_callback {op.name!r} holds {len(callbacks)} callback(s) and {len(submitters)} "
                    "submitter step(s); the rule expects one of each"
                )
            submitter_retries = max(attempts[submitters[0].operation_id], 1) - 1
            counted_by_parent.update(c.operation_id for c in inner)
            callback_waits += 1
            parts[label] = 3 + submitter_retries
        elif op.operation_type is OperationType.CALLBACK:
            # A callback created on its own (create_callback, then steps, then result()): one round of a wait.
            callback_waits += 1
            parts[label] = 1
        elif op.operation_type in (
            OperationType.WAIT,
            OperationType.CONTEXT,
            OperationType.CHAINED_INVOKE,
        ):
            parts[label] = 1
        else:
            raise OperationRuleError(f"no documented counting rule for {op.operation_type} {op.sub_type} {op.name!r}")
    return OperationCount(
        total=sum(parts.values()),
        parts=parts,
        polls=polls,
        callback_waits=callback_waits,
        step_retries=step_retries,
    )
