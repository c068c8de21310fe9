"""Structured logging through Powertools, shared by every entry module."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools import Logger


@cache
def get_logger() -> Logger:
    # POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL (set in template.yaml) configure it.
    return Logger(service="migration-wait")
