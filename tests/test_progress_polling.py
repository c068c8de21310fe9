"""The progress-aware strategy end to end: the real handler, the local durable runner, DMS simulated per profile.

The figures are polls and DMS-clock lags on the runner's virtual clock: deterministic, not timings.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

import pytest

import polling_handler
from local_aws.dms_simulation import TaskPlan
from local_aws.progress_profiles import LINEAR, PROFILES, ProgressProfile
from tests.conftest import LocalEnvironmentFactory
from waiting.polling import backoff_poll_offset
from waiting.settings import PollingSettings

PROGRESS = {"POLL_STRATEGY": "progress"}
CAP = PollingSettings().progress_max_interval_seconds
# The comparison's offset: a task does not end on a round number of seconds.
DAY = timedelta(hours=24) * 1.0137


def _run(
    make_local_environment: LocalEnvironmentFactory,
    profile: ProgressProfile,
    settings: dict[str, str],
    duration: timedelta = DAY,
) -> dict[str, Any]:
    env = make_local_environment(polling_handler.handler, settings=settings)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=duration, progress=profile))
    measured = env.runner.run({"ReplicationTaskArn": arn})
    assert measured.status == "SUCCEEDED", measured.error
    result: dict[str, Any] = measured.result
    assert result["Polls"] == env.dms.calls["DescribeReplicationTasks"] - 1, "one look before the start, then polls"
    return result


def _backoff_polls(result: dict[str, Any]) -> int:
    """How many polls the default backoff makes for a task that stops when this one did: its first poll at or
    after the stop sees it."""
    stopped = datetime.fromisoformat(result["TaskStoppedAt"]) - datetime.fromisoformat(result["StartedAt"])
    settings, polls = PollingSettings(), 1
    while backoff_poll_offset(settings, polls) < stopped.total_seconds():
        polls += 1
    return polls


def test_the_backoff_poll_count_used_below_is_the_default_strategys(
    make_local_environment: LocalEnvironmentFactory,
) -> None:
    result = _run(make_local_environment, LINEAR, {})

    assert result["Polls"] == _backoff_polls(result)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(PROFILES))
@pytest.mark.parametrize("hours", [1, 24])
def test_every_profile_polls_no_more_than_the_backoff_and_lags_within_the_cap(
    make_local_environment: LocalEnvironmentFactory, name: str, hours: int
) -> None:
    result = _run(make_local_environment, PROFILES[name], PROGRESS, DAY * hours / 24)

    assert result["Status"] == "stopped"
    assert result["Polls"] <= _backoff_polls(result), f"{name}: more polls than the default backoff"
    assert 0 <= result["DetectionLagSeconds"] <= CAP, f"{name}: lag beyond POLL_PROGRESS_MAX_INTERVAL_SECONDS"


@pytest.mark.slow
def test_a_day_long_load_meets_the_goals_of_issue_11(make_local_environment: LocalEnvironmentFactory) -> None:
    runs = {name: _run(make_local_environment, profile, PROGRESS) for name, profile in PROFILES.items()}
    polls = {name: run["Polls"] for name, run in runs.items()}
    lags = {name: run["DetectionLagSeconds"] for name, run in runs.items()}

    assert max(polls["linear"], polls["front-loaded"]) <= 30, f"steady and front-loaded loads: {polls}"
    assert statistics.median(lags.values()) <= 180, f"median detection lag across profiles: {lags}"


def test_the_cap_is_a_setting(make_local_environment: LocalEnvironmentFactory) -> None:
    result = _run(make_local_environment, LINEAR, {**PROGRESS, "POLL_PROGRESS_MAX_INTERVAL_SECONDS": "3600"})

    assert result["Polls"] > 24, "a 1-hour cap needs at least one poll an hour"


def test_throttling_while_polling_by_progress_is_absorbed(make_local_environment: LocalEnvironmentFactory) -> None:
    env = make_local_environment(polling_handler.handler, settings=PROGRESS)
    arn = env.dms.add_task("orders-full-load", TaskPlan(duration=timedelta(hours=6), progress=LINEAR))
    env.dms.throttle(5, operation="DescribeReplicationTasks", after=4)

    measured = env.runner.run({"ReplicationTaskArn": arn})

    assert measured.status == "SUCCEEDED", measured.error
    assert measured.result["TransientErrors"] == 5
