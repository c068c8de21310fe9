"""The simulated full load's progress fields, per profile, as DescribeReplicationTasks shows them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local_aws.dms_simulation import SUCCESS_STOP_REASON, SimulatedDms, TaskPlan
from local_aws.progress_profiles import CACHED_CHANGES, LINEAR, PROFILES, STALL, ProgressProfile, progress_profile

START = datetime(2026, 1, 1, tzinfo=UTC)
DURATION = timedelta(hours=24)


class _Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _timeline(profile: ProgressProfile, points: int = 200) -> list[dict[str, Any]]:
    """The task as DescribeReplicationTasks shows it at ``points`` even moments of a 24-hour run, then after it."""
    clock = _Clock()
    dms = SimulatedDms(clock=clock)
    arn = dms.add_task("orders", TaskPlan(duration=DURATION, progress=profile))
    dms.handle("StartReplicationTask", {"ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"})
    seen = []
    for index in range(points + 1):
        clock.now = START + DURATION * index / points
        seen.append(dms.handle("DescribeReplicationTasks", {})["ReplicationTasks"][0])
    return seen


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
def test_the_percent_is_a_whole_number_that_never_goes_back(profile: ProgressProfile) -> None:
    percents = [task["ReplicationTaskStats"]["FullLoadProgressPercent"] for task in _timeline(profile)]

    assert all(isinstance(p, int) and 0 <= p <= 100 for p in percents)
    assert percents == sorted(percents), f"{profile.name}: the percent went back"
    assert percents[-1] == 100


@pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))
def test_the_table_counts_always_add_up_to_the_tables(profile: ProgressProfile) -> None:
    for task in _timeline(profile):
        stats = task["ReplicationTaskStats"]
        counted = stats["TablesLoaded"] + stats["TablesLoading"] + stats["TablesQueued"]
        assert counted == profile.tables, f"{task['Status']}: {stats}"
        assert stats["TablesLoading"] <= 8, "DMS loads at most MaxFullLoadSubTasks (8) tables at once"


FULL_LOAD_ONLY = [p for p in PROFILES.values() if p is not CACHED_CHANGES]


@pytest.mark.parametrize("profile", FULL_LOAD_ONLY, ids=[p.name for p in FULL_LOAD_ONLY])
def test_a_full_load_reaches_100_percent_only_when_it_stops(profile: ProgressProfile) -> None:
    running = [t for t in _timeline(profile) if t["Status"] == "running"]

    assert max(t["ReplicationTaskStats"]["FullLoadProgressPercent"] for t in running) < 100


def test_a_stall_stays_flat_for_hours_then_jumps() -> None:
    percents = [task["ReplicationTaskStats"]["FullLoadProgressPercent"] for task in _timeline(STALL)]

    flat = max(len([p for p in percents if p == value]) for value in set(percents))
    jump = max(b - a for a, b in itertools.pairwise(percents))
    assert flat * DURATION / 200 >= timedelta(hours=8), "the stall should hold one percent for hours"
    assert jump >= 40


def test_cached_changes_keep_the_task_running_at_100_percent_then_it_stops_after_them() -> None:
    timeline = _timeline(CACHED_CHANGES)
    at_full = [t for t in timeline if t["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100]
    final = timeline[-1]

    assert [t["Status"] for t in at_full[:-1]] == ["running"] * (len(at_full) - 1)
    assert len(at_full) * DURATION / 200 >= timedelta(hours=2), "cached changes take a tenth of the run"
    assert final["MigrationType"] == "full-load-and-cdc"
    assert final["StopReason"] == "Stop Reason STOPPED_AFTER_CACHED_EVENTS"
    stats = final["ReplicationTaskStats"]
    assert stats["FullLoadFinishDate"] < stats["StopDate"], "the full load finished before the task stopped"


def test_the_linear_profile_keeps_the_tasks_stop_reason_and_finish_date() -> None:
    final = _timeline(LINEAR)[-1]

    assert final["StopReason"] == SUCCESS_STOP_REASON
    assert final["MigrationType"] == "full-load"
    assert final["ReplicationTaskStats"]["FullLoadFinishDate"] == final["ReplicationTaskStats"]["StopDate"]


def test_an_unknown_profile_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="front-loaded"):
        progress_profile("zigzag")
