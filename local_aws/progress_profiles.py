"""How a simulated full load moves DMS's progress fields: FullLoadProgressPercent and the table counts, by profile.

What the DMS documentation says the fields mean, and what the profiles take from it:

- ``ReplicationTaskStats`` (API reference, https://docs.aws.amazon.com/dms/latest/APIReference/API_ReplicationTaskStats.html):
  ``FullLoadProgressPercent`` is "the percent complete for the full load migration task", an Integer (so a
  whole number here, floored: 99 until the load is done); ``TablesLoaded`` / ``TablesLoading`` / ``TablesQueued``
  are "the number of tables loaded / currently loading / queued for this task"; ``FullLoadStartDate`` and
  ``FullLoadFinishDate`` are when "the replication task full load" started and "was completed".
- Full-load task settings (user guide, CHAP_Tasks.CustomizingTasks.TaskSettings.FullLoad): ``MaxFullLoadSubTasks``
  is "the maximum number of tables to load in parallel", default 8 (``MAX_TABLES_LOADING``); for full-load-and-CDC
  tasks ``StopTaskCachedChangesApplied`` stops "a task after a full load completes and cached changes are applied".
- Working with AWS DMS tasks (user guide, CHAP_Tasks): a task has up to three phases, the full load, "the
  application of cached changes" and ongoing replication; StopReason (API reference, ReplicationTask):
  "STOPPED_AFTER_CACHED_EVENTS - Full load completed, with cached changes applied".

The documentation does not say how DMS weighs tables in the percent, nor how evenly it moves. So the profiles are
shapes, each named for a plausible cause, chosen to test anything that reads the percent, not claims about DMS:

- ``linear``: a dozen similar tables; the percent moves evenly.
- ``front-loaded``: many small tables first, eight at a time, then one huge table alone: 70 % in the first fifth
  of the load, the last 30 % over the other four fifths (the rate drops about ninefold).
- ``back-loaded``: the huge table first, then the many small ones: 30 % in four fifths, 70 % in the last fifth.
- ``stall``: the percent stops for hours (40 % of the load time) while one large table loads, then jumps by 45
  points when it is done, then moves on.
- ``cached-changes``: a full-load-and-CDC task with StopTaskCachedChangesApplied: 100 % after 90 % of the run;
  the task keeps running while the cached changes are applied, then stops (STOPPED_AFTER_CACHED_EVENTS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FULL = 100
# MaxFullLoadSubTasks' default: DMS loads at most this many tables at once.
MAX_TABLES_LOADING = 8


@dataclass(frozen=True)
class LoadPhase:
    """A stretch of the full load: its share of the load time, the share of the percent it adds, its tables."""

    time_share: float
    progress_share: float
    tables: int
    # The phase's percent shows only when it ends (a jump), not as it goes.
    counted_when_done: bool = False


@dataclass(frozen=True)
class ProgressProfile:
    name: str
    phases: tuple[LoadPhase, ...]
    # Share of the run's load time after the full load reached 100 %, while the task still runs (cached changes).
    cached_changes_share: float = 0.0
    migration_type: str = "full-load"
    # The stop reason of a run that ends normally; None: the plan's.
    stop_reason: str | None = None

    def __post_init__(self) -> None:
        if not math.isclose(sum(p.time_share for p in self.phases), 1.0):
            raise ValueError(f"{self.name}: the phases' time shares must add up to 1")
        if not math.isclose(sum(p.progress_share for p in self.phases), 1.0):
            raise ValueError(f"{self.name}: the phases' progress shares must add up to 1")
        if not 0.0 <= self.cached_changes_share < 1.0:
            raise ValueError(f"{self.name}: cached_changes_share must be in [0, 1)")

    @property
    def tables(self) -> int:
        return sum(p.tables for p in self.phases)

    @property
    def full_load_share(self) -> float:
        """The share of the run's load time the full load takes (the rest applies cached changes)."""
        return 1.0 - self.cached_changes_share

    def _position(self, fraction: float) -> tuple[int, float]:
        """The phase ``fraction`` of the full load falls in, and how far through that phase it is."""
        start = 0.0
        for index, phase in enumerate(self.phases):
            end = start + phase.time_share
            if fraction < end:
                return index, (fraction - start) / phase.time_share
            start = end
        return len(self.phases), 0.0

    def share_done(self, fraction: float) -> float:
        """The share of the full load done after ``fraction`` of the run's load time (0 to 1)."""
        fraction = max(0.0, fraction) / self.full_load_share
        if fraction >= 1.0:
            return 1.0
        index, within = self._position(fraction)
        done = sum(p.progress_share for p in self.phases[:index])
        phase = self.phases[index]
        return done + (0.0 if phase.counted_when_done else phase.progress_share * within)

    def percent(self, fraction: float) -> int:
        """FullLoadProgressPercent: a whole number, 100 only once the full load is done."""
        done = self.share_done(fraction)
        return FULL if done >= 1.0 else max(0, min(FULL - 1, math.floor(done * FULL)))

    def table_counts(self, fraction: float) -> dict[str, int]:
        """TablesLoaded, TablesLoading and TablesQueued after ``fraction`` of the run's load time."""
        fraction = fraction / self.full_load_share
        if fraction <= 0.0:  # still starting: every table waits
            return {"TablesLoaded": 0, "TablesLoading": 0, "TablesQueued": self.tables}
        if fraction >= 1.0:
            return {"TablesLoaded": self.tables, "TablesLoading": 0, "TablesQueued": 0}
        index, within = self._position(fraction)
        loaded = sum(p.tables for p in self.phases[:index])
        phase = self.phases[index]
        finished_here = 0 if phase.counted_when_done else math.floor(phase.tables * within)
        loading = min(MAX_TABLES_LOADING, phase.tables - finished_here)
        loaded += finished_here
        return {"TablesLoaded": loaded, "TablesLoading": loading, "TablesQueued": self.tables - loaded - loading}


LINEAR = ProgressProfile("linear", (LoadPhase(1.0, 1.0, 12),))
FRONT_LOADED = ProgressProfile("front-loaded", (LoadPhase(0.2, 0.7, 40), LoadPhase(0.8, 0.3, 1)))
BACK_LOADED = ProgressProfile("back-loaded", (LoadPhase(0.8, 0.3, 1), LoadPhase(0.2, 0.7, 40)))
STALL = ProgressProfile(
    "stall",
    (LoadPhase(0.3, 0.4, 10), LoadPhase(0.4, 0.45, 1, counted_when_done=True), LoadPhase(0.3, 0.15, 5)),
)
CACHED_CHANGES = ProgressProfile(
    "cached-changes",
    (LoadPhase(1.0, 1.0, 12),),
    cached_changes_share=0.1,
    migration_type="full-load-and-cdc",
    stop_reason="Stop Reason STOPPED_AFTER_CACHED_EVENTS",
)
PROFILES: dict[str, ProgressProfile] = {p.name: p for p in (LINEAR, FRONT_LOADED, BACK_LOADED, STALL, CACHED_CHANGES)}


def progress_profile(name: str) -> ProgressProfile:
    """The profile called ``name``; a ValueError naming the known ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown progress profile {name!r}; known profiles: {', '.join(PROFILES)}") from None
