"""DynamoDB adapter for the callback variant: which execution, through which callback, waits for which task.

One item per waited work (a replication task, a DMS Serverless replication), keyed by its ARN. Every write is
conditional, so two executions never share a task, a re-registration never replaces an item that is no longer this
execution's, and a completer never marks a callback it did not deliver to. Every write also accepts a replay of
itself (same execution, same callback), so a write applied whose answer was lost succeeds when botocore or a step
retries it. ``ExpiresAt`` is the table's TTL attribute: an item whose execution died is removed by DynamoDB, and an
expired item that DynamoDB has not removed yet may be taken over; so may the item of an execution that Lambda says no
longer runs (``take_over``).

``RunBoundAt`` is when this run began (DMS's time at the execution's look, before its start): a completer ignores a
finished state of the task whose run began before it (an earlier run's late event). ``PendingFinish`` is a finished
state a completer could not deliver because the callback was closed and no new one was registered in time: the
execution's next re-registration returns it, and the wait ends at once instead of a safety-net period later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from aws_adapters.dynamodb_table import DynamoDbTable
from aws_adapters.error_details import error_details, is_transient
from waiting.errors import (
    CorrelationLostError,
    CorrelationStoreError,
    CorrelationStoreUnavailableError,
    MigrationWaitError,
    TaskAlreadyAwaitedError,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# The item's key is the waited work's ARN, whatever its kind: a replication task's ARN, a DMS Serverless replication
# config's ARN (the two never collide: ":task:" and ":replication-config:"), or the task a third-party job migrates.
# The attribute keeps its first name, ReplicationTaskArn: it is the deployed table's key schema, which cannot change
# without replacing the table (and losing the claims of executions that are waiting).
KEY = "ReplicationTaskArn"
_CONDITION_FAILED = "ConditionalCheckFailedException"

# Round 0: the task is free, or its item expired, or this is a retry of our own write (same callback id).
_REGISTER_CONDITION = (
    "attribute_not_exists(ReplicationTaskArn) OR ExpiresAt < :now "
    "OR (ExecutionArn = :execution AND CallbackId = :callback)"
)
# A take-over: the item still holds the dead holder's claim, or this is a retry of our own write.
_TAKE_OVER_CONDITION = (
    "(ExecutionArn = :holder_execution AND CallbackId = :holder_callback) "
    "OR (ExecutionArn = :execution AND CallbackId = :callback) OR ExpiresAt < :now"
)
# Round n: the item still holds this execution's previous round, or this is a retry of our own write.
_REREGISTER_CONDITION = (
    "ExecutionArn = :execution AND (#round = :previous OR (#round = :round AND CallbackId = :callback))"
)


@dataclass(frozen=True)
class CallbackRegistration:
    """The correlation item: the execution waiting for a task and the callback that reaches it now."""

    replication_task_arn: str
    callback_id: str
    execution_arn: str
    round: int
    registered_at: datetime
    expires_at: datetime
    delivered_callback_id: str | None = None
    run_bound_at: datetime | None = None
    pending_finish: str | None = None

    @property
    def delivered(self) -> bool:
        """Whether a completer has already delivered a result to the current callback."""
        return self.delivered_callback_id == self.callback_id

    def describe(self) -> str:
        return (
            f"execution {self.execution_arn} (round {self.round}, registered {self.registered_at.isoformat()}, "
            f"expires {self.expires_at.isoformat()})"
        )


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _n(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _registration(item: Mapping[str, Any]) -> CallbackRegistration:
    try:
        delivered = item.get("DeliveredCallbackId", {}).get("S")
        run_bound = item.get("RunBoundAt", {}).get("S")
        return CallbackRegistration(
            replication_task_arn=item[KEY]["S"],
            callback_id=item["CallbackId"]["S"],
            execution_arn=item["ExecutionArn"]["S"],
            round=int(item["Round"]["N"]),
            registered_at=datetime.fromisoformat(item["RegisteredAt"]["S"]),
            expires_at=datetime.fromtimestamp(int(item["ExpiresAt"]["N"]), UTC),
            delivered_callback_id=delivered,
            run_bound_at=datetime.fromisoformat(run_bound) if run_bound else None,
            pending_finish=item.get("PendingFinish", {}).get("S"),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise CorrelationStoreError(f"malformed correlation item for {item.get(KEY, {}).get('S')!r}: {err!r}") from err


class CorrelationStore(DynamoDbTable):
    """The correlation table, behind the few conditional operations the callback variant needs."""

    def register(
        self,
        task_arn: str,
        callback_id: str,
        execution_arn: str,
        lifetime: timedelta,
        run_bound_at: datetime | None = None,
    ) -> CallbackRegistration:
        """Claim the task for this execution (round 0). Fails, overwriting nothing, if another execution holds it.

        The error carries the holder's registration (``TaskAlreadyAwaitedError.holder``), so the caller can ask
        whether that execution still runs and ``take_over`` if it does not.
        """
        return self._put_claim(
            self._claim(task_arn, callback_id, execution_arn, lifetime, run_bound_at), _REGISTER_CONDITION, {}
        )

    def take_over(
        self,
        task_arn: str,
        holder: CallbackRegistration,
        *,
        callback_id: str,
        execution_arn: str,
        lifetime: timedelta,
        run_bound_at: datetime | None = None,
    ) -> CallbackRegistration:
        """Replace a claim whose execution no longer runs, only if the item still holds exactly that claim."""
        return self._put_claim(
            self._claim(task_arn, callback_id, execution_arn, lifetime, run_bound_at),
            _TAKE_OVER_CONDITION,
            {":holder_execution": _s(holder.execution_arn), ":holder_callback": _s(holder.callback_id)},
        )

    def _claim(
        self, task_arn: str, callback_id: str, execution_arn: str, lifetime: timedelta, run_bound_at: datetime | None
    ) -> CallbackRegistration:
        now = self._clock()
        return CallbackRegistration(
            task_arn, callback_id, execution_arn, 0, now, now + lifetime, run_bound_at=run_bound_at
        )

    def _put_claim(
        self, registration: CallbackRegistration, condition: str, values: dict[str, AttributeValueTypeDef]
    ) -> CallbackRegistration:
        task_arn, callback_id, execution_arn = (
            registration.replication_task_arn,
            registration.callback_id,
            registration.execution_arn,
        )
        now, run_bound_at, action = registration.registered_at, registration.run_bound_at, "claim"
        item: dict[str, AttributeValueTypeDef] = {
            KEY: _s(task_arn),
            "CallbackId": _s(callback_id),
            "ExecutionArn": _s(execution_arn),
            "Round": _n(0),
            "RegisteredAt": _s(now.isoformat()),
            "ExpiresAt": _n(_epoch(registration.expires_at)),
        }
        if run_bound_at is not None:
            item["RunBoundAt"] = _s(run_bound_at.isoformat())
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":now": _n(_epoch(now)),
                    ":execution": _s(execution_arn),
                    ":callback": _s(callback_id),
                    **values,
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as err:
            if error_details(err).code == _CONDITION_FAILED:
                old = _old_item(err)
                holder = _registration(old) if old else None
                raise TaskAlreadyAwaitedError(
                    f"replication task {task_arn} is already awaited by "
                    f"{holder.describe() if holder else 'another execution'}; this execution did not start it "
                    "and changed nothing",
                    holder=holder,
                ) from err
            raise self._translate(err, action, task_arn) from err
        except BotoCoreError as err:
            raise self._translate(err, action, task_arn) from err
        return registration

    def reregister(
        self, task_arn: str, callback_id: str, execution_arn: str, round_number: int, lifetime: timedelta
    ) -> CallbackRegistration:
        """Point the task at this execution's new callback, only if the item still holds its previous round.

        The registration returned carries the item's ``pending_finish``, if a completer left one for this round.
        """
        now = self._clock()
        registration = CallbackRegistration(task_arn, callback_id, execution_arn, round_number, now, now + lifetime)
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key={KEY: _s(task_arn)},
                UpdateExpression=(
                    "SET CallbackId = :callback, #round = :round, RegisteredAt = :now_text, ExpiresAt = :expires "
                    "REMOVE DeliveredCallbackId, DeliveredAt"
                ),
                ConditionExpression=_REREGISTER_CONDITION,
                ExpressionAttributeNames={"#round": "Round"},
                ExpressionAttributeValues={
                    ":callback": _s(callback_id),
                    ":round": _n(round_number),
                    ":previous": _n(round_number - 1),
                    ":execution": _s(execution_arn),
                    ":now_text": _s(now.isoformat()),
                    ":expires": _n(_epoch(registration.expires_at)),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as err:
            if error_details(err).code == _CONDITION_FAILED:
                old = _old_item(err)
                found = _registration(old).describe() if old else "no item at all"
                raise CorrelationLostError(
                    f"cannot re-register round {round_number} for {task_arn}: the correlation now holds {found}, "
                    f"not round {round_number - 1} of execution {execution_arn}"
                ) from err
            raise self._translate(err, "re-register a callback for", task_arn) from err
        except BotoCoreError as err:
            raise self._translate(err, "re-register a callback for", task_arn) from err
        attributes = response.get("Attributes")
        return _registration(attributes) if attributes else registration

    def find(self, task_arn: str) -> CallbackRegistration | None:
        """The task's current registration (strongly consistent), or None if no execution waits for it."""
        try:
            response = self.client.get_item(TableName=self.table_name, Key={KEY: _s(task_arn)}, ConsistentRead=True)
        except (ClientError, BotoCoreError) as err:
            raise self._translate(err, "look up the callback for", task_arn) from err
        item = response.get("Item")
        return _registration(item) if item else None

    def mark_delivered(self, task_arn: str, callback_id: str) -> bool:
        """Record that ``callback_id`` got its result; False if the item has moved on to another callback."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={KEY: _s(task_arn)},
                UpdateExpression="SET DeliveredCallbackId = :callback, DeliveredAt = :now",
                ConditionExpression="CallbackId = :callback",
                ExpressionAttributeValues={":callback": _s(callback_id), ":now": _s(self._clock().isoformat())},
            )
        except ClientError as err:
            if error_details(err).code == _CONDITION_FAILED:
                return False
            raise self._translate(err, "mark the delivery for", task_arn) from err
        except BotoCoreError as err:
            raise self._translate(err, "mark the delivery for", task_arn) from err
        return True

    def leave_pending(self, task_arn: str, callback_id: str, finish_record: str) -> bool:
        """Leave a finished state on the item for the next round of the execution whose callback ``callback_id`` was.

        Only while the item still points at that (closed, undelivered) callback; False if it has moved on, so the
        caller re-reads it and delivers to the new callback instead. A replay of the same write succeeds.
        """
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={KEY: _s(task_arn)},
                UpdateExpression="SET PendingFinish = :record, PendingAt = :now",
                ConditionExpression=(
                    "CallbackId = :callback AND (attribute_not_exists(DeliveredCallbackId) "
                    "OR DeliveredCallbackId <> :callback)"
                ),
                ExpressionAttributeValues={
                    ":callback": _s(callback_id),
                    ":record": _s(finish_record),
                    ":now": _s(self._clock().isoformat()),
                },
            )
        except ClientError as err:
            if error_details(err).code == _CONDITION_FAILED:
                return False
            raise self._translate(err, "leave the finished state for", task_arn) from err
        except BotoCoreError as err:
            raise self._translate(err, "leave the finished state for", task_arn) from err
        return True

    def release(self, task_arn: str, execution_arn: str) -> bool:
        """Remove the task's item if it is still this execution's; False if it is not (nothing is touched)."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key={KEY: _s(task_arn)},
                ConditionExpression="ExecutionArn = :execution",
                ExpressionAttributeValues={":execution": _s(execution_arn)},
            )
        except ClientError as err:
            if error_details(err).code == _CONDITION_FAILED:
                return False
            raise self._translate(err, "release the callback for", task_arn) from err
        except BotoCoreError as err:
            raise self._translate(err, "release the callback for", task_arn) from err
        return True

    def _translate(self, err: ClientError | BotoCoreError, action: str, task_arn: str) -> MigrationWaitError:
        where = f"DynamoDB table {self.table_name!r} (CALLBACK_TABLE_NAME)"
        if isinstance(err, BotoCoreError):
            return CorrelationStoreUnavailableError(f"could not {action} {task_arn}: {where} unreachable: {err}")
        code, message, _ = error_details(err)
        if is_transient(err):
            return CorrelationStoreUnavailableError(f"could not {action} {task_arn}: {where}: {code}: {message}")
        return CorrelationStoreError(f"could not {action} {task_arn}: {where} rejected it: {code}: {message}")


def _old_item(err: ClientError) -> Mapping[str, Any] | None:
    """The item as it was when a condition failed (ReturnValuesOnConditionCheckFailure=ALL_OLD)."""
    item: Any = dict(err.response).get("Item")
    return item if isinstance(item, Mapping) and item else None
