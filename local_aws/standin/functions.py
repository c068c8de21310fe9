"""The stack the stand-in plays: its functions (as template.yaml declares them) and its CloudFormation outputs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
DEFAULT_STACK_NAME = "migration-wait"
ALIAS = "live"
CALLBACK_TABLE_NAME = "migration-wait-callbacks"
# template.yaml's ExecutionTimeoutByMaxWait for the default MaxWaitSeconds (7 days) plus its backstop, and
# RetentionPeriodInDays (tests/test_standin.py holds these against the template).
EXECUTION_TIMEOUT_SECONDS = 8 * 86_400
RETENTION_DAYS = 14


@dataclass(frozen=True)
class StandInFunction:
    """One function of the stack: its template resource, the handler it runs, and whether it is durable."""

    resource: str
    handler: str  # "module:attribute", imported when first invoked
    durable: bool
    alias_output: str | None
    name_output: str | None = None

    def physical_name(self, stack: str) -> str:
        return f"{stack}-{self.resource}"

    def alias_arn(self, stack: str) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.physical_name(stack)}:{ALIAS}"

    def log_group(self, stack: str) -> str:
        return f"/aws/lambda/{self.physical_name(stack)}"

    def load(self) -> Callable[..., Any]:
        module, _, attribute = self.handler.partition(":")
        handler: Callable[..., Any] = getattr(importlib.import_module(module), attribute)
        return handler


FUNCTIONS: tuple[StandInFunction, ...] = (
    StandInFunction("PollingFunction", "polling_handler:handler", durable=True, alias_output="PollingFunctionAlias"),
    StandInFunction("CallbackFunction", "callback_handler:handler", durable=True, alias_output="CallbackFunctionAlias"),
    StandInFunction(
        "DmsEventsFunction",
        "dms_events_handler:handler",
        durable=False,
        alias_output=None,
        name_output="DmsEventsFunctionName",
    ),
)
COMPLETER = "DmsEventsFunction"


def function_named(stack: str, name: str) -> StandInFunction | None:
    """The function a FunctionName (name, partial or full ARN, with or without qualifier) refers to."""
    bare = name.split(":function:", 1)[-1].split(":", 1)[0]
    return next((f for f in FUNCTIONS if f.physical_name(stack) == bare), None)


def stack_outputs(stack: str) -> dict[str, str]:
    """The outputs template.yaml declares for the functions the stand-in runs (not the third-party variant's)."""
    outputs = {"CallbackTableName": CALLBACK_TABLE_NAME}
    for function in FUNCTIONS:
        if function.alias_output:
            outputs[function.alias_output] = function.alias_arn(stack)
        if function.name_output:
            outputs[function.name_output] = function.physical_name(stack)
        outputs[f"{function.resource}LogGroupName"] = function.log_group(stack)
    return outputs


def handler_environment() -> dict[str, str]:
    """What template.yaml sets in the functions' environments (Globals and each function's), the stand-in's way."""
    return {
        "POWERTOOLS_SERVICE_NAME": "migration-wait",
        "CALLBACK_TABLE_NAME": CALLBACK_TABLE_NAME,
    }
