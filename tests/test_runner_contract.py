"""The local runner's private clock, which the DMS simulation runs on, still behaves as the harness assumes."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, durable_execution
from aws_durable_execution_sdk_python.config import Duration

from local_aws.durable_runner import local_durable_runner

SIX_HOURS = 6 * 3600


@durable_execution
def _waits_six_hours(event: Any, context: DurableContext) -> str:
    context.wait(Duration.from_seconds(SIX_HOURS), name="six-hours")
    return "done"


def test_the_virtual_clock_jumps_by_the_skipped_wait_and_nothing_real_waits() -> None:
    with local_durable_runner(_waits_six_hours) as local:
        before = local.clock()
        wall_before = time.monotonic()

        measured = local.run({})

        assert measured.status == "SUCCEEDED", measured.error
        skipped = local.clock() - before
        assert skipped >= timedelta(seconds=SIX_HOURS), (
            f"the runner clock moved {skipped} across a 6 h wait: the testing SDK no longer skips time through "
            "DurableFunctionTestRunner._clock, and the DMS simulation would stop advancing"
        )
        assert time.monotonic() - wall_before < 60, "a skipped wait took real time"
