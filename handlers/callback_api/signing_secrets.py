"""The signing secret shared with the third party, read from AWS Secrets Manager and cached for a bounded time.

The secret's ``SecretString`` is the HMAC key. It is cached for ``SECRET_CACHE_SECONDS`` (default 300 s), so a
rotation reaches every warm Lambda within that time without a Secrets Manager call per request. During a rotation
(``AWSPREVIOUS`` younger than ``SECRET_ROTATION_OVERLAP_SECONDS``, measured from the current version's creation)
the previous value is accepted too, while the third party switches over; after that only the current one is.

A rotation must not cost the third party 401s while warm functions still hold the old secret: on a signature that
does not match, CallbackApiFunction calls ``refresh``, which re-reads the secret at once, at most once per
``SECRET_FORCED_REFRESH_SECONDS`` (default 30 s) per function instance, so a flood of bad signatures costs Secrets
Manager one read per window, not one per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from aws_adapters.clients import secretsmanager_client
from aws_adapters.error_details import error_details, is_transient
from waiting.errors import MigrationWaitError, SigningSecretError, SigningSecretUnavailableError
from waiting.settings import DEFAULT_SECRET_FORCED_REFRESH_SECONDS

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
_NOT_FOUND = "ResourceNotFoundException"


class SecretsManagerSigningSecrets:
    """The accepted signing secrets (current, and previous during a rotation), cached for ``cache_seconds``."""

    def __init__(
        self,
        secret_id: str,
        *,
        cache_seconds: float,
        rotation_overlap: timedelta,
        forced_refresh_seconds: float = DEFAULT_SECRET_FORCED_REFRESH_SECONDS,
        client: SecretsManagerClient | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.secret_id = secret_id
        self.cache_seconds = cache_seconds
        self.rotation_overlap = rotation_overlap
        self.forced_refresh_seconds = forced_refresh_seconds
        self._client = client
        self._monotonic = monotonic
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[bytes, ...] = ()
        self._fetched_at: float | None = None
        self._forced_at: float | None = None

    @property
    def client(self) -> SecretsManagerClient:
        return self._client if self._client is not None else secretsmanager_client()

    def get(self) -> Sequence[bytes]:
        """The secrets a signature may be made with; read from Secrets Manager when the cache has expired."""
        with self._lock:
            now = self._monotonic()
            if self._fetched_at is None or now - self._fetched_at >= self.cache_seconds:
                self._store(self._fetch(), now)
            return self._cached

    def refresh(self) -> Sequence[bytes]:
        """Re-read the secrets now, unless a forced read happened less than ``forced_refresh_seconds`` ago.

        Returns the newest secrets either way (a concurrent request may have just refreshed them). A failed read
        counts as this window's read too, so an outage is not hammered either.
        """
        with self._lock:
            now = self._monotonic()
            limited = self._forced_at is not None and now - self._forced_at < self.forced_refresh_seconds
            if limited and self._cached:
                return self._cached
            self._forced_at = now
            self._store(self._fetch(), now)
            return self._cached

    def _store(self, secrets: tuple[bytes, ...], now: float) -> None:
        self._cached = secrets
        self._fetched_at = now

    def _fetch(self) -> tuple[bytes, ...]:
        current, created = self._read(CURRENT)
        if current is None:
            raise SigningSecretError(f"secret {self.secret_id!r} (CALLBACK_SECRET_ID) has no {CURRENT} value")
        if created is None or self._clock() - created >= self.rotation_overlap:
            return (current,)
        previous, _ = self._read(PREVIOUS)
        return (current, previous) if previous is not None else (current,)

    def _read(self, stage: str) -> tuple[bytes | None, datetime | None]:
        try:
            response = self.client.get_secret_value(SecretId=self.secret_id, VersionStage=stage)
        except ClientError as err:
            if error_details(err).code == _NOT_FOUND and stage == PREVIOUS:
                return None, None  # never rotated
            raise self._translate(err) from err
        except BotoCoreError as err:
            raise SigningSecretUnavailableError(
                f"Secrets Manager unreachable reading the signing secret: {err}"
            ) from err
        value = response.get("SecretString")
        if not value:
            raise SigningSecretError(f"secret {self.secret_id!r} ({stage}) holds no SecretString, or an empty one")
        created = response.get("CreatedDate")
        return value.encode(), created if isinstance(created, datetime) else None

    def _translate(self, err: ClientError) -> MigrationWaitError:
        code, message, _ = error_details(err)
        if is_transient(err):
            return SigningSecretUnavailableError(f"Secrets Manager: {code}: {message}")
        return SigningSecretError(f"cannot read secret {self.secret_id!r} (CALLBACK_SECRET_ID): {code}: {message}")


@cache
def signing_secrets(
    secret_id: str,
    cache_seconds: float,
    rotation_overlap_seconds: int,
    forced_refresh_seconds: float = DEFAULT_SECRET_FORCED_REFRESH_SECONDS,
) -> SecretsManagerSigningSecrets:
    """One cached source per secret and settings, living as long as the Lambda environment (warm invocations)."""
    return SecretsManagerSigningSecrets(
        secret_id,
        cache_seconds=cache_seconds,
        rotation_overlap=timedelta(seconds=rotation_overlap_seconds),
        forced_refresh_seconds=forced_refresh_seconds,
    )
