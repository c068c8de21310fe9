"""Typed settings built from the environment in one place; required values fail fast and name the variable."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from migration_wait.errors import InvalidSettingError

DEFAULT_POLL_INITIAL_INTERVAL_SECONDS = 30
DEFAULT_POLL_MAX_INTERVAL_SECONDS = 300
DEFAULT_POLL_BACKOFF_RATE = 2.0
DEFAULT_MAX_WAIT_SECONDS = 7 * 24 * 3600
# The safety net's period: longer than the 72-hour migrations this project targets, so a delivered event finishes
# any of them in two invocations, and half the default maximum wait, so an execution looks at DMS at most twice.
DEFAULT_CALLBACK_TIMEOUT_SECONDS = 84 * 3600
# Each safety-net round costs about four durable operations; an execution may hold at most 3,000.
MAX_SAFETY_NET_ROUNDS = 500
DEFAULT_REREGISTRATION_GRACE_SECONDS = 10.0
_TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


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


def _table_name_setting(env: Mapping[str, str], name: str) -> str:
    raw = (env.get(name) or "").strip()
    if not raw:
        raise InvalidSettingError(f"{name} is required: the DynamoDB table that maps replication tasks to callbacks")
    if not _TABLE_NAME_PATTERN.match(raw):
        raise InvalidSettingError(f"{name} is not a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -): {raw[:300]!r}")
    return raw


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


@dataclass(frozen=True)
class CallbackSettings:
    """How the callback variant waits: where correlations live, the safety-net period and the maximum wait.

    With no event after ``callback_timeout_seconds`` the execution looks at DMS itself, then waits again; after
    ``max_wait_seconds`` of DMS time it gives up.
    """

    table_name: str
    callback_timeout_seconds: int = DEFAULT_CALLBACK_TIMEOUT_SECONDS
    max_wait_seconds: int = DEFAULT_MAX_WAIT_SECONDS

    def __post_init__(self) -> None:
        if self.max_rounds > MAX_SAFETY_NET_ROUNDS:
            raise InvalidSettingError(
                f"MAX_WAIT_SECONDS / CALLBACK_TIMEOUT_SECONDS allows {self.max_rounds} safety-net rounds "
                f"({self.max_wait_seconds} / {self.callback_timeout_seconds}); at most {MAX_SAFETY_NET_ROUNDS} fit in "
                "one execution's 3,000 durable operations: raise CALLBACK_TIMEOUT_SECONDS or lower MAX_WAIT_SECONDS"
            )

    @property
    def max_rounds(self) -> int:
        """How many callback waits the maximum total wait allows (the last one may be shorter)."""
        return max(1, math.ceil(self.max_wait_seconds / self.callback_timeout_seconds))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CallbackSettings:
        env = os.environ if env is None else env
        return cls(
            table_name=_table_name_setting(env, "CALLBACK_TABLE_NAME"),
            callback_timeout_seconds=_int_setting(
                env, "CALLBACK_TIMEOUT_SECONDS", DEFAULT_CALLBACK_TIMEOUT_SECONDS, 1, 31_622_400
            ),
            max_wait_seconds=_int_setting(env, "MAX_WAIT_SECONDS", DEFAULT_MAX_WAIT_SECONDS, 60, 31_622_400),
        )


@dataclass(frozen=True)
class CompleterSettings:
    """How the completer finds waiting executions and how long it waits for one that is re-registering.

    A callback found closed may belong to an execution between its safety-net timeout and its re-registration;
    the completer re-reads the correlation for up to ``reregistration_grace_seconds`` before it leaves the task
    to that execution's next safety-net check.
    """

    table_name: str
    reregistration_grace_seconds: float = DEFAULT_REREGISTRATION_GRACE_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CompleterSettings:
        env = os.environ if env is None else env
        return cls(
            table_name=_table_name_setting(env, "CALLBACK_TABLE_NAME"),
            reregistration_grace_seconds=_float_setting(
                env, "REREGISTRATION_GRACE_SECONDS", DEFAULT_REREGISTRATION_GRACE_SECONDS, 0.0, 600.0
            ),
        )
