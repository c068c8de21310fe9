"""Least privilege, read from template.yaml: no wildcard actions, and each function may do what its code calls.

The table below is the reviewed statement of what each function needs: every granted action names the code that
calls it. The tests hold the template to the table and the table to the code:

- the function's inline statements grant exactly the table's actions;
- each action's named caller exists, is reachable from the function's handler, and really makes that call;
- every AWS call reachable from the handler (by import, module by module) is either granted or listed under
  ``not_called`` with the reason this function never makes it (a shared adapter serves several functions).

The customer-managed key (parameter KmsKeyArn) is the one grant no code calls: DynamoDB, SQS and Secrets Manager use
it with the function's credentials. It is checked on its own: only under the condition, only on that key, only
through the services that keep the function's data.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.sam_template import (
    HANDLERS,
    aws_calls,
    function_statements,
    functions,
    handler_module,
    load_template,
    module_closure,
    operations_by_method,
    policy_documents,
    referenced_logical_ids,
    resources,
    sub_text,
)


@dataclass(frozen=True)
class Permissions:
    granted: Mapping[str, str]
    """IAM action -> the code that calls it, as ``module:Class.method``."""
    not_called: Mapping[str, str] = field(default_factory=dict)
    """Reachable by import but never called by this function -> why."""


# What each function needs. Add a row when a function joins the template (the tests below say so); a row for a
# function the template does not have yet is skipped, saying so.

DURABLE_EXECUTION_STATUS = "aws_adapters.durable_executions:DurableExecutions.status"

PERMISSIONS: dict[str, Permissions] = {
    "PollingFunction": Permissions(
        granted={
            "dms:StartReplicationTask": "aws_adapters.dms_gateway:DmsGateway.start_task",
            "dms:DescribeReplicationTasks": "aws_adapters.dms_gateway:DmsGateway.describe_task",
            # The DMS Serverless kind (input ReplicationConfigArn).
            "dms:StartReplication": "aws_adapters.dms_gateway:DmsGateway.start_replication",
            "dms:DescribeReplications": "aws_adapters.dms_gateway:DmsGateway.describe_replication",
        },
    ),
    "CallbackFunction": Permissions(
        granted={
            # The claim, and the take-over of a claim whose execution ended (CorrelationStore.take_over).
            "dynamodb:PutItem": "aws_adapters.correlation_store:CorrelationStore._put_claim",
            "dynamodb:UpdateItem": "aws_adapters.correlation_store:CorrelationStore.reregister",
            "dynamodb:DeleteItem": "aws_adapters.correlation_store:CorrelationStore.release",
            "dms:StartReplicationTask": "aws_adapters.dms_gateway:DmsGateway.start_task",
            "dms:DescribeReplicationTasks": "aws_adapters.dms_gateway:DmsGateway.describe_task",
            "dms:StartReplication": "aws_adapters.dms_gateway:DmsGateway.start_replication",
            "dms:DescribeReplications": "aws_adapters.dms_gateway:DmsGateway.describe_replication",
            # Whether the execution holding a task's claim still runs (a dead holder's claim is taken over).
            "lambda:GetDurableExecution": DURABLE_EXECUTION_STATUS,
        },
        not_called={
            "dynamodb:GetItem": "CorrelationStore.find: only the completer looks a correlation up",
            "lambda:GetDurableExecutionHistory": "DurableExecutions.callback_outcome: only completers send callbacks",
        },
    ),
    "DmsEventsFunction": Permissions(
        granted={
            "dynamodb:GetItem": "aws_adapters.correlation_store:CorrelationStore.find",
            "dynamodb:UpdateItem": "aws_adapters.correlation_store:CorrelationStore.mark_delivered",
            "dms:DescribeReplicationTasks": "aws_adapters.dms_gateway:DmsGateway.describe_task",
            "dms:DescribeReplications": "aws_adapters.dms_gateway:DmsGateway.describe_replication",
            "lambda:SendDurableExecutionCallbackSuccess": "aws_adapters.callback_sender:CallbackSender.succeed",
            "lambda:SendDurableExecutionCallbackFailure": "aws_adapters.callback_sender:CallbackSender.fail",
            "lambda:GetDurableExecutionHistory": (
                "aws_adapters.durable_executions:DurableExecutions._history_newest_first"
            ),
        },
        not_called={
            "lambda:GetDurableExecution": "DurableExecutions.status: a completer never asks whether an execution runs",
            "dynamodb:PutItem": "CorrelationStore.register: only CallbackFunction claims a task",
            "dynamodb:DeleteItem": "CorrelationStore.release: only CallbackFunction releases its claim",
            "dms:StartReplicationTask": "DmsGateway.start_task: the completer never starts a task",
            "dms:StartReplication": "DmsGateway.start_replication: the completer never starts a replication",
        },
    ),
    "ThirdPartyJobFunction": Permissions(
        granted={
            # PutItem on two tables: the claim (CorrelationStore.register) and the token (CallbackTokenStore.issue).
            "dynamodb:PutItem": "callback_api.tokens:CallbackTokenStore.issue",
            "dynamodb:UpdateItem": "aws_adapters.correlation_store:CorrelationStore.reregister",
            "dynamodb:DeleteItem": "aws_adapters.correlation_store:CorrelationStore.release",
            # Whether the execution holding a task's claim still runs (a dead holder's claim is taken over).
            "lambda:GetDurableExecution": DURABLE_EXECUTION_STATUS,
        },
        not_called={
            "dynamodb:GetItem": "CorrelationStore.find, CallbackTokenStore.find: only CallbackApiFunction looks up",
            "lambda:GetDurableExecutionHistory": "DurableExecutions.callback_outcome: only completers send callbacks",
        },
    ),
    "CallbackApiFunction": Permissions(
        granted={
            "dynamodb:GetItem": "callback_api.tokens:CallbackTokenStore.find",
            "dynamodb:UpdateItem": "callback_api.tokens:CallbackTokenStore.record_answer",
            "secretsmanager:GetSecretValue": "callback_api.signing_secrets:SecretsManagerSigningSecrets._read",
            "lambda:SendDurableExecutionCallbackSuccess": "aws_adapters.callback_sender:CallbackSender.succeed",
            "lambda:SendDurableExecutionCallbackFailure": "aws_adapters.callback_sender:CallbackSender.fail",
            "lambda:GetDurableExecutionHistory": (
                "aws_adapters.durable_executions:DurableExecutions._history_newest_first"
            ),
        },
        not_called={
            "lambda:GetDurableExecution": "DurableExecutions.status: a completer never asks whether an execution runs",
            "dynamodb:PutItem": "CorrelationStore.register, CallbackTokenStore.issue: ThirdPartyJobFunction only",
            "dynamodb:DeleteItem": "CorrelationStore.release: only ThirdPartyJobFunction releases its claim",
        },
    ),
}

# Actions the Service Authorization Reference lists with no resource type: they can only be granted on "*".
# Checked 2026-11 against "Actions, resources, and condition keys for AWS Database Migration Service"
# (docs.aws.amazon.com/service-authorization/latest/reference/list_awsdatabasemigrationservice.html), read through
# its machine-readable mirror (iann0036/iam-dataset, aws/iam_definition.json): DescribeReplicationTasks has no
# resource type; StartReplicationTask requires ReplicationTask (arn:${Partition}:dms:${Region}:${Account}:task:*).
# DMS Serverless, checked 2026-11 the same way: DescribeReplications has no resource type; StartReplication requires
# ReplicationConfig (arn:${Partition}:dms:${Region}:${Account}:replication-config:*).
# Lambda's SendDurableExecutionCallbackSuccess/Failure/Heartbeat, GetDurableExecution and GetDurableExecutionHistory
# require "durable execution" (arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}:${Version}/
# durable-execution/${ExecutionName}/${ExecutionId}; Service Authorization Reference, AWS Lambda).
ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS = frozenset({"dms:DescribeReplicationTasks", "dms:DescribeReplications"})

DMS_TASK_ARN = "arn:${AWS::Partition}:dms:${AWS::Region}:${AWS::AccountId}:task:"
DMS_REPLICATION_CONFIG_ARN = "arn:${AWS::Partition}:dms:${AWS::Region}:${AWS::AccountId}:replication-config:"
# Each DMS action that supports resource-level permissions, and the ARNs of this account it may be granted on.
DMS_RESOURCE_ARNS = {"dms:StartReplicationTask": DMS_TASK_ARN, "dms:StartReplication": DMS_REPLICATION_CONFIG_ARN}
CALLBACK_ACTIONS = frozenset(
    {
        "lambda:SendDurableExecutionCallbackSuccess",
        "lambda:SendDurableExecutionCallbackFailure",
        "lambda:SendDurableExecutionCallbackHeartbeat",
    }
)
# Only these durable functions wait for callbacks; only they may be the target of callback actions.
CALLBACK_WAITERS = frozenset({"CallbackFunction", "ThirdPartyJobFunction"})
DURABLE_EXECUTION_READS = frozenset({"lambda:GetDurableExecution", "lambda:GetDurableExecutionHistory"})
# Whose executions each function may read: its own (is the claim's holder still running?) or those of the one
# function whose callbacks it completes (did an ambiguous send land?).
EXECUTIONS_READ_BY = {
    "CallbackFunction": "CallbackFunction",
    "ThirdPartyJobFunction": "ThirdPartyJobFunction",
    "DmsEventsFunction": "CallbackFunction",
    "CallbackApiFunction": "ThirdPartyJobFunction",
}
KEY_CONDITION = "UseCustomerManagedKey"
KEY_ACTIONS = frozenset({"kms:Decrypt", "kms:GenerateDataKey"})
# The services that may keep a function's data under the customer-managed key, by the IAM prefix of its data actions.
ENCRYPTING_SERVICES = frozenset({"dynamodb", "secretsmanager"})


def _template() -> dict[str, Any]:
    return load_template()


def _function_names() -> list[str]:
    return sorted(functions(_template()))


def _require_in_template(function: str) -> dict[str, Any]:
    found = functions(_template())
    if function not in found:
        pytest.skip(f"{function} has a row in PERMISSIONS but is not in template.yaml yet")
    return found[function]


def test_no_statement_anywhere_grants_a_wildcard_or_negated_action() -> None:
    offenders = []
    for path, statement in policy_documents(_template()):
        if "NotAction" in statement:
            offenders.append(f"{path}: NotAction")
        actions = statement.get("Action", [])
        for action in actions if isinstance(actions, list) else [actions]:
            if "*" in str(action):
                offenders.append(f"{path}: {action}")
    assert not offenders, f"wildcard or negated actions: {offenders}"


def test_every_function_in_the_template_has_a_row_in_the_permission_table() -> None:
    missing = sorted(set(_function_names()) - set(PERMISSIONS))
    assert not missing, f"add these functions to PERMISSIONS in {__file__}: {missing}"


@pytest.mark.parametrize("function", sorted(PERMISSIONS))
def test_the_function_is_granted_exactly_the_actions_in_the_table(function: str) -> None:
    _require_in_template(function)
    statements = [s for s in function_statements(_template(), function) if s.condition is None]
    granted = {action for s in statements for action in s.actions}

    assert all(s.effect == "Allow" for s in statements), f"{function}: only Allow statements are expected"
    assert granted == set(PERMISSIONS[function].granted), (
        f"{function}: template grants {sorted(granted)}, the table says {sorted(PERMISSIONS[function].granted)}"
    )


def _calls_in(module: str, qualified: str) -> set[str]:
    """IAM actions of the boto3 calls inside ``Class.method`` (or a module-level function) of ``module``."""
    path = HANDLERS.joinpath(*module.split(".")).with_suffix(".py")
    node: ast.AST = ast.parse(path.read_text())
    for part in qualified.split("."):
        body = getattr(node, "body", [])
        found = [n for n in body if isinstance(n, ast.ClassDef | ast.FunctionDef) and n.name == part]
        if not found:
            raise LookupError(f"{qualified} not found in {path}")
        node = found[0]
    table = operations_by_method()
    return {
        action
        for call in ast.walk(node)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in table
        for action in table[call.func.attr]
    }


@pytest.mark.parametrize(
    ("function", "action", "caller"),
    [(f, a, c) for f, p in sorted(PERMISSIONS.items()) for a, c in sorted(p.granted.items())],
)
def test_each_granted_action_is_called_where_the_table_says(function: str, action: str, caller: str) -> None:
    module, _, qualified = caller.partition(":")
    entry = handler_module(_require_in_template(function))

    assert module in module_closure(entry), f"{caller} is not reachable from {entry}"
    assert action in _calls_in(module, qualified), f"{caller} does not call {action}"


@pytest.mark.parametrize("function", sorted(PERMISSIONS))
def test_every_aws_call_reachable_from_the_handler_is_granted_or_explained(function: str) -> None:
    entry = handler_module(_require_in_template(function))
    permissions = PERMISSIONS[function]
    reachable: dict[str, list[str]] = {}
    for call in aws_calls(entry):
        assert len(call.actions) == 1, f"{call.module}:{call.line} {call.method} is ambiguous: {sorted(call.actions)}"
        reachable.setdefault(next(iter(call.actions)), []).append(f"{call.module}:{call.line}")

    unexplained = {a: where for a, where in reachable.items() if a not in permissions.granted}
    unexplained = {a: where for a, where in unexplained.items() if a not in permissions.not_called}
    stale = sorted(set(permissions.not_called) - set(reachable))
    never_called = sorted(set(permissions.granted) - set(reachable))

    assert not unexplained, f"{function} reaches calls it is not granted (grant or explain them): {unexplained}"
    assert not stale, f"{function}: not_called lists actions its code no longer reaches: {stale}"
    assert not never_called, f"{function} is granted actions its code never calls: {never_called}"


def _statements() -> list[Any]:
    """Every function's unconditional statements (the customer-managed key's grants are checked on their own)."""
    template = _template()
    return [
        s
        for f in sorted(PERMISSIONS)
        if f in functions(template)
        for s in function_statements(template, f)
        if s.condition is None
    ]


def test_only_actions_without_resource_level_permissions_are_granted_on_every_resource() -> None:
    offenders = [
        f"{s.function}/{s.sid}: {sorted(set(s.actions) - ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS)}"
        for s in _statements()
        if "*" in s.resources and set(s.actions) - ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS
    ]
    assert not offenders, f'actions that support resource-level permissions granted on "*": {offenders}'


def test_dms_actions_are_scoped_to_this_accounts_tasks_or_replication_configs_where_dms_allows_it() -> None:
    offenders = []
    for statement in _statements():
        scoped = [a for a in statement.actions if a.startswith("dms:")]
        scoped = [a for a in scoped if a not in ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS]
        for action in scoped:
            allowed = DMS_RESOURCE_ARNS.get(action)
            for resource in statement.resources:
                text = sub_text(resource)
                if allowed is None or text is None or not text.startswith(allowed):
                    offenders.append(f"{statement.function}/{statement.sid}: {action} on {resource!r}")
    assert not offenders, f"DMS actions not limited to this account's tasks or replication configs: {offenders}"


def test_callback_actions_target_only_the_functions_that_wait_for_callbacks() -> None:
    offenders = []
    for statement in _statements():
        if not CALLBACK_ACTIONS & set(statement.actions):
            continue
        if statement.function in CALLBACK_WAITERS:
            offenders.append(f"{statement.function}/{statement.sid}: a waiting function completes its own callback")
        for resource in statement.resources:
            text = sub_text(resource) or ""
            targets = referenced_logical_ids(resource)
            # The actions' only resource type is the durable execution (Service Authorization Reference, Lambda):
            # <function ARN>:<version>/durable-execution/<name>/<id>. An unqualified function ARN matches none.
            qualified = any(text.startswith(f"${{{waiter}.Arn}}:") for waiter in CALLBACK_WAITERS)
            if not targets or not targets <= CALLBACK_WAITERS or not qualified:
                offenders.append(f"{statement.function}/{statement.sid}: {resource!r}")
    assert not offenders, f"callback actions beyond the callback functions' executions: {offenders}"


def test_every_other_scoped_resource_is_one_this_template_creates() -> None:
    template = _template()
    own = set(resources(template))
    offenders = []
    for statement in _statements():
        if set(statement.actions) <= ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS:
            continue
        if all(a.startswith("dms:") for a in statement.actions):
            continue  # DMS tasks and replication configs are the user's, checked above
        for resource in statement.resources:
            targets = referenced_logical_ids(resource)
            if not targets or not targets <= own:
                offenders.append(f"{statement.function}/{statement.sid}: {resource!r}")
    assert not offenders, f"statements on resources this stack does not own: {offenders}"


def test_durable_execution_reads_target_only_the_executions_each_function_serves() -> None:
    """Given the functions that read durable executions, when their statements are read, then each reads only the
    executions of the function the table above names, as durable execution ARNs (<function ARN>:<version>/...)."""
    offenders = []
    readers = set()
    for statement in _statements():
        if not DURABLE_EXECUTION_READS & set(statement.actions):
            continue
        readers.add(statement.function)
        target = EXECUTIONS_READ_BY.get(statement.function)
        for resource in statement.resources:
            if sub_text(resource) != f"${{{target}.Arn}}:*/durable-execution/*":
                offenders.append(f"{statement.function}/{statement.sid}: {resource!r} (expected {target}'s executions)")
    assert not offenders, f"durable execution reads beyond the executions a function serves: {offenders}"
    assert readers == set(EXECUTIONS_READ_BY), f"functions reading executions: {sorted(readers)}"


def _key_services(function: str) -> set[str]:
    """The services that keep this function's data and so use the customer-managed key with its credentials: those
    of its data actions (DynamoDB tables, the secret) and SQS when it has an SQS on-failure destination."""
    services = {a.split(":")[0] for a in PERMISSIONS[function].granted} & ENCRYPTING_SERVICES
    properties = functions(_template())[function]
    on_failure = properties.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
    if on_failure.get("Type") == "SQS":
        services.add("sqs")
    return services


@pytest.mark.parametrize("function", sorted(PERMISSIONS))
def test_the_customer_managed_key_is_granted_only_when_set_and_only_through_the_services_keeping_the_data(
    function: str,
) -> None:
    """Given KmsKeyArn, when the function's statements are read, then kms:Decrypt and kms:GenerateDataKey are granted
    only under UseCustomerManagedKey, on that key alone, and only through (kms:ViaService) the services that keep the
    function's data; a function that keeps none gets no key grant."""
    _require_in_template(function)
    statements = function_statements(_template(), function)
    key_statements = [s for s in statements if any(a.startswith("kms:") for a in s.actions)]
    expected = _key_services(function)

    assert all(s.condition == KEY_CONDITION for s in key_statements), (
        f"{function}: a KMS grant outside the {KEY_CONDITION} condition: {[s.sid for s in key_statements]}"
    )
    if not expected:
        assert not key_statements, f"{function} keeps no encrypted data but is granted the key"
        return
    assert {a for s in key_statements for a in s.actions} == KEY_ACTIONS
    for statement in key_statements:
        assert statement.resources == ({"Ref": "KmsKeyArn"},), f"{function}/{statement.sid}: {statement.resources}"
        via = statement.raw.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService", [])
        assert {sub_text(v) for v in via} == {f"{s}.${{AWS::Region}}.amazonaws.com" for s in expected}, (
            f"{function}/{statement.sid}: kms:ViaService {via!r}, expected {sorted(expected)}"
        )
