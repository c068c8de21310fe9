"""Typed settings built from the environment in one place; required values fail fast and name the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from migration_wait.errors import InvalidSettingError

DEFAULT_POLL_INITIAL_INTERVAL_SECONDS = 30
DEFAULT_POLL_MAX_INTERVAL_SECONDS = 300
DEFAULT_POLL_BACKOFF_RATE = 2.0
DEFAULT_MAX_WAIT_SECONDS = 7 * 24 * 3600


def _int_setting(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidSettingError(f"{name} must be a whole number of seconds, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise InvalidSettingError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _float_setting(env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InvalidSettingError(f"{name} must be a number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise InvalidSettingError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


@dataclass(frozen=True)
class PollingSettings:
    """How the polling variant spaces its DescribeReplicationTasks calls and when it gives up.

    The interval starts at ``initial_interval_seconds`` and grows by ``backoff_rate`` per poll up to
    ``max_interval_seconds``: the cap bounds the detection lag, ``max_wait_seconds`` bounds the total wait.
    """

    initial_interval_seconds: int = DEFAULT_POLL_INITIAL_INTERVAL_SECONDS
    max_interval_seconds: int = DEFAULT_POLL_MAX_INTERVAL_SECONDS
    backoff_rate: float = DEFAULT_POLL_BACKOFF_RATE
    max_wait_seconds: int = DEFAULT_MAX_WAIT_SECONDS

    def __post_init__(self) -> None:
        if self.max_interval_seconds < self.initial_interval_seconds:
            raise InvalidSettingError(
                "POLL_MAX_INTERVAL_SECONDS must not be smaller than POLL_INITIAL_INTERVAL_SECONDS "
                f"({self.max_interval_seconds} < {self.initial_interval_seconds})"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PollingSettings:
        env = os.environ if env is None else env
        return cls(
            initial_interval_seconds=_int_setting(
                env, "POLL_INITIAL_INTERVAL_SECONDS", DEFAULT_POLL_INITIAL_INTERVAL_SECONDS, 1, 86_400
            ),
            max_interval_seconds=_int_setting(
                env, "POLL_MAX_INTERVAL_SECONDS", DEFAULT_POLL_MAX_INTERVAL_SECONDS, 1, 86_400
            ),
            backoff_rate=_float_setting(env, "POLL_BACKOFF_RATE", DEFAULT_POLL_BACKOFF_RATE, 1.0, 10.0),
            max_wait_seconds=_int_setting(env, "MAX_WAIT_SECONDS", DEFAULT_MAX_WAIT_SECONDS, 60, 31_622_400),
        )
