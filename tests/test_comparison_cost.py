"""The comparison's cost model and price file, against numbers computed by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from local_aws.comparison.cost import COMPONENTS, price_run
from local_aws.comparison.function_config import FunctionConfig, load_function_configs
from local_aws.comparison.measure import RunMeasurement
from local_aws.comparison.modelled import MODELLED_VARIANTS, derive_modelled
from local_aws.comparison.prices import DEFAULT_PRICES_FILE, REQUIRED_PRICES, PriceFileError, load_prices

GB = 1024**3
ROUND_PRICES = {
    "durable_operations_per_million": 8.0,
    "durable_data_written_per_gb": 0.25,
    "durable_data_retained_per_gb_month": 0.15,
    "lambda_requests_per_million": 0.2,
    "lambda_duration_per_gb_second_arm64": 0.00001,
    "lambda_duration_per_gb_second_x86_64": 0.00002,
    "dynamodb_write_request_units_per_million": 1.0,
    "dynamodb_read_request_units_per_million": 0.5,
    "eventbridge_aws_service_events_per_million": 0.0,
    "step_functions_standard_transitions_per_thousand": 0.025,
}
ROUND_ASSUMPTIONS = {
    "durable_invocation_billed_ms": 200,
    "completer_invocation_billed_ms": 100,
    "step_functions_poll_invocation_billed_ms": 100,
}
DURABLE = FunctionConfig("DurableFunction", memory_mb=256, architecture="arm64", retention_days=14)
COMPLETER = FunctionConfig("CompleterFunction", memory_mb=128, architecture="x86_64", retention_days=None)


def write_price_file(path: Path, prices: dict[str, Any] | None = None, **changes: Any) -> Path:
    entries = {
        name: {"usd": usd, "unit": "u", "source": "https://example.test/pricing", "read_on": "2026-11-26"}
        for name, usd in (prices or ROUND_PRICES).items()
    }
    for name, value in changes.items():
        if value is None:
            entries.pop(name)
        else:
            entries[name]["usd"] = value
    assumptions = {name: {"value": v, "why": "test"} for name, v in ROUND_ASSUMPTIONS.items()}
    path.write_text(json.dumps({"region": "us-east-1", "prices": entries, "assumptions": assumptions}))
    return path


def a_run(**fields: Any) -> RunMeasurement:
    base = RunMeasurement(
        variant="some-variant",
        label="some variant",
        kind="callback",
        modelled=False,
        scenario="success",
        duration_seconds=3600,
        task_seconds=3600,
        execution_status="SUCCEEDED",
        outcome="succeeded",
        invocations=0,
        history_events=0,
        durable_operations=0,
        durable_operations_parts={},
        store_operations=0,
        checkpointed_updates=0,
        bytes_written=0,
        polls=0,
        callback_waits=0,
        safety_net_checks=0,
        events_delivered=0,
        dms_calls={},
        dynamodb_write_units=0.0,
        dynamodb_read_units=0.0,
        aws_calls={},
        completer_invocations=0,
        eventbridge_events=0,
        state_transitions=0,
        execution_seconds=3600,
        detection_lag_seconds=0.0,
        wall_seconds=0.0,
        function="DurableFunction",
        completer_function="CompleterFunction",
    )
    return replace(base, **fields)


def test_every_component_of_a_durable_run_is_priced_as_computed_by_hand(tmp_path: Path) -> None:
    prices = load_prices(write_price_file(tmp_path / "prices.json"))
    # 394 h of execution + 14 days (336 h) of retention = 730 h = exactly one GB-month for 1 GB.
    run = a_run(
        invocations=10,
        durable_operations=12,
        bytes_written=GB,
        execution_seconds=394 * 3600,
        dynamodb_write_units=2.0,
        dynamodb_read_units=1.0,
        completer_invocations=1,
        eventbridge_events=1,
    )

    priced = price_run(run, prices, DURABLE, COMPLETER)

    expected = {
        "durable_operations": 12 * 8.0 / 1e6,  # 9.6e-5
        "durable_data_written": 0.25,
        "durable_data_retained": 0.15,
        "lambda_requests": 10 * 0.2 / 1e6,  # 2e-6
        "lambda_duration": 10 * 0.2 * 0.25 * 0.00001,  # 10 x 200 ms x 0.25 GB x price = 5e-6
        "dynamodb": 2 * 1.0 / 1e6 + 1 * 0.5 / 1e6,  # 2.5e-6
        "completer": 0.2 / 1e6 + 0.1 * 0.125 * 0.00002,  # request + 100 ms x 0.125 GB (x86) = 4.5e-7
        "eventbridge": 0.0,
        "step_functions_transitions": 0.0,
    }
    assert set(priced.breakdown) == set(COMPONENTS)
    for component, usd in expected.items():
        assert priced.breakdown[component] == pytest.approx(usd, rel=1e-12), component
    assert priced.cost_per_execution == pytest.approx(0.40010595, rel=1e-12)
    assert priced.cost_per_million_executions == pytest.approx(400_105.95, rel=1e-12)


def test_a_modelled_poll_loop_pays_three_transitions_per_poll_plus_one_and_a_poll_lambda_per_poll(
    tmp_path: Path,
) -> None:
    prices = load_prices(write_price_file(tmp_path / "prices.json"))
    twin = a_run(variant="polling-default", kind="polling", polls=7, invocations=7, durable_operations=9)

    [row] = derive_modelled([MODELLED_VARIANTS["sfn-poll-loop-default"]], [twin])
    priced = price_run(row, prices, DURABLE, None)

    assert row.modelled
    assert row.state_transitions == 22
    assert priced.breakdown["step_functions_transitions"] == pytest.approx(22 * 0.025 / 1000)
    # 7 poll Lambda invocations: requests + 100 ms x 0.25 GB each, no durable operations or data.
    assert priced.breakdown["lambda_requests"] == pytest.approx(7 * 0.2 / 1e6)
    assert priced.breakdown["lambda_duration"] == pytest.approx(7 * 0.1 * 0.25 * 0.00001)
    assert priced.breakdown["durable_operations"] == 0
    assert priced.cost_per_execution == pytest.approx(5.5e-4 + 1.4e-6 + 1.75e-6)


def test_the_bundled_price_file_has_every_price_with_a_source_and_a_date() -> None:
    prices = load_prices(DEFAULT_PRICES_FILE)

    assert set(prices.prices) == set(REQUIRED_PRICES)
    for price in prices.prices.values():
        assert price.source.startswith("https://aws.amazon.com/"), price
        assert price.read_on == "2026-11-26", price


@pytest.mark.parametrize("missing", ["durable_operations_per_million", "dynamodb_read_request_units_per_million"])
def test_a_missing_price_is_named(tmp_path: Path, missing: str) -> None:
    path = write_price_file(tmp_path / "prices.json", **{missing: None})

    with pytest.raises(PriceFileError, match=f"missing price '{missing}'"):
        load_prices(path)


def test_a_negative_price_is_named(tmp_path: Path) -> None:
    path = write_price_file(tmp_path / "prices.json", lambda_requests_per_million=-0.2)

    with pytest.raises(PriceFileError, match=r"'lambda_requests_per_million'.*must not be negative"):
        load_prices(path)


def test_function_settings_come_from_the_template_with_globals_and_intrinsic_functions(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(
        """
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    MemorySize: 256
    Architectures: [arm64]
    Environment:
      Variables:
        LEVEL: !Ref LogLevel
Resources:
  Durable:
    Type: AWS::Serverless::Function
    Properties:
      DurableConfig: {ExecutionTimeout: 3600, RetentionPeriodInDays: 30}
      Policies:
        - Statement:
            - Resource: !Sub arn:${AWS::Partition}:dms:${AWS::Region}:${AWS::AccountId}:task:*
  Completer:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 128
      Architectures: [x86_64]
  Table:
    Type: AWS::DynamoDB::Table
"""
    )

    configs = load_function_configs(template)

    assert configs["Durable"] == FunctionConfig("Durable", memory_mb=256, architecture="arm64", retention_days=30)
    assert configs["Completer"] == FunctionConfig(
        "Completer", memory_mb=128, architecture="x86_64", retention_days=None
    )
    assert set(configs) == {"Globals", "Durable", "Completer"}
