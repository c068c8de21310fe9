"""Retry and step policies for durable operations: retries chosen by exception type, plain-JSON checkpoints."""

from __future__ import annotations

from aws_durable_execution_sdk_python.config import Duration, JitterStrategy, StepConfig, StepSemantics
from aws_durable_execution_sdk_python.exceptions import StepInterruptedError
from aws_durable_execution_sdk_python.retries import RetryStrategyConfig, create_retry_strategy

from waiting.checkpoint_format import CHECKPOINT_JSON
from waiting.errors import RetryableError

# Transient AWS faults (throttling, 5xx, timeouts) are retried with backoff; every terminal error fails at once.
# The SDK's default would retry ANY exception six times, including "task not found" and "access denied".
retry_transient_errors = create_retry_strategy(
    RetryStrategyConfig(
        max_attempts=6,
        initial_delay=Duration.from_seconds(2),
        max_delay=Duration.from_seconds(60),
        backoff_rate=2.0,
        jitter_strategy=JitterStrategy.FULL,
        retryable_error_types=[RetryableError],
    )
)

# A start is not idempotent (DMS refuses a second StartReplicationTask on a task that runs), so it is never re-run
# blindly. AT_MOST_ONCE_PER_RETRY checkpoints the attempt before the call; an invocation that dies inside it comes
# back as StepInterruptedError (operation/step.py), which this strategy retries like a transient fault: the next
# attempt (StepContext.attempt > 1) first asks DMS whether the interrupted call took effect, and starts only if not.
retry_interrupted_or_transient_errors = create_retry_strategy(
    RetryStrategyConfig(
        max_attempts=6,
        initial_delay=Duration.from_seconds(2),
        max_delay=Duration.from_seconds(60),
        backoff_rate=2.0,
        jitter_strategy=JitterStrategy.FULL,
        retryable_error_types=[RetryableError, StepInterruptedError],
    )
)

START_WORK_STEP = StepConfig(
    retry_strategy=retry_interrupted_or_transient_errors,
    step_semantics=StepSemantics.AT_MOST_ONCE_PER_RETRY,
    serdes=CHECKPOINT_JSON,
)
RETRY_TRANSIENT_STEP = StepConfig(retry_strategy=retry_transient_errors, serdes=CHECKPOINT_JSON)
