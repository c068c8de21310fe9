"""The correlation table adapter against moto's DynamoDB: every write is conditional, nothing is overwritten."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from aws_adapters.correlation_store import CorrelationStore
from local_aws.callback_environment import create_correlation_table
from waiting.errors import (
    CorrelationLostError,
    CorrelationStoreError,
    CorrelationStoreUnavailableError,
    TaskAlreadyAwaitedError,
)

TABLE = "migration-wait-callbacks"
TASK = "arn:aws:dms:us-east-1:123456789012:task:ORDERS"
FIRST = "execution-1"
SECOND = "execution-2"
LIFETIME = timedelta(hours=1)


class SteppingClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def store(clock: SteppingClock) -> Iterator[CorrelationStore]:
    with mock_aws():
        create_correlation_table(TABLE)
        yield CorrelationStore(TABLE, client=boto3.client("dynamodb", region_name="us-east-1"), clock=clock)


def test_a_registration_is_stored_with_its_execution_round_and_expiry(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)

    found = store.find(TASK)

    assert found is not None
    assert (found.callback_id, found.execution_arn, found.round) == ("cb-0", FIRST, 0)
    assert found.expires_at - found.registered_at == LIFETIME
    assert not found.delivered


def test_a_second_execution_is_refused_and_the_first_registration_is_untouched(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)

    with pytest.raises(TaskAlreadyAwaitedError) as raised:
        store.register(TASK, "cb-other", SECOND, LIFETIME)

    assert FIRST in str(raised.value), "the error should name the execution that holds the task"
    found = store.find(TASK)
    assert found is not None
    assert (found.callback_id, found.execution_arn) == ("cb-0", FIRST)


def test_a_retried_registration_of_the_same_callback_succeeds(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)

    store.register(TASK, "cb-0", FIRST, LIFETIME)

    found = store.find(TASK)
    assert found is not None
    assert found.callback_id == "cb-0"


def test_an_expired_item_that_dynamodb_has_not_removed_yet_can_be_taken_over(
    store: CorrelationStore, clock: SteppingClock
) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)
    clock.now += LIFETIME + timedelta(seconds=1)

    store.register(TASK, "cb-new", SECOND, LIFETIME)

    found = store.find(TASK)
    assert found is not None
    assert (found.callback_id, found.execution_arn) == ("cb-new", SECOND)


def test_re_registration_replaces_the_previous_round_and_clears_the_delivery_mark(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)
    store.mark_delivered(TASK, "cb-0")

    store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)

    found = store.find(TASK)
    assert found is not None
    assert (found.callback_id, found.round, found.delivered_callback_id) == ("cb-1", 1, None)


def test_a_retried_re_registration_of_the_same_round_succeeds(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)
    store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)

    store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)

    found = store.find(TASK)
    assert found is not None
    assert (found.callback_id, found.round) == ("cb-1", 1)


def test_re_registration_never_replaces_another_executions_item(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", SECOND, LIFETIME)

    with pytest.raises(CorrelationLostError) as raised:
        store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)

    assert SECOND in str(raised.value)
    found = store.find(TASK)
    assert found is not None
    assert (found.callback_id, found.execution_arn) == ("cb-0", SECOND)


def test_re_registration_skipping_a_round_is_refused(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)

    with pytest.raises(CorrelationLostError):
        store.reregister(TASK, "cb-2", FIRST, 2, LIFETIME)


def test_re_registration_after_the_item_vanished_is_refused(store: CorrelationStore) -> None:
    with pytest.raises(CorrelationLostError, match="no item at all"):
        store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)


def test_a_delivery_is_marked_only_on_the_callback_it_was_made_to(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)
    store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)

    assert not store.mark_delivered(TASK, "cb-0"), "a stale callback must not be marked on the new round"
    assert store.mark_delivered(TASK, "cb-1")
    found = store.find(TASK)
    assert found is not None
    assert found.delivered


def test_release_removes_only_this_executions_item(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)

    assert not store.release(TASK, SECOND)
    assert store.find(TASK) is not None
    assert store.release(TASK, FIRST)
    assert store.find(TASK) is None


def test_a_missing_table_is_a_terminal_error_naming_the_setting() -> None:
    with mock_aws():
        store = CorrelationStore("no-such-table", client=boto3.client("dynamodb", region_name="us-east-1"))

        with pytest.raises(CorrelationStoreError) as raised:
            store.find(TASK)

    assert "CALLBACK_TABLE_NAME" in str(raised.value)
    assert "no-such-table" in str(raised.value)


@pytest.mark.parametrize(
    ("code", "status"),
    [("ProvisionedThroughputExceededException", 400), ("ThrottlingException", 400), ("InternalServerError", 500)],
)
def test_throttling_and_server_errors_are_retryable(code: str, status: int) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    store = CorrelationStore(TABLE, client=client)
    with Stubber(client) as stubber:
        stubber.add_client_error("get_item", service_error_code=code, http_status_code=status)

        with pytest.raises(CorrelationStoreUnavailableError, match=code):
            store.find(TASK)


# --- run binding, take-over of a dead holder, a finish left for the next round ----------------------------------

BOUND = datetime(2026, 11, 26, 11, 59, tzinfo=UTC)


def test_the_claim_records_when_this_run_began(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME, BOUND)

    found = store.find(TASK)

    assert found is not None
    assert found.run_bound_at == BOUND


def test_a_take_over_replaces_exactly_the_holder_it_was_told_about(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)
    with pytest.raises(TaskAlreadyAwaitedError) as refused:
        store.register(TASK, "cb-new", SECOND, LIFETIME, BOUND)
    holder = refused.value.holder
    assert holder is not None, "the refusal names the holder"
    assert holder.execution_arn == FIRST

    store.take_over(TASK, holder, callback_id="cb-new", execution_arn=SECOND, lifetime=LIFETIME, run_bound_at=BOUND)

    found = store.find(TASK)
    assert found is not None
    assert (found.execution_arn, found.callback_id, found.run_bound_at) == (SECOND, "cb-new", BOUND)


def test_a_take_over_of_a_holder_that_already_moved_on_is_refused_and_changes_nothing(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)
    with pytest.raises(TaskAlreadyAwaitedError) as refused:
        store.register(TASK, "cb-new", SECOND, LIFETIME)
    holder = refused.value.holder
    assert holder is not None
    store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)  # the holder was alive after all: it moved to round 1

    with pytest.raises(TaskAlreadyAwaitedError):
        store.take_over(TASK, holder, callback_id="cb-new", execution_arn=SECOND, lifetime=LIFETIME)

    found = store.find(TASK)
    assert found is not None
    assert (found.execution_arn, found.callback_id) == (FIRST, "cb-1")


def test_a_replayed_take_over_succeeds(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)
    with pytest.raises(TaskAlreadyAwaitedError) as refused:
        store.register(TASK, "cb-new", SECOND, LIFETIME)
    holder = refused.value.holder
    assert holder is not None
    store.take_over(TASK, holder, callback_id="cb-new", execution_arn=SECOND, lifetime=LIFETIME)

    store.take_over(TASK, holder, callback_id="cb-new", execution_arn=SECOND, lifetime=LIFETIME)

    found = store.find(TASK)
    assert found is not None
    assert found.execution_arn == SECOND


def test_a_finish_left_on_the_closed_callback_comes_back_with_the_next_re_registration(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)

    assert store.leave_pending(TASK, "cb-0", '{"Status":"stopped"}')
    registration = store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)

    assert registration.pending_finish == '{"Status":"stopped"}'
    assert registration.callback_id == "cb-1"


def test_a_replayed_re_registration_still_returns_the_finish(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)
    store.leave_pending(TASK, "cb-0", '{"Status":"stopped"}')
    store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)

    replayed = store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)

    assert replayed.pending_finish == '{"Status":"stopped"}', "a lost answer must not lose the finish"


def test_a_finish_is_not_left_once_the_item_moved_to_another_callback(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)
    store.reregister(TASK, "cb-1", FIRST, 1, LIFETIME)

    assert not store.leave_pending(TASK, "cb-0", '{"Status":"stopped"}')
    found = store.find(TASK)
    assert found is not None
    assert found.pending_finish is None


def test_a_finish_is_not_left_on_a_callback_already_delivered_to(store: CorrelationStore) -> None:
    store.register(TASK, "cb-0", FIRST, LIFETIME)
    store.mark_delivered(TASK, "cb-0")

    assert not store.leave_pending(TASK, "cb-0", '{"Status":"stopped"}')
