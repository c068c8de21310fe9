"""What every table adapter shares: its name, its DynamoDB client (the cached one unless given), and its clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_adapters.clients import dynamodb_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DynamoDbTable:
    """A table by name; ``client`` and ``clock`` are for tests (the cached client and the wall clock otherwise)."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._clock = clock

    @property
    def client(self) -> DynamoDBClient:
        return self._client if self._client is not None else dynamodb_client()
