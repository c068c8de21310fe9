"""Signed callbacks from third parties: HMAC-SHA256 over the timestamp and the body, checked in constant time.

A request carries ``X-Callback-Timestamp`` (Unix seconds) and ``X-Callback-Signature: v1=<hex>``, the HMAC of
``"<timestamp>.<body>"`` under the shared secret. The timestamp bounds replays to a window; the single-use token in
the URL makes a replay inside the window answer exactly as the first request did, completing nothing twice.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

TIMESTAMP_HEADER = "x-callback-timestamp"
SIGNATURE_HEADER = "x-callback-signature"
SIGNATURE_VERSION = "v1"
DEFAULT_REPLAY_WINDOW_SECONDS = 300


class SignatureRejectedError(Exception):
    """The request does not prove it comes from the third party; the message says why (never the secret)."""


class SignatureMismatchError(SignatureRejectedError):
    """A well-formed, fresh signature made with none of the accepted secrets (maybe one not read here yet)."""


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def signed_headers(secret: bytes, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


@dataclass(frozen=True)
class SignatureVerifier:
    """Checks a callback's signature against the current secret (and, during a rotation, the previous one)."""

    secrets: Sequence[bytes]
    replay_window_seconds: int = DEFAULT_REPLAY_WINDOW_SECONDS

    def verify(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        """Return if the request is authentic and fresh; raise SignatureRejectedError otherwise."""
        lowered = {name.lower(): value for name, value in headers.items()}
        raw_timestamp = lowered.get(TIMESTAMP_HEADER)
        raw_signature = lowered.get(SIGNATURE_HEADER)
        if not raw_timestamp or not raw_signature:
            raise SignatureRejectedError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
        try:
            timestamp = int(raw_timestamp)
        except ValueError:
            raise SignatureRejectedError(f"{TIMESTAMP_HEADER} is not a Unix time in seconds") from None
        if abs(now.timestamp() - timestamp) > self.replay_window_seconds:
            raise SignatureRejectedError(
                f"{TIMESTAMP_HEADER} is outside the {self.replay_window_seconds} s replay window"
            )
        presented = raw_signature.strip().encode()
        # Compare against every accepted secret without stopping early, so timing says nothing about which matched.
        matches = [hmac.compare_digest(presented, sign(secret, timestamp, body).encode()) for secret in self.secrets]
        if not any(matches):
            raise SignatureMismatchError("signature does not match the body")
