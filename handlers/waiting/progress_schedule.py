"""The progress-aware poll schedule: when DMS's FullLoadProgressPercent can reach 100, and how long to sleep.

Pure functions of the checkpointed history (no clock, no AWS): the polling check records each poll's percent at
DMS's own time (``ProgressHistory.observe``), the wait strategy asks for the next delay (``progress_delay``).

The model. DMS reports a whole number, so a poll that sees ``p`` % at time ``t`` says only that the progress was
in ``[p, p + 1)`` then, and two sightings bound the rate between them: above ``(p_b - p_a - 1) / (t_b - t_a)``,
below ``(p_b - p_a + 1) / (t_b - t_a)``. The history keeps, for the last few percentages, when each was first
and last seen. Its *consistent window* is the most recent part one constant rate explains: once the rate
changed, the older sightings contradict the newer ones and are left out. The *earliest end* is the sooner of
the end at the fastest rate the window allows, from the highest progress it allows now, and the end at the
history's mean rate from every sighting (a load that slowed down may speed up again). The *latest end* is the end at the
slowest rate the window allows. Sleeping towards the earliest end is late only when the load speeds up
beyond anything the history saw, and then by at most the cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TypedDict

from waiting.settings import PollingSettings

FULL = 100
# Percentages kept, each with its first and last sighting: about 150 bytes of poll state. More percentages tighten
# the rate bounds: over 16 end phases of a 24-hour load, the median lag across the simulated profiles stayed at or
# under 124 s with 8 (up to 214 s with 4; 12 did no better), for the same number of polls.
PROGRESS_WINDOW = 8
# Far from the end, sleep this share of the time to the earliest end: new sightings refine the estimate on the
# way, and a load up to 1 / 0.6 = 1.7 times faster than the estimate is still caught before it ends.
APPROACH_FRACTION = 0.6
# Closer than this to the earliest end, the end is inside the estimate's own uncertainty: poll by the latest end.
NEAR_END_SECONDS = 120
# Near the end, sleep this share of the time to the latest end (between the backoff's first interval and cap).
NEAR_END_FRACTION = 0.5
# A percent unchanged for this many times the window's time per percent has stopped moving: back to the backoff.
STALL_FACTOR = 3.0


class ProgressRecord(TypedDict):
    """The progress history in the poll state. Times are whole seconds of DMS's clock since the wait started."""

    # [percent, first seen, last seen] for the last PROGRESS_WINDOW percentages, oldest first.
    Samples: list[list[int]]
    # The last percent DMS reported (None: none), and when it last changed: where the fallback backoff restarts.
    Percent: int | None
    ChangedAt: int


@dataclass(frozen=True)
class ProgressSample:
    percent: int
    first_seen: int
    last_seen: int


def usable_progress(status: str | None, percent: int | None) -> bool:
    """Whether a poll's percent tells how far a full load is: a running task between 1 and 99 %.

    At 0 % (or none) there is nothing to extrapolate: a task still starting, a CDC-only task, a serverless
    replication provisioning. At 100 % the full load is done and what remains (applying cached changes, the stop)
    does not show in the percent.
    """
    return (status or "").strip().lower() == "running" and percent is not None and 0 < percent < FULL


@dataclass(frozen=True)
class ProgressHistory:
    samples: tuple[ProgressSample, ...] = ()
    percent: int | None = None
    changed_at: int = 0
    observed: bool = False

    @classmethod
    def from_record(cls, record: ProgressRecord | None) -> ProgressHistory:
        if record is None:
            return cls()
        samples = tuple(ProgressSample(p, first, last) for p, first, last in record["Samples"])
        return cls(samples, record["Percent"], record["ChangedAt"], observed=True)

    def to_record(self) -> ProgressRecord:
        return {
            "Samples": [[s.percent, s.first_seen, s.last_seen] for s in self.samples],
            "Percent": self.percent,
            "ChangedAt": self.changed_at,
        }

    def observe(self, status: str, percent: int | None, at: int) -> ProgressHistory:
        """The history after a poll that saw ``status`` and ``percent`` at ``at``."""
        changed = not self.observed or percent != self.percent
        history = replace(self, percent=percent, changed_at=at if changed else self.changed_at, observed=True)
        if (status or "").strip().lower() != "running" or percent is None or percent >= FULL:
            return history
        last = self.samples[-1] if self.samples else None
        if percent == 0 or (last is not None and percent < last.percent):
            # Only the last sighting of 0 % counts (the load may begin long after the first); a lower percent
            # means another run (a reload) began: its history starts again.
            return replace(history, samples=(ProgressSample(percent, at, at),))
        if last is not None and last.percent == percent:
            return replace(history, samples=(*self.samples[:-1], ProgressSample(percent, last.first_seen, at)))
        return replace(history, samples=(*self.samples, ProgressSample(percent, at, at))[-PROGRESS_WINDOW:])


def _sightings(samples: tuple[ProgressSample, ...]) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    for sample in samples:
        seen.append((sample.first_seen, sample.percent))
        if sample.last_seen != sample.first_seen:
            seen.append((sample.last_seen, sample.percent))
    return seen


def rate_bounds(samples: tuple[ProgressSample, ...]) -> tuple[float, float]:
    """The slowest and the fastest constant rate (percent per second) that explain every sighting.

    ``(0, inf)`` when nothing bounds them; low > high when no constant rate explains the sightings.
    """
    low, high = 0.0, math.inf
    sightings = _sightings(samples)
    for index, (t_a, p_a) in enumerate(sightings):
        for t_b, p_b in sightings[index + 1 :]:
            if t_b > t_a:
                low = max(low, (p_b - p_a - 1) / (t_b - t_a))
                high = min(high, (p_b - p_a + 1) / (t_b - t_a))
    return low, high


def consistent_window(samples: tuple[ProgressSample, ...]) -> tuple[ProgressSample, ...]:
    """The most recent samples one constant rate explains: the oldest go first once the rate changed."""
    window = samples
    while len(window) > 1:
        low, high = rate_bounds(window)
        if low <= high:
            break
        window = window[1:]
    return window


@dataclass(frozen=True)
class EndEstimate:
    """When the full load can reach 100 %, in seconds since the wait started (``latest_end`` may be inf)."""

    earliest_end: float
    latest_end: float
    stalled: bool


def estimate_end(history: ProgressHistory, now: int) -> EndEstimate | None:
    """The earliest and latest end the history allows at ``now``; None when it shows no movement to go by.

    Movement needs two percentages in the consistent window (one moved to the other). ``stalled``: the current
    percent has not moved for STALL_FACTOR times the window's time per percent.
    """
    window = consistent_window(history.samples)
    if len(window) < 2:
        return None
    low, high = rate_bounds(window)
    if math.isinf(high) or high <= 0.0:
        return None
    current, oldest = window[-1], window[0]
    time_per_percent = (current.first_seen - oldest.first_seen) / (current.percent - oldest.percent)
    sightings = _sightings(window)
    highest_now = min(p + 1 + high * (now - t) for t, p in sightings)
    earliest = now + max(0.0, FULL - highest_now) / high
    first = history.samples[0]
    if current.first_seen > first.first_seen:
        # Each sighting (t, p) says 100 % comes at least (99 - p) percent-times after t.
        mean_rate = (current.percent - first.percent) / (current.first_seen - first.first_seen)
        at_mean_rate = max(t + (FULL - 1 - p) / mean_rate for t, p in sightings)
        earliest = min(earliest, max(now, at_mean_rate))
    latest = math.inf
    if low > 0.0:
        lowest_now = max(p + low * (now - t) for t, p in sightings)
        latest = now + max(0.0, FULL - lowest_now) / low
    return EndEstimate(earliest, latest, stalled=now - current.first_seen > STALL_FACTOR * time_per_percent)


def progress_delay(
    history: ProgressHistory, status: str | None, percent: int | None, now: int, settings: PollingSettings
) -> int | None:
    """Seconds to sleep before the next poll, or None when there is no progress to go by (fall back to the backoff).

    Far from the earliest end: APPROACH_FRACTION of the way there, at most ``progress_max_interval_seconds``.
    Within NEAR_END_SECONDS of it: NEAR_END_FRACTION of the way to the latest end, between the backoff's first
    interval and its cap (its cap when the latest end is unbounded).
    """
    if not usable_progress(status, percent):
        return None
    estimate = estimate_end(history, now)
    if estimate is None or estimate.stalled:
        return None
    floor, near_cap = settings.initial_interval_seconds, settings.max_interval_seconds
    to_earliest = estimate.earliest_end - now
    if to_earliest > NEAR_END_SECONDS:
        return int(max(floor, min(settings.progress_max_interval_seconds, APPROACH_FRACTION * to_earliest)))
    if math.isinf(estimate.latest_end):
        return near_cap
    return int(max(floor, min(near_cap, NEAR_END_FRACTION * (estimate.latest_end - now))))
