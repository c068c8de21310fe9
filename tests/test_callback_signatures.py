"""Signed third-party callbacks: what is accepted and every way a request is rejected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callback_api.signatures import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureMismatchError,
    SignatureRejectedError,
    SignatureVerifier,
    sign,
    signed_headers,
)

SECRET = b"a-shared-secret-of-32-bytes-long"
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BODY = b'{"jobId": "job-1", "status": "succeeded"}'


def _headers(body: bytes = BODY, at: datetime = NOW, secret: bytes = SECRET) -> dict[str, str]:
    return signed_headers(secret, int(at.timestamp()), body)


def test_a_fresh_request_signed_with_the_secret_is_accepted() -> None:
    SignatureVerifier([SECRET]).verify(_headers(), BODY, NOW)


def test_header_names_are_case_insensitive() -> None:
    headers = {name.upper(): value for name, value in _headers().items()}

    SignatureVerifier([SECRET]).verify(headers, BODY, NOW)


def test_the_previous_secret_is_accepted_during_a_rotation() -> None:
    SignatureVerifier([b"the-new-secret", SECRET]).verify(_headers(), BODY, NOW)


def test_a_tampered_body_is_rejected() -> None:
    with pytest.raises(SignatureRejectedError, match="does not match"):
        SignatureVerifier([SECRET]).verify(_headers(), BODY.replace(b"succeeded", b"failed"), NOW)


def test_a_signature_made_with_another_secret_is_rejected() -> None:
    with pytest.raises(SignatureRejectedError, match="does not match"):
        SignatureVerifier([SECRET]).verify(_headers(secret=b"guessed"), BODY, NOW)


@pytest.mark.parametrize("missing", [TIMESTAMP_HEADER, SIGNATURE_HEADER])
def test_a_request_without_its_signature_headers_is_rejected(missing: str) -> None:
    headers = _headers()
    del headers[missing]

    with pytest.raises(SignatureRejectedError, match="missing"):
        SignatureVerifier([SECRET]).verify(headers, BODY, NOW)


def test_a_malformed_timestamp_is_rejected() -> None:
    headers = {TIMESTAMP_HEADER: "yesterday", SIGNATURE_HEADER: sign(SECRET, 0, BODY)}

    with pytest.raises(SignatureRejectedError, match="Unix time"):
        SignatureVerifier([SECRET]).verify(headers, BODY, NOW)


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_a_request_outside_the_replay_window_is_rejected(skew: timedelta) -> None:
    with pytest.raises(SignatureRejectedError, match="replay window"):
        SignatureVerifier([SECRET], replay_window_seconds=300).verify(_headers(at=NOW + skew), BODY, NOW)


def test_the_timestamp_is_covered_by_the_signature() -> None:
    headers = _headers()
    headers[TIMESTAMP_HEADER] = str(int(NOW.timestamp()) + 1)

    with pytest.raises(SignatureRejectedError, match="does not match"):
        SignatureVerifier([SECRET]).verify(headers, BODY, NOW)


def test_every_accepted_secret_is_compared_in_constant_time_without_stopping_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hmac

    from callback_api import signatures as callback_signatures

    compared: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(callback_signatures.hmac, "compare_digest", spy)

    SignatureVerifier([SECRET, b"second-secret", b"third-secret"]).verify(_headers(), BODY, NOW)

    assert len(compared) == 3, "the first secret matched, yet every accepted secret must be compared"


def test_only_a_signature_made_with_another_secret_is_a_mismatch_worth_re_reading_the_secret() -> None:
    verifier = SignatureVerifier([SECRET])
    stale = NOW - timedelta(hours=1)

    with pytest.raises(SignatureMismatchError):
        verifier.verify(_headers(secret=b"a-rotated-secret"), BODY, NOW)
    for headers in ({}, _headers(at=stale)):
        with pytest.raises(SignatureRejectedError) as rejected:
            verifier.verify(headers, BODY, NOW)
        assert not isinstance(rejected.value, SignatureMismatchError), "missing or stale: no secret would help"
