"""Polling settings and schedule: defaults, validation of the environment, and the capped backoff."""

from __future__ import annotations

import pytest

from migration_wait.errors import InvalidSettingError
from migration_wait.polling import poll_interval_seconds
from migration_wait.settings import PollingSettings


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = PollingSettings.from_env({})

    assert settings == PollingSettings()
    assert (settings.initial_interval_seconds, settings.max_interval_seconds) == (30, 300)
    assert settings.max_wait_seconds == 7 * 24 * 3600


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
