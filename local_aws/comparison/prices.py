"""The price list the comparison uses: one JSON file, every price with its source URL and the day it was read."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PRICES_FILE = Path(__file__).with_name("prices.json")

REQUIRED_PRICES = (
    "durable_operations_per_million",
    "durable_data_written_per_gb",
    "durable_data_retained_per_gb_month",
    "lambda_requests_per_million",
    "lambda_duration_per_gb_second_arm64",
    "lambda_duration_per_gb_second_x86_64",
    "dynamodb_write_request_units_per_million",
    "dynamodb_read_request_units_per_million",
    "eventbridge_aws_service_events_per_million",
    "step_functions_standard_transitions_per_thousand",
)
REQUIRED_ASSUMPTIONS = (
    "durable_invocation_billed_ms",
    "completer_invocation_billed_ms",
    "step_functions_poll_invocation_billed_ms",
)


class PriceFileError(ValueError):
    """The price file is missing, malformed, or lacks a price (the message names it)."""


@dataclass(frozen=True)
class Price:
    name: str
    usd: float
    unit: str
    source: str
    read_on: str


@dataclass(frozen=True)
class PriceList:
    """Validated prices and billing assumptions, plus the file they came from (echoed into the report)."""

    path: str
    prices: dict[str, Price]
    assumptions: dict[str, float]
    raw: dict[str, Any]

    def usd(self, name: str) -> float:
        return self.prices[name].usd


def _number(value: object, where: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PriceFileError(f"{path}: {where} must be a number, got {value!r}")
    if value < 0:
        raise PriceFileError(f"{path}: {where} must not be negative, got {value}")
    return float(value)


def _text(entry: dict[str, Any], key: str, where: str, path: Path) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PriceFileError(
            f"{path}: {where} needs a non-empty {key!r} (every price is traceable to a page and a day)"
        )
    return value


def load_prices(path: Path = DEFAULT_PRICES_FILE) -> PriceList:
    """Read and validate a price file: every required price present, a number, not negative, with its source."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PriceFileError(f"price file not found: {path}") from None
    except IsADirectoryError:
        raise PriceFileError(f"price file {path} is a directory, not a JSON file") from None
    except OSError as err:
        raise PriceFileError(f"cannot read price file {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise PriceFileError(f"{path} is not a JSON file (not UTF-8 text)") from None
    except json.JSONDecodeError as err:
        raise PriceFileError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("prices"), dict):
        raise PriceFileError(f"{path}: expected an object with a 'prices' object")
    entries: dict[str, Any] = raw["prices"]
    prices: dict[str, Price] = {}
    for name in REQUIRED_PRICES:
        entry = entries.get(name)
        if entry is None:
            raise PriceFileError(f"{path}: missing price {name!r}")
        if not isinstance(entry, dict):
            raise PriceFileError(f"{path}: price {name!r} must be an object with usd, unit, source and read_on")
        prices[name] = Price(
            name=name,
            usd=_number(entry.get("usd"), f"price {name!r} (usd)", path),
            unit=str(entry.get("unit", "")),
            source=_text(entry, "source", f"price {name!r}", path),
            read_on=_text(entry, "read_on", f"price {name!r}", path),
        )
    raw_assumptions = raw.get("assumptions", {})
    if not isinstance(raw_assumptions, dict):
        raise PriceFileError(f"{path}: 'assumptions' must be an object")
    assumptions: dict[str, float] = {}
    for name in REQUIRED_ASSUMPTIONS:
        entry = raw_assumptions.get(name)
        if not isinstance(entry, dict) or "value" not in entry:
            raise PriceFileError(f"{path}: missing assumption {name!r} (an object with 'value' and 'why')")
        assumptions[name] = _number(entry["value"], f"assumption {name!r}", path)
    return PriceList(path=str(path), prices=prices, assumptions=assumptions, raw=raw)
