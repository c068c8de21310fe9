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


def test_fresh_sessions_share_the_listing_of_botocore_services_and_list_the_same_ones() -> None:
    stock_listing = botocore.loaders.Loader.list_available_services
    stock = boto3.Session().get_available_services()
    walks: list[str] = []

    def counted(self: botocore.loaders.Loader, type_name: str) -> list[str]:
        walks.append(type_name)
        return stock_listing(self, type_name)

    botocore.loaders.Loader.list_available_services = counted  # type: ignore[method-assign]
    try:
        with model_files_parsed_once():
            listings = [boto3.Session().get_available_services() for _ in range(3)]
            _service_description(boto3.Session())
            _service_description(boto3.Session())
    finally:
        botocore.loaders.Loader.list_available_services = stock_listing  # type: ignore[method-assign]

    assert listings == [stock] * 3, "a session listed other services through the shared listing"
    # At most once per process (an earlier test may have filled the listing already); each session walked it before.
    assert walks.count("service-2") <= 1, f"new sessions walked botocore's data directory again: {walks}"
    assert botocore.loaders.Loader.list_available_services is stock_listing
