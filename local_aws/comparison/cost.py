"""Prices one run, component by component, from its measured counts, the template's settings and the price list.

Components (USD per execution):
- durable_operations: durable operations (documented rule) x price per million;
- durable_data_written: bytes written (checkpoint payloads + execution input and output) x price per GB;
- durable_data_retained: those bytes kept for the execution's lifetime plus the function's RetentionPeriodInDays,
  in GB-months of 730 hours;
- lambda_requests: every invocation of the workflow's function (each replay is a request; for the modelled
  Step Functions poll loop, the poll Lambda's invocations);
- lambda_duration: invocations x the billed-duration assumption x memory (template) x the architecture's price;
- dynamodb: write and read request units (on-demand);
- completer: the completer's invocations, requests plus duration at its own memory and architecture;
- eventbridge: DMS events delivered to the rule (AWS service events: free);
- step_functions_transitions: state transitions (modelled rows only).
Free tiers are ignored: they are per account, not per execution. 1 GB = 1024^3 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from local_aws.comparison.function_config import FunctionConfig
from local_aws.comparison.measure import RunMeasurement
from local_aws.comparison.prices import PriceList

GB = 1024**3
HOURS_PER_MONTH = 730
COMPONENTS = (
    "durable_operations",
    "durable_data_written",
    "durable_data_retained",
    "lambda_requests",
    "lambda_duration",
    "dynamodb",
    "completer",
    "eventbridge",
    "step_functions_transitions",
)


@dataclass(frozen=True)
class PricedRun:
    run: RunMeasurement
    breakdown: dict[str, float]

    @property
    def cost_per_execution(self) -> float:
        return sum(self.breakdown.values())

    @property
    def cost_per_million_executions(self) -> float:
        return self.cost_per_execution * 1_000_000


def duration_price(prices: PriceList, function: FunctionConfig) -> float:
    return prices.usd(f"lambda_duration_per_gb_second_{function.architecture}")


def _invocation_cost(prices: PriceList, function: FunctionConfig, invocations: int, billed_ms: float) -> float:
    requests = invocations * prices.usd("lambda_requests_per_million") / 1_000_000
    return requests + invocations * (billed_ms / 1000) * function.memory_gb * duration_price(prices, function)


def price_run(
    run: RunMeasurement,
    prices: PriceList,
    function: FunctionConfig,
    completer: FunctionConfig | None,
) -> PricedRun:
    """``function`` prices ``run.invocations``; ``completer`` prices ``run.completer_invocations``."""
    invocation_ms = prices.assumptions[
        "step_functions_poll_invocation_billed_ms" if run.kind == "step-functions" else "durable_invocation_billed_ms"
    ]
    retention_days = function.retention_days or 0
    retained_hours = run.execution_seconds / 3600 + retention_days * 24
    gigabytes = run.bytes_written / GB
    requests = run.invocations * prices.usd("lambda_requests_per_million") / 1_000_000
    completer_cost = 0.0
    if run.completer_invocations:
        if completer is None:
            raise ValueError(f"{run.variant}: completer invocations measured but no completer function to price them")
        completer_cost = _invocation_cost(
            prices, completer, run.completer_invocations, prices.assumptions["completer_invocation_billed_ms"]
        )
    breakdown = {
        "durable_operations": run.durable_operations * prices.usd("durable_operations_per_million") / 1_000_000,
        "durable_data_written": gigabytes * prices.usd("durable_data_written_per_gb"),
        "durable_data_retained": gigabytes
        * (retained_hours / HOURS_PER_MONTH)
        * prices.usd("durable_data_retained_per_gb_month"),
        "lambda_requests": requests,
        "lambda_duration": run.invocations
        * (invocation_ms / 1000)
        * function.memory_gb
        * duration_price(prices, function),
        "dynamodb": run.dynamodb_write_units * prices.usd("dynamodb_write_request_units_per_million") / 1_000_000
        + run.dynamodb_read_units * prices.usd("dynamodb_read_request_units_per_million") / 1_000_000,
        "completer": completer_cost,
        "eventbridge": run.eventbridge_events * prices.usd("eventbridge_aws_service_events_per_million") / 1_000_000,
        "step_functions_transitions": run.state_transitions
        * prices.usd("step_functions_standard_transitions_per_thousand")
        / 1000,
    }
    return PricedRun(run=run, breakdown=breakdown)
