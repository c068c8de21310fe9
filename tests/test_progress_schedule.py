"""The progress-aware schedule as pure functions: the history it keeps, the end it estimates, the delay it picks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from waiting.domain import WorkOutcome, WorkSnapshot
from waiting.errors import MigrationWaitTimedOutError
from waiting.polling import (
    POLL_BUDGET,
    PollState,
    backoff_interval_after,
    backoff_poll_offset,
    decide_next_poll,
    poll_interval_seconds,
)
from waiting.progress_schedule import (
    APPROACH_FRACTION,
    PROGRESS_WINDOW,
    ProgressHistory,
    ProgressSample,
    consistent_window,
    estimate_end,
    progress_delay,
    rate_bounds,
)
from waiting.settings import PollingSettings, PollStrategy

PROGRESS = PollingSettings(strategy=PollStrategy.PROGRESS)
START = datetime(2026, 1, 1, tzinfo=UTC)


def _history(*sightings: tuple[int, int]) -> ProgressHistory:
    """A running task seen at (seconds, percent) after (seconds, percent)."""
    history = ProgressHistory()
    for at, percent in sightings:
        history = history.observe("running", percent, at)
    return history


def _linear(seconds_per_percent: int, until: int, every: int) -> ProgressHistory:
    """A load moving one percent every ``seconds_per_percent`` s, polled every ``every`` s up to ``until``."""
    return _history(*((t, t // seconds_per_percent) for t in range(0, until + 1, every)))


# --- the history -----------------------------------------------------------------------------------------------


def test_a_percent_seen_again_extends_its_sample() -> None:
    history = _history((100, 5), (200, 5))

    assert history.samples == (ProgressSample(5, 100, 200),)


def test_only_the_last_sighting_of_zero_percent_is_kept() -> None:
    history = _history((0, 0), (600, 0), (900, 1))

    assert history.samples == (ProgressSample(0, 600, 600), ProgressSample(1, 900, 900)), (
        "the load may begin long after 0 % is first seen: only its last sighting bounds the rate"
    )


def test_the_window_keeps_the_last_percentages_only() -> None:
    history = _history(*((i * 100, i) for i in range(1, 10)))

    assert [s.percent for s in history.samples] == list(range(10 - PROGRESS_WINDOW, 10))


def test_a_lower_percent_starts_the_history_again() -> None:
    history = _history((100, 40), (200, 50), (300, 3))

    assert history.samples == (ProgressSample(3, 300, 300),), "a reload's run must not be estimated with the last"


@pytest.mark.parametrize(("status", "percent"), [("running", 100), ("stopping", 60), ("running", None)])
def test_a_percent_that_says_nothing_about_the_load_leaves_the_samples_alone(status: str, percent: int | None) -> None:
    before = _history((100, 40), (200, 50))

    after = before.observe(status, percent, 300)

    assert after.samples == before.samples
    assert (after.percent, after.changed_at) == (percent, 300), "the fallback restarts when the percent changes"


def test_the_change_time_moves_only_when_the_percent_changes() -> None:
    history = _history((0, 0), (30, 0), (90, 1), (400, 1))

    assert history.changed_at == 90


def test_the_history_survives_its_record() -> None:
    history = _history((0, 0), (600, 1), (900, 2), (1200, 2))

    assert ProgressHistory.from_record(history.to_record()) == history


# --- the rate and the end --------------------------------------------------------------------------------------


def test_two_sightings_bound_the_rate_by_one_percent_either_way() -> None:
    low, high = rate_bounds((ProgressSample(10, 0, 0), ProgressSample(20, 1000, 1000)))

    assert (low, high) == (pytest.approx(9 / 1000), pytest.approx(11 / 1000))


def test_sightings_that_no_constant_rate_explains_are_dropped_oldest_first() -> None:
    # Ten points in 1,000 s, then one point in 5,000 s: the load slowed down.
    samples = (ProgressSample(10, 0, 0), ProgressSample(20, 1000, 1000), ProgressSample(21, 6000, 6000))

    assert consistent_window(samples) == samples[1:]


def test_one_percentage_shows_no_movement() -> None:
    assert estimate_end(_history((100, 5), (400, 5)), 400) is None


def test_the_estimate_of_a_steady_load_brackets_its_end() -> None:
    # One percent every 600 s, polled every 1,000 s: it ends at 60,000 s, 20,000 s from now.
    history = _linear(600, until=40_000, every=1000)

    estimate = estimate_end(history, 40_000)

    assert estimate is not None
    assert estimate.earliest_end <= 60_000 <= estimate.latest_end, f"{estimate} does not bracket the end"
    assert 60_000 - estimate.earliest_end < 0.25 * 20_000, f"{estimate.earliest_end} is far too early"


def test_a_percent_unchanged_for_three_times_its_pace_has_stalled() -> None:
    history = _history((0, 10), (600, 11), (1200, 12), (3100, 12))

    estimate = estimate_end(history, 3100)

    assert estimate is not None
    assert estimate.stalled, "1,900 s at 12 % after 600 s per percent is a stall"


# --- the delay -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "percent"), [("starting", 0), ("running", 0), ("running", 100), ("running", None)])
def test_without_progress_to_read_there_is_no_progress_delay(status: str, percent: int | None) -> None:
    history = _linear(600, until=6000, every=1000)

    assert progress_delay(history, status, percent, 6000, PROGRESS) is None


def test_far_from_the_end_it_sleeps_the_approach_fraction_under_the_cap() -> None:
    history = _linear(600, until=40_000, every=1000)
    estimate = estimate_end(history, 40_000)
    assert estimate is not None

    delay = progress_delay(history, "running", 66, 40_000, PROGRESS)

    expected = min(PROGRESS.progress_max_interval_seconds, APPROACH_FRACTION * (estimate.earliest_end - 40_000))
    assert delay == int(expected)


def test_early_in_a_long_load_it_sleeps_the_cap() -> None:
    history = _linear(900, until=3000, every=500)

    assert progress_delay(history, "running", 3, 3000, PROGRESS) == PROGRESS.progress_max_interval_seconds


def test_near_the_end_it_polls_between_the_backoffs_first_interval_and_cap() -> None:
    history = _linear(600, until=59_900, every=100)

    delay = progress_delay(history, "running", 99, 59_900, PROGRESS)

    assert delay is not None
    assert PROGRESS.initial_interval_seconds <= delay <= PROGRESS.max_interval_seconds


def test_a_stalled_load_falls_back() -> None:
    history = _history((0, 10), (600, 11), (1200, 12), (3100, 12))

    assert progress_delay(history, "running", 12, 3100, PROGRESS) is None


# --- the backoff it falls back to, and the wait around it ----------------------------------------------------


def test_the_backoff_offsets_follow_its_intervals() -> None:
    settings = PollingSettings()

    offsets = [backoff_poll_offset(settings, n) for n in range(1, 9)]

    assert offsets == [0, 30, 90, 210, 450, 750, 1050, 1350]
    assert all(
        backoff_poll_offset(settings, n + 1) - backoff_poll_offset(settings, n) == poll_interval_seconds(settings, n)
        for n in range(1, 40)
    )


@pytest.mark.parametrize(("elapsed", "interval"), [(0, 30), (29, 30), (30, 60), (200, 120), (450, 300), (10**6, 300)])
def test_the_restarted_backoff_waits_the_interval_of_its_latest_poll(elapsed: int, interval: int) -> None:
    assert backoff_interval_after(PollingSettings(), elapsed) == interval


def _state(history: ProgressHistory, polls: int, at: int, percent: int | None = 50) -> PollState:
    snapshot = WorkSnapshot(
        "running", None, None, percent, None, START + timedelta(seconds=at), outcome=WorkOutcome.RUNNING
    ).to_record()
    return {
        "StartedAt": START.isoformat(),
        "RunBoundAt": None,
        "Polls": polls,
        "TransientErrors": 0,
        "LastTransientError": None,
        "LastCheckedAt": snapshot["ObservedAt"],
        "Snapshot": snapshot,
        "Progress": history.to_record(),
    }


def test_without_progress_the_backoff_restarts_when_the_percent_last_changed() -> None:
    # Reached 100 % at 50,000 s (cached changes being applied): the backoff restarted then.
    history = _linear(600, until=49_000, every=1000).observe("running", 100, 50_000)

    decision = decide_next_poll(_state(history, polls=40, at=50_100, percent=100), PROGRESS)

    # The restarted backoff polled at 0, 30 and 90 s: its latest poll waits 120 s.
    assert decision.delay_seconds == backoff_interval_after(PROGRESS, 100) == 120


def test_the_nth_poll_never_comes_before_the_backoffs_nth() -> None:
    # Three polls in, the estimate says the end is near; the backoff's fourth poll is at 210 s.
    history = _history((0, 0), (30, 45), (90, 96))

    decision = decide_next_poll(_state(history, polls=3, at=90, percent=96), PROGRESS)

    assert decision.delay_seconds >= backoff_poll_offset(PROGRESS, 4) - 90


def test_the_backoff_strategy_ignores_the_progress() -> None:
    history = _linear(600, until=40_000, every=1000)

    decision = decide_next_poll(_state(history, polls=12, at=40_000), PollingSettings())

    assert decision.delay_seconds == poll_interval_seconds(PollingSettings(), 12)


@pytest.mark.parametrize("days", [7, 30])
def test_a_progress_that_never_ends_stays_within_the_operation_quota(days: int) -> None:
    # Stuck at 50 %: the strategy falls back to the backoff, and the budget stretches it as it does the backoff.
    settings = PollingSettings(strategy=PollStrategy.PROGRESS, max_wait_seconds=days * 86_400)
    history, polls, at = ProgressHistory(), 0, 0

    def poll_until_it_gives_up() -> None:
        nonlocal history, polls, at
        while True:
            polls += 1
            history = history.observe("running", 50 if at else 49, at)
            at += decide_next_poll(_state(history, polls, at), settings).delay_seconds

    with pytest.raises(MigrationWaitTimedOutError, match="MAX_WAIT_SECONDS"):
        poll_until_it_gives_up()
    assert polls <= POLL_BUDGET, f"{days} days took {polls} polls, over the per-execution operation quota"
