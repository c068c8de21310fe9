"""The third-party variant's settings: required values fail fast naming the variable; URLs must be https."""

from __future__ import annotations

import pytest

from waiting.errors import InvalidSettingError
from waiting.settings import CallbackApiSettings, ThirdPartySettings

THIRD_PARTY = {
    "THIRD_PARTY_API_URL": "https://jobs.example.com/v1/",
    "CALLBACK_API_URL": "https://abc.lambda-url.us-east-1.on.aws/",
    "CALLBACK_TOKEN_TABLE_NAME": "tokens",
}
CALLBACK_API = {"CALLBACK_TABLE_NAME": "claims", "CALLBACK_TOKEN_TABLE_NAME": "tokens", "CALLBACK_SECRET_ID": "arn:s"}


def test_urls_lose_their_trailing_slash_and_defaults_apply() -> None:
    settings = ThirdPartySettings.from_env(THIRD_PARTY)

    assert settings.api_url == "https://jobs.example.com/v1"
    assert settings.callback_api_url == "https://abc.lambda-url.us-east-1.on.aws"
    assert settings.request_timeout_seconds == 10


@pytest.mark.parametrize("name", sorted(THIRD_PARTY))
def test_a_missing_value_names_its_variable(name: str) -> None:
    with pytest.raises(InvalidSettingError, match=name):
        ThirdPartySettings.from_env({k: v for k, v in THIRD_PARTY.items() if k != name})


@pytest.mark.parametrize(
    "url",
    [
        "http://jobs.example.com",
        "ftp://jobs.example.com",
        "https://",
        "https://jobs.example.com/?key=1",
        "jobs.example",
    ],
)
def test_a_url_that_is_not_plain_https_is_refused(url: str) -> None:
    with pytest.raises(InvalidSettingError, match="THIRD_PARTY_API_URL must be an https:// URL"):
        ThirdPartySettings.from_env({**THIRD_PARTY, "THIRD_PARTY_API_URL": url})


def test_http_is_accepted_on_the_loopback_interface_only() -> None:
    settings = ThirdPartySettings.from_env({**THIRD_PARTY, "THIRD_PARTY_API_URL": "http://127.0.0.1:8080"})

    assert settings.api_url == "http://127.0.0.1:8080"


def test_the_callback_api_defaults() -> None:
    settings = CallbackApiSettings.from_env(CALLBACK_API)

    assert (settings.secret_cache_seconds, settings.replay_window_seconds) == (300, 300)
    assert settings.max_body_bytes == 65536
    assert settings.secret_rotation_overlap_seconds == 86400
    assert settings.secret_forced_refresh_seconds == 30


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CALLBACK_REPLAY_WINDOW_SECONDS", "5"),
        ("CALLBACK_MAX_BODY_BYTES", "99999999"),
        ("SECRET_CACHE_SECONDS", "-1"),
        ("SECRET_FORCED_REFRESH_SECONDS", "0"),
    ],
)
def test_an_out_of_range_callback_api_setting_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(InvalidSettingError, match=name):
        CallbackApiSettings.from_env({**CALLBACK_API, name: value})


def test_the_secret_id_is_required() -> None:
    with pytest.raises(InvalidSettingError, match="CALLBACK_SECRET_ID"):
        CallbackApiSettings.from_env({k: v for k, v in CALLBACK_API.items() if k != "CALLBACK_SECRET_ID"})
