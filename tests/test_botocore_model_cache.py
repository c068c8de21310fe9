"""Local environments parse each botocore model file once per process, and every session still gets its models."""

from __future__ import annotations

import boto3
import botocore.loaders

from local_aws.environment import model_files_parsed_once


def _service_description(session: boto3.Session) -> object:
    return session.client("dms", region_name="us-east-1").meta.service_model._service_description


def test_fresh_sessions_share_the_parsed_model_while_the_cache_is_active_and_not_after() -> None:
    stock_load_file = botocore.loaders.JSONFileLoader.load_file

    with model_files_parsed_once():
        first = _service_description(boto3.Session())
        second = _service_description(boto3.Session())

    after = _service_description(boto3.Session())
    assert first is second, "a new botocore session parsed the DMS model again inside model_files_parsed_once"
    assert after == first, "the cached model differs from the one botocore parses"
    assert after is not first, "the stock loader should parse its own copy after the block"
    assert botocore.loaders.JSONFileLoader.load_file is stock_load_file, "the stock loader was not put back"
