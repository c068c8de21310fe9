"""The token table (moto): issuing survives a lost answer, and never overwrites a token that leads elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from moto import mock_aws

from aws_adapters.clients import dynamodb_client, reset_clients
from callback_api.tokens import CallbackTokenStore, StoredAnswer, hash_token, new_callback_token
from local_aws.third_party_environment import create_token_table
from tests.aws_faults import LostAnswers
from waiting.errors import CallbackTokenStoreError

TABLE = "migration-wait-callback-tokens"
TASK = "arn:aws:dms:us-east-1:123456789012:task:ORDERS"
EXECUTION = "arn:aws:lambda:us-east-1:123456789012:function:ThirdPartyJobFunction:live/durable-execution/e/1"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[CallbackTokenStore]:
    with mock_aws():
        reset_clients()
        create_token_table(TABLE)
        yield CallbackTokenStore(TABLE, clock=lambda: NOW)
    reset_clients()


def test_a_put_applied_whose_answer_was_lost_is_replayed_by_botocore_and_succeeds(store: CallbackTokenStore) -> None:
    token_hash = hash_token(new_callback_token())

    with LostAnswers(dynamodb_client(), "PutItem") as lost:
        issued = store.issue(token_hash, TASK, EXECUTION, "job-1", timedelta(days=8))

    assert (lost.lost, lost.seen) == (1, 2), "expected an applied PutItem whose answer was lost, then a replay"
    assert store.find(token_hash) == issued


def test_a_hash_issued_for_another_execution_is_refused_and_left_as_it_was(store: CallbackTokenStore) -> None:
    token_hash = hash_token(new_callback_token())
    first = store.issue(token_hash, TASK, EXECUTION, "job-1", timedelta(days=8))

    with pytest.raises(CallbackTokenStoreError, match="already exists"):
        store.issue(token_hash, TASK, f"{EXECUTION}-other", "job-1", timedelta(days=8))

    assert store.find(token_hash) == first


def test_a_hash_issued_for_another_job_is_refused(store: CallbackTokenStore) -> None:
    token_hash = hash_token(new_callback_token())
    store.issue(token_hash, TASK, EXECUTION, "job-1", timedelta(days=8))

    with pytest.raises(CallbackTokenStoreError, match="already exists"):
        store.issue(token_hash, TASK, EXECUTION, "job-2", timedelta(days=8))


def test_issuing_again_never_erases_the_answer_a_used_token_got(store: CallbackTokenStore) -> None:
    token_hash = hash_token(new_callback_token())
    store.issue(token_hash, TASK, EXECUTION, "job-1", timedelta(days=8))
    answer = store.record_answer(token_hash, StoredAnswer(200, {"Outcome": "completed"}))

    with pytest.raises(CallbackTokenStoreError, match="already exists"):
        store.issue(token_hash, TASK, EXECUTION, "job-1", timedelta(days=8))

    found = store.find(token_hash)
    assert found is not None
    assert found.answer == answer
