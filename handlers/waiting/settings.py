"""Typed settings built from the environment in one place; required values fail fast and name the variable."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlsplit

from waiting.errors import InvalidSettingError

DEFAULT_POLL_INITIAL_INTERVAL_SECONDS = 30
DEFAULT_POLL_MAX_INTERVAL_SECONDS = 300
DEFAULT_POLL_BACKOFF_RATE = 2.0
# The progress-aware strategy's longest sleep, hence its worst-case detection lag. At most 30 polls for a 24-hour
# migration need a cap near 2 hours: 24 h / cap polls are unavoidable, and a 30-minute cap alone costs 48
# (docs/progress-polling.md has the measurements).
DEFAULT_POLL_PROGRESS_MAX_INTERVAL_SECONDS = 7200
DEFAULT_MAX_WAIT_SECONDS = 7 * 24 * 3600
# The safety net's period: longer than the 72-hour migrations this project targets, so a delivered event finishes
# any of them in two invocations, and half the default maximum wait, so an execution looks at DMS at most twice.
DEFAULT_CALLBACK_TIMEOUT_SECONDS = 84 * 3600
# Each safety-net round costs about four durable operations; an execution may hold at most 3,000.
MAX_SAFETY_NET_ROUNDS = 500
DEFAULT_REREGISTRATION_GRACE_SECONDS = 10.0
# One request to the third party's job API: generous for a create or a status read, far below the function timeout.
DEFAULT_THIRD_PARTY_TIMEOUT_SECONDS = 10
# How long CallbackApiFunction trusts the signing secret it read: a rotation takes effect within this many seconds.
DEFAULT_SECRET_CACHE_SECONDS = 300
# After a rotation the previous secret is still accepted this long, while the third party switches over.
DEFAULT_SECRET_ROTATION_OVERLAP_SECONDS = 24 * 3600
DEFAULT_REPLAY_WINDOW_SECONDS = 300
# A signature that does not match makes CallbackApiFunction re-read the secret at once (a rotation may have just
# happened), at most once per this many seconds per instance: a flood of bad signatures cannot hammer Secrets Manager.
DEFAULT_SECRET_FORCED_REFRESH_SECONDS = 30
# A callback carries one job status document (a few hundred bytes); the durable callback result may hold 256 KB.
DEFAULT_CALLBACK_MAX_BODY_BYTES = 64 * 1024
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_Choice = TypeVar("_Choice", bound=StrEnum)


def _int_setting(
    env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int, *, unit: str = "seconds"
) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidSettingError(f"{name} must be a whole number of {unit}, got {raw!r}") from None
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


def _url_setting(env: Mapping[str, str], name: str, what: str) -> str:
    """An https base URL (http only on the loopback interface, for local runs), without a trailing slash."""
    raw = (env.get(name) or "").strip()
    if not raw:
        raise InvalidSettingError(f"{name} is required: {what}")
    parts = urlsplit(raw)
    local = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    if not (parts.scheme == "https" or local) or not parts.hostname or parts.query or parts.fragment:
        raise InvalidSettingError(
            f"{name} must be an https:// URL without query or fragment (http:// only on 127.0.0.1), got {raw[:300]!r}"
        )
    return raw.rstrip("/")


def _text_setting(env: Mapping[str, str], name: str, what: str) -> str:
    raw = (env.get(name) or "").strip()
    if not raw:
        raise InvalidSettingError(f"{name} is required: {what}")
    return raw


def _choice_setting(env: Mapping[str, str], name: str, choices: type[_Choice], default: _Choice) -> _Choice:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        return choices(raw.lower())
    except ValueError:
        allowed = ", ".join(c.value for c in choices)
        raise InvalidSettingError(f"{name} must be one of {allowed}; got {raw[:100]!r}") from None


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


class PollStrategy(StrEnum):
    """How the polling variant spaces its polls (``POLL_STRATEGY``)."""

    # Exponential from the initial interval to the cap, whatever DMS reports.
    BACKOFF = "backoff"
    # From FullLoadProgressPercent: sparse while the end is far, dense near it (progress_schedule.py).
    PROGRESS = "progress"


@dataclass(frozen=True)
class PollingSettings:
    """How the polling variant spaces its DescribeReplicationTasks calls and when it gives up.

    The interval starts at ``initial_interval_seconds`` and grows by ``backoff_rate`` per poll up to
    ``max_interval_seconds``: the cap bounds the detection lag, ``max_wait_seconds`` bounds the total wait.
    With ``strategy`` PROGRESS the interval follows the full load's progress instead, up to
    ``progress_max_interval_seconds``, and falls back to that backoff when there is no progress to read.
    """

    initial_interval_seconds: int = DEFAULT_POLL_INITIAL_INTERVAL_SECONDS
    max_interval_seconds: int = DEFAULT_POLL_MAX_INTERVAL_SECONDS
    backoff_rate: float = DEFAULT_POLL_BACKOFF_RATE
    max_wait_seconds: int = DEFAULT_MAX_WAIT_SECONDS
    strategy: PollStrategy = PollStrategy.BACKOFF
    progress_max_interval_seconds: int = DEFAULT_POLL_PROGRESS_MAX_INTERVAL_SECONDS

    def __post_init__(self) -> None:
        if self.max_interval_seconds < self.initial_interval_seconds:
            raise InvalidSettingError(
                "POLL_MAX_INTERVAL_SECONDS must not be smaller than POLL_INITIAL_INTERVAL_SECONDS "
                f"({self.max_interval_seconds} < {self.initial_interval_seconds})"
            )
        if self.strategy is PollStrategy.PROGRESS and self.progress_max_interval_seconds < self.max_interval_seconds:
            raise InvalidSettingError(
                "POLL_PROGRESS_MAX_INTERVAL_SECONDS must not be smaller than POLL_MAX_INTERVAL_SECONDS "
                f"({self.progress_max_interval_seconds} < {self.max_interval_seconds}): the progress strategy would "
                "poll more often than the backoff it falls back to"
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
            strategy=_choice_setting(env, "POLL_STRATEGY", PollStrategy, PollStrategy.BACKOFF),
            progress_max_interval_seconds=_int_setting(
                env, "POLL_PROGRESS_MAX_INTERVAL_SECONDS", DEFAULT_POLL_PROGRESS_MAX_INTERVAL_SECONDS, 1, 86_400
            ),
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


@dataclass(frozen=True)
class ThirdPartySettings:
    """Where the third-party job variant starts jobs, where their callbacks go, and where the tokens live.

    The wait itself (correlation table, safety-net period, maximum wait) is ``CallbackSettings``, shared with the
    DMS callback variant.
    """

    api_url: str
    callback_api_url: str
    token_table_name: str
    request_timeout_seconds: int = DEFAULT_THIRD_PARTY_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ThirdPartySettings:
        env = os.environ if env is None else env
        return cls(
            api_url=_url_setting(env, "THIRD_PARTY_API_URL", "the base URL of the third party's job API"),
            callback_api_url=_url_setting(
                env, "CALLBACK_API_URL", "the base URL of CallbackApiFunction, where the third party calls back"
            ),
            token_table_name=_table_name_setting(env, "CALLBACK_TOKEN_TABLE_NAME"),
            request_timeout_seconds=_int_setting(
                env, "THIRD_PARTY_TIMEOUT_SECONDS", DEFAULT_THIRD_PARTY_TIMEOUT_SECONDS, 1, 50
            ),
        )


@dataclass(frozen=True)
class CallbackApiSettings:
    """How CallbackApiFunction checks a third party's callback and finds the execution waiting for it."""

    table_name: str
    token_table_name: str
    secret_id: str
    secret_cache_seconds: int = DEFAULT_SECRET_CACHE_SECONDS
    secret_rotation_overlap_seconds: int = DEFAULT_SECRET_ROTATION_OVERLAP_SECONDS
    replay_window_seconds: int = DEFAULT_REPLAY_WINDOW_SECONDS
    max_body_bytes: int = DEFAULT_CALLBACK_MAX_BODY_BYTES
    reregistration_grace_seconds: float = DEFAULT_REREGISTRATION_GRACE_SECONDS
    secret_forced_refresh_seconds: int = DEFAULT_SECRET_FORCED_REFRESH_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CallbackApiSettings:
        env = os.environ if env is None else env
        return cls(
            table_name=_table_name_setting(env, "CALLBACK_TABLE_NAME"),
            token_table_name=_table_name_setting(env, "CALLBACK_TOKEN_TABLE_NAME"),
            secret_id=_text_setting(
                env, "CALLBACK_SECRET_ID", "the Secrets Manager secret shared with the third party"
            ),
            secret_cache_seconds=_int_setting(env, "SECRET_CACHE_SECONDS", DEFAULT_SECRET_CACHE_SECONDS, 0, 3600),
            secret_rotation_overlap_seconds=_int_setting(
                env, "SECRET_ROTATION_OVERLAP_SECONDS", DEFAULT_SECRET_ROTATION_OVERLAP_SECONDS, 0, 7 * 24 * 3600
            ),
            replay_window_seconds=_int_setting(
                env, "CALLBACK_REPLAY_WINDOW_SECONDS", DEFAULT_REPLAY_WINDOW_SECONDS, 30, 3600
            ),
            max_body_bytes=_int_setting(
                env, "CALLBACK_MAX_BODY_BYTES", DEFAULT_CALLBACK_MAX_BODY_BYTES, 1024, 1024 * 1024, unit="bytes"
            ),
            reregistration_grace_seconds=_float_setting(
                env, "REREGISTRATION_GRACE_SECONDS", DEFAULT_REREGISTRATION_GRACE_SECONDS, 0.0, 30.0
            ),
            secret_forced_refresh_seconds=_int_setting(
                env, "SECRET_FORCED_REFRESH_SECONDS", DEFAULT_SECRET_FORCED_REFRESH_SECONDS, 1, 3600
            ),
        )
