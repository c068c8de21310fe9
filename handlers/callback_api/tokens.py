"""Callback tokens: the unguessable, single-purpose part of a third party's callback URL, and where they lead.

The URL handed to the third party is ``<CALLBACK_API_URL>/callbacks/<token>``; it never holds the callback id. The
token is 256 random bits (``secrets.token_urlsafe(32)``), made in the submitter and never checkpointed. The table
keeps only its SHA-256 (a leaked table or log line cannot be replayed as a URL) with the task, the execution and
the job it was issued for. The item also keeps the first answer CallbackApiFunction gave for it, so a repeated
callback gets the same answer and completes nothing twice. ``ExpiresAt`` is the table's TTL attribute.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from aws_adapters.dynamodb_table import DynamoDbTable
from aws_adapters.error_details import error_details, is_transient
from waiting.errors import (
    CallbackTokenStoreError,
    CallbackTokenStoreUnavailableError,
    MigrationWaitError,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

KEY = "TokenHash"
TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters of [A-Za-z0-9_-]; anything else is not one of ours and is not looked up.
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_CONDITION_FAILED = "ConditionalCheckFailedException"


def new_callback_token() -> str:
    """A fresh token. Call it only inside a submitter: it is random, and must never reach a checkpoint."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_well_formed_token(token: str) -> bool:
    return bool(_TOKEN_PATTERN.match(token))


def hash_token(token: str) -> str:
    """What the table stores and looks up: the token itself is never written anywhere but the third party's URL."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    """The HTTP answer CallbackApiFunction gave the first time the token was used."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class CallbackToken:
    """A token's item: what it was issued for, until when, and the answer it got, if it was used."""

    token_hash: str
    replication_task_arn: str
    execution_arn: str
    job_id: str
    issued_at: datetime
    expires_at: datetime
    answer: StoredAnswer | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def _answer(item: Mapping[str, Any]) -> StoredAnswer | None:
    if "AnswerStatus" not in item:
        return None
    body = json.loads(item["AnswerBody"]["S"])
    return StoredAnswer(status=int(item["AnswerStatus"]["N"]), body=body if isinstance(body, dict) else {})


def _token(item: Mapping[str, Any]) -> CallbackToken:
    try:
        return CallbackToken(
            token_hash=item[KEY]["S"],
            replication_task_arn=item["ReplicationTaskArn"]["S"],
            execution_arn=item["ExecutionArn"]["S"],
            job_id=item["JobId"]["S"],
            issued_at=datetime.fromisoformat(item["IssuedAt"]["S"]),
            expires_at=datetime.fromtimestamp(int(item["ExpiresAt"]["N"]), UTC),
            answer=_answer(item),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise CallbackTokenStoreError(f"malformed callback-token item: {err!r}") from err


class CallbackTokenStore(DynamoDbTable):
    """The token table: issue a token's item, find it, and record the first answer (every write conditional)."""

    def issue(
        self, token_hash: str, task_arn: str, execution_arn: str, job_id: str, lifetime: timedelta
    ) -> CallbackToken:
        """Record what a new token leads to. A hash that already leads elsewhere is never overwritten.

        The condition also accepts the item this very request wrote: when a PutItem is applied but its answer is
        lost, botocore replays it, and the replay must succeed instead of colliding with itself. Same hash, task,
        execution and job, and no answer yet: nothing but our own write matches (a replay never erases an answer).
        """
        now = self._clock()
        token = CallbackToken(token_hash, task_arn, execution_arn, job_id, now, now + lifetime)
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    KEY: _s(token_hash),
                    "ReplicationTaskArn": _s(task_arn),
                    "ExecutionArn": _s(execution_arn),
                    "JobId": _s(job_id),
                    "IssuedAt": _s(now.isoformat()),
                    "ExpiresAt": _n(int(token.expires_at.timestamp())),
                },
                ConditionExpression=(
                    "attribute_not_exists(TokenHash) OR (ReplicationTaskArn = :task AND ExecutionArn = :execution "
                    "AND JobId = :job AND attribute_not_exists(AnswerStatus))"
                ),
                ExpressionAttributeValues={":task": _s(task_arn), ":execution": _s(execution_arn), ":job": _s(job_id)},
            )
        except ClientError as err:
            if error_details(err).code == _CONDITION_FAILED:
                # 256 random bits do not collide; this is a bug or an attack, and nothing was overwritten.
                raise CallbackTokenStoreError("a callback token with this hash already exists") from err
            raise self._translate(err, "issue a callback token") from err
        except BotoCoreError as err:
            raise self._translate(err, "issue a callback token") from err
        return token

    def find(self, token_hash: str) -> CallbackToken | None:
        """The token's item (strongly consistent), or None if there is none."""
        try:
            response = self.client.get_item(TableName=self.table_name, Key={KEY: _s(token_hash)}, ConsistentRead=True)
        except (ClientError, BotoCoreError) as err:
            raise self._translate(err, "look up a callback token") from err
        item = response.get("Item")
        return _token(item) if item else None

    def record_answer(self, token_hash: str, answer: StoredAnswer) -> StoredAnswer:
        """Keep the token's first answer; if another request answered first, return that one instead."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={KEY: _s(token_hash)},
                UpdateExpression="SET AnswerStatus = :status, AnswerBody = :body, AnsweredAt = :now",
                ConditionExpression="attribute_exists(TokenHash) AND attribute_not_exists(AnswerStatus)",
                ExpressionAttributeValues={
                    ":status": _n(answer.status),
                    ":body": _s(json.dumps(answer.body, separators=(",", ":"))),
                    ":now": _s(self._clock().isoformat()),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as err:
            if error_details(err).code == _CONDITION_FAILED:
                old: Any = dict(err.response).get("Item")
                first = _answer(old) if isinstance(old, Mapping) else None
                # No item any more (TTL removed it meanwhile): nothing to keep, the answer stands as computed.
                return first if first is not None else answer
            raise self._translate(err, "record a callback's answer") from err
        except BotoCoreError as err:
            raise self._translate(err, "record a callback's answer") from err
        return answer

    def _translate(self, err: ClientError | BotoCoreError, action: str) -> MigrationWaitError:
        where = f"DynamoDB table {self.table_name!r} (CALLBACK_TOKEN_TABLE_NAME)"
        if isinstance(err, BotoCoreError):
            return CallbackTokenStoreUnavailableError(f"could not {action}: {where} unreachable: {err}")
        code, message, _ = error_details(err)
        if is_transient(err):
            return CallbackTokenStoreUnavailableError(f"could not {action}: {where}: {code}: {message}")
        return CallbackTokenStoreError(f"could not {action}: {where} rejected it: {code}: {message}")
