"""The signing secret from Secrets Manager (moto): cached for a bounded time, rotation honoured, errors named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from moto import mock_aws

from aws_adapters.clients import reset_clients, secretsmanager_client
from callback_api.signing_secrets import SecretsManagerSigningSecrets
from local_aws.aws_call_meter import AwsCallMeter, metered_aws_calls
from waiting.errors import SigningSecretError

NAME = "migration-wait/signing"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def meter() -> Iterator[AwsCallMeter]:
    with mock_aws(), metered_aws_calls() as calls:
        reset_clients()
        yield calls
    reset_clients()


def _source(
    monotonic: FakeMonotonic, cache_seconds: float = 300, overlap: timedelta = timedelta(hours=24), **kwargs: object
) -> SecretsManagerSigningSecrets:
    return SecretsManagerSigningSecrets(
        NAME, cache_seconds=cache_seconds, rotation_overlap=overlap, monotonic=monotonic, **kwargs
    )


def test_the_secret_is_read_once_and_cached_for_its_lifetime(meter: AwsCallMeter) -> None:
    secretsmanager_client().create_secret(Name=NAME, SecretString="first-secret")
    clock = FakeMonotonic()
    source = _source(clock)

    first = source.get()
    reads = meter.count("secrets-manager", "GetSecretValue")
    values = [source.get() for _ in range(5)]
    clock.now += 299
    values.append(source.get())
    clock.now += 1
    source.get()

    assert first == (b"first-secret",)
    assert values == [first] * 6
    # One refresh reads AWSCURRENT and, the secret being new, asks for an AWSPREVIOUS (there is none yet).
    assert reads == 2
    assert meter.count("secrets-manager", "GetSecretValue") == 2 * reads, "expected one refresh, at 300 s"


def test_a_rotation_takes_effect_when_the_cache_expires_and_the_previous_secret_stays_valid_for_the_overlap(
    meter: AwsCallMeter,
) -> None:
    client = secretsmanager_client()
    client.create_secret(Name=NAME, SecretString="old-secret")
    clock = FakeMonotonic()
    source = _source(clock)
    assert source.get() == (b"old-secret",)

    client.put_secret_value(SecretId=NAME, SecretString="new-secret")  # moves AWSCURRENT; old becomes AWSPREVIOUS
    still_cached = source.get()
    clock.now += 300
    rotated = source.get()

    assert still_cached == (b"old-secret",), "the cache lifetime bounds when a rotation is seen, not sooner"
    assert rotated == (b"new-secret", b"old-secret"), "during the overlap both secrets are accepted"


def test_after_the_overlap_only_the_current_secret_is_accepted(meter: AwsCallMeter) -> None:
    client = secretsmanager_client()
    client.create_secret(Name=NAME, SecretString="old-secret")
    client.put_secret_value(SecretId=NAME, SecretString="new-secret")
    a_day_later = datetime.now(UTC) + timedelta(days=1, minutes=1)

    source = _source(FakeMonotonic(), clock=lambda: a_day_later)

    assert source.get() == (b"new-secret",)


def test_a_missing_secret_is_a_clear_error_naming_the_variable(meter: AwsCallMeter) -> None:
    source = _source(FakeMonotonic())

    with pytest.raises(SigningSecretError, match="CALLBACK_SECRET_ID"):
        source.get()


def test_an_empty_secret_is_refused(meter: AwsCallMeter) -> None:
    secretsmanager_client().create_secret(Name=NAME, SecretBinary=b"binary-only")

    with pytest.raises(SigningSecretError, match="no SecretString"):
        _source(FakeMonotonic()).get()


def test_a_forced_refresh_sees_a_rotation_at_once_while_the_cache_is_still_warm(meter: AwsCallMeter) -> None:
    client = secretsmanager_client()
    client.create_secret(Name=NAME, SecretString="old-secret")
    clock = FakeMonotonic()
    source = _source(clock)
    assert source.get() == (b"old-secret",)

    client.put_secret_value(SecretId=NAME, SecretString="new-secret")
    clock.now += 1

    assert source.refresh() == (b"new-secret", b"old-secret"), "a forced refresh must not wait for the cache"
    assert source.get() == (b"new-secret", b"old-secret"), "the refreshed secrets are what the cache holds now"


def test_forced_refreshes_are_rate_limited_to_one_per_window(meter: AwsCallMeter) -> None:
    client = secretsmanager_client()
    client.create_secret(Name=NAME, SecretString="the-secret")
    clock = FakeMonotonic()
    source = _source(clock, forced_refresh_seconds=30)
    source.get()
    reads_per_refresh = meter.count("secrets-manager", "GetSecretValue")

    first = [source.refresh() for _ in range(50)]
    after_one_window = meter.count("secrets-manager", "GetSecretValue")
    clock.now += 29.9
    source.refresh()
    still_in_window = meter.count("secrets-manager", "GetSecretValue")
    clock.now += 0.1
    source.refresh()

    assert first == [(b"the-secret",)] * 50
    assert after_one_window == 2 * reads_per_refresh, "50 forced refreshes in one window read the secret once"
    assert still_in_window == after_one_window
    assert meter.count("secrets-manager", "GetSecretValue") == 3 * reads_per_refresh, "a new window allows one more"
