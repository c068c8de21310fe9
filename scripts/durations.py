"""Parse and print migration durations such as 15m, 1h, 6h, 24h, 3d."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
# A durable execution runs for a year at most; anything longer is a typo, and timedelta overflows past 10**9 days.
_LONGEST = timedelta(days=366)


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"malformed duration {text!r}: use a number and a unit s, m, h or d (e.g. 15m, 6h, 3d)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"duration {text!r} must be positive")
    if seconds > _LONGEST.total_seconds():
        raise ValueError(f"duration {text!r} is longer than {_LONGEST.days} days")
    return timedelta(seconds=seconds)


def duration_argument(text: str) -> timedelta:
    """parse_duration as an argparse ``type``: its message, not argparse's "invalid value", on a mistake."""
    try:
        return parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def parse_durations(text: str) -> list[timedelta]:
    items = [item for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError("no durations given")
    return [parse_duration(item) for item in items]


def format_duration(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            if unit == "d" and seconds < 3 * 86400:
                continue
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
