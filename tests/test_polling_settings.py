"""Polling settings and schedule: defaults, validation of the environment, and the capped backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from waiting.domain import WorkOutcome, WorkSnapshot
from waiting.errors import InvalidSettingError, MigrationWaitTimedOutError
from waiting.polling import POLL_BUDGET, PollState, decide_next_poll, poll_interval_seconds
from waiting.settings import PollingSettings, PollStrategy


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = PollingSettings.from_env({})

    assert settings == PollingSettings()
    assert (settings.initial_interval_seconds, settings.max_interval_seconds) == (30, 300)
    assert settings.max_wait_seconds == 7 * 24 * 3600


def test_the_backoff_is_the_default_strategy_and_progress_is_chosen_by_name() -> None:
    assert PollingSettings.from_env({}).strategy is PollStrategy.BACKOFF
    chosen = PollingSettings.from_env({"POLL_STRATEGY": "Progress", "POLL_PROGRESS_MAX_INTERVAL_SECONDS": "3600"})
    assert (chosen.strategy, chosen.progress_max_interval_seconds) == (PollStrategy.PROGRESS, 3600)
    assert PollingSettings().progress_max_interval_seconds == 7200


def test_a_short_progress_cap_is_accepted_while_the_backoff_is_used() -> None:
    settings = PollingSettings.from_env({"POLL_PROGRESS_MAX_INTERVAL_SECONDS": "120"})

    assert settings.strategy is PollStrategy.BACKOFF, "an unused setting must not fail the backoff strategy"


def test_the_interval_grows_then_stays_at_the_cap() -> None:
    settings = PollingSettings(initial_interval_seconds=30, max_interval_seconds=300, backoff_rate=2.0)

    intervals = [poll_interval_seconds(settings, polls) for polls in range(1, 9)]

    assert intervals == [30, 60, 120, 240, 300, 300, 300, 300]


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"POLL_INITIAL_INTERVAL_SECONDS": "soon"}, "POLL_INITIAL_INTERVAL_SECONDS"),
        ({"POLL_INITIAL_INTERVAL_SECONDS": "0"}, "POLL_INITIAL_INTERVAL_SECONDS"),
        ({"POLL_MAX_INTERVAL_SECONDS": "-5"}, "POLL_MAX_INTERVAL_SECONDS"),
        ({"POLL_BACKOFF_RATE": "0.5"}, "POLL_BACKOFF_RATE"),
        ({"POLL_BACKOFF_RATE": "fast"}, "POLL_BACKOFF_RATE"),
        ({"MAX_WAIT_SECONDS": "1e9"}, "MAX_WAIT_SECONDS"),
        ({"POLL_INITIAL_INTERVAL_SECONDS": "600", "POLL_MAX_INTERVAL_SECONDS": "60"}, "POLL_MAX_INTERVAL_SECONDS"),
        ({"POLL_STRATEGY": "smart"}, "POLL_STRATEGY"),
        ({"POLL_PROGRESS_MAX_INTERVAL_SECONDS": "two hours"}, "POLL_PROGRESS_MAX_INTERVAL_SECONDS"),
        ({"POLL_PROGRESS_MAX_INTERVAL_SECONDS": "0"}, "POLL_PROGRESS_MAX_INTERVAL_SECONDS"),
        (
            {"POLL_STRATEGY": "progress", "POLL_PROGRESS_MAX_INTERVAL_SECONDS": "120"},
            "POLL_PROGRESS_MAX_INTERVAL_SECONDS",
        ),
    ],
)
def test_a_bad_setting_fails_fast_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(InvalidSettingError, match=named):
        PollingSettings.from_env(env)


def test_the_interval_stays_at_the_cap_after_thousands_of_polls() -> None:
    settings = PollingSettings(initial_interval_seconds=30, max_interval_seconds=300, backoff_rate=2.0)

    assert poll_interval_seconds(settings, 5_000) == 300


def test_a_backoff_rate_of_one_polls_at_a_fixed_interval() -> None:
    settings = PollingSettings(initial_interval_seconds=60, max_interval_seconds=60, backoff_rate=1.0)

    assert {poll_interval_seconds(settings, polls) for polls in range(1, 2_000)} == {60}


def _polls_for_a_task_that_never_finishes(settings: PollingSettings) -> tuple[int, str, list[int]]:
    """Drive the real strategy over simulated time until it gives up: the polls made, why it stopped, the delays."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    now = start
    delays: list[int] = []
    state: PollState = {
        "StartedAt": start.isoformat(),
        "Polls": 0,
        "TransientErrors": 0,
        "LastTransientError": None,
        "LastCheckedAt": None,
        "Snapshot": None,
    }
    while True:
        running = WorkSnapshot(
            status="running",
            outcome=WorkOutcome.RUNNING,
            stop_reason=None,
            last_failure_message=None,
            full_load_progress_percent=50,
            stop_date=None,
            observed_at=now,
        ).to_record()
        state = {**state, "Polls": state["Polls"] + 1, "LastCheckedAt": now.isoformat(), "Snapshot": running}
        try:
            decision = decide_next_poll(state, settings)
        except MigrationWaitTimedOutError as err:
            return state["Polls"], str(err), delays
        delays.append(decision.delay_seconds)
        now += timedelta(seconds=decision.delay_seconds)


@pytest.mark.parametrize("days", [7, 14, 30])
def test_a_wait_of_any_length_stays_within_the_operation_quota(days: int) -> None:
    settings = PollingSettings(max_wait_seconds=days * 86_400)

    polls, reason, _ = _polls_for_a_task_that_never_finishes(settings)

    assert polls <= POLL_BUDGET, f"{days} days took {polls} polls, over AWS's per-execution operation quota"
    assert "MAX_WAIT_SECONDS" in reason, f"gave up for the wrong reason: {reason}"


def test_the_default_seven_day_wait_keeps_the_five_minute_cap() -> None:
    settings = PollingSettings()

    polls, _, delays = _polls_for_a_task_that_never_finishes(settings)

    assert delays[:5] == [30, 60, 120, 240, 300], "the budget stretched the first, short intervals"
    assert max(delays) == 300, "the budget stretched the default interval"
    assert polls == pytest.approx(7 * 86_400 / 300, abs=10)


def test_a_fixed_one_minute_loop_fits_two_days_without_stretching() -> None:
    settings = PollingSettings(
        initial_interval_seconds=60, max_interval_seconds=60, backoff_rate=1.0, max_wait_seconds=2 * 86_400
    )

    polls, _, delays = _polls_for_a_task_that_never_finishes(settings)

    assert set(delays) == {60}
    assert polls <= POLL_BUDGET
