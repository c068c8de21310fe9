"""Read template.yaml as data (CloudFormation tags included) and the AWS calls each function's code makes.

Two views the template tests compare: what IAM grants each function (its inline policy statements) and what its
code calls (boto3 client methods found in the handler module and every ``handlers/`` module it imports).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import botocore.session
from botocore import xform_name
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
HANDLERS = ROOT / "handlers"

# The services the functions may call, by IAM prefix (each equals botocore's service name here).
SERVICES = ("dms", "dynamodb", "lambda", "secretsmanager", "ssm", "sqs")
# Operations whose IAM action is not named after the operation.
ACTION_FOR_OPERATION = {"lambda:Invoke": "lambda:InvokeFunction"}

_SUB_REFERENCE = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data: ``!Ref x`` becomes ``{"Ref": "x"}``, ``!Sub`` becomes ``{"Fn::Sub": ...}``."""
    template, matches = decode(str(path))
    if matches or template is None:
        raise ValueError(f"{path} does not parse: {[str(m) for m in matches]}")
    return dict(template)


def resources(template: Mapping[str, Any], type_name: str | None = None) -> dict[str, dict[str, Any]]:
    found = template.get("Resources", {})
    return {k: v for k, v in found.items() if type_name is None or v.get("Type") == type_name}


def functions(template: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Serverless functions with Globals merged in (only the keys the tests read)."""
    defaults = template.get("Globals", {}).get("Function", {})
    merged = {}
    for name, resource in resources(template, "AWS::Serverless::Function").items():
        properties = {**defaults, **resource.get("Properties", {})}
        merged[name] = properties
    return merged


@dataclass(frozen=True)
class Statement:
    """One IAM statement of one function's inline policies."""

    function: str
    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[Any, ...]
    raw: Mapping[str, Any]
    condition: str | None = None
    """The template Condition it is granted under (``!If`` in Policies, or the RolePolicy's); None: always."""


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


_NO_VALUE = {"Ref": "AWS::NoValue"}


def _inline_document(function: str, policy: Any) -> tuple[Mapping[str, Any], str | None]:
    """A Policies entry as (document, condition): a plain document, or ``!If [Condition, document, !Ref
    AWS::NoValue]`` (a grant that exists only under a template Condition)."""
    condition = None
    if isinstance(policy, Mapping) and set(policy) == {"Fn::If"}:
        name, when_true, when_false = policy["Fn::If"]
        if when_false == _NO_VALUE:
            condition, policy = str(name), when_true
    if not isinstance(policy, Mapping) or set(policy) - {"Version", "Statement"}:
        raise ValueError(
            f"{function}: policy {dict(policy) if isinstance(policy, Mapping) else policy!r} is not an inline "
            "policy document (or one under !If [Condition, document, !Ref AWS::NoValue]); write its statements out "
            "(SAM policy templates and managed policies grant actions the code does not call)"
        )
    return policy, condition


def function_statements(template: Mapping[str, Any], function: str) -> list[Statement]:
    """The function's inline statements, and those of any ``AWS::IAM::RolePolicy`` on the role SAM generates for
    it (``<Function>Role``; used where an inline statement would make a dependency cycle). Anything else in Policies
    (a managed policy, a SAM policy template) is refused here: the tests can only vouch for what is written out."""
    properties = functions(template)[function]
    documents = [_inline_document(function, policy) for policy in properties.get("Policies", [])]
    for role_policy in resources(template, "AWS::IAM::RolePolicy").values():
        role_policy_properties = role_policy.get("Properties", {})
        if referenced_logical_ids(role_policy_properties.get("RoleName")) == {f"{function}Role"}:
            documents.append((role_policy_properties["PolicyDocument"], role_policy.get("Condition")))
    return [
        Statement(
            function=function,
            sid=str(raw.get("Sid", "")),
            effect=str(raw.get("Effect", "")),
            actions=tuple(str(a) for a in _as_tuple(raw.get("Action", ()))),
            resources=_as_tuple(raw.get("Resource", ())),
            raw=raw,
            condition=condition,
        )
        for document, condition in documents
        for raw in _as_tuple(document["Statement"])
    ]


def policy_documents(node: Any, path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every IAM statement anywhere in the template (function policies, roles, queue policies, ...)."""
    if isinstance(node, Mapping):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            yield path, node
        for key, value in node.items():
            yield from policy_documents(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from policy_documents(value, f"{path}/{index}")


def referenced_logical_ids(value: Any) -> set[str]:
    """Logical ids a resource expression (or a list of them) points at (Ref, GetAtt, ${X} / ${X.Attr} in Sub),
    pseudo params excluded."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_logical_ids(item)
    if isinstance(value, Mapping):
        if "Ref" in value:
            found.add(str(value["Ref"]))
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            found.add(str(target[0] if isinstance(target, list) else str(target).split(".")[0]))
        if "Fn::Sub" in value:
            body = value["Fn::Sub"]
            text = body[0] if isinstance(body, list) else body
            found.update(_SUB_REFERENCE.findall(str(text)))
    return {name for name in found if not name.startswith("AWS")}


def sub_text(value: Any) -> str | None:
    """The string of a ``!Sub`` expression, or None."""
    if isinstance(value, Mapping) and "Fn::Sub" in value:
        body = value["Fn::Sub"]
        return str(body[0] if isinstance(body, list) else body)
    return None


# --- what the code calls ----------------------------------------------------------------------------------


@cache
def operations_by_method() -> dict[str, frozenset[str]]:
    """boto3 client method name -> the IAM actions it may mean (more than one only if services share a name)."""
    session = botocore.session.get_session()
    table: dict[str, set[str]] = {}
    for service in SERVICES:
        model = session.get_service_model(service)
        for operation in model.operation_names:
            action = f"{service}:{operation}"
            table.setdefault(xform_name(operation), set()).add(ACTION_FOR_OPERATION.get(action, action))
    return {method: frozenset(actions) for method, actions in table.items()}


def handler_module(function_properties: Mapping[str, Any]) -> str:
    """``polling_handler.handler`` -> ``polling_handler``."""
    handler = str(function_properties["Handler"])
    return handler.rsplit(".", 1)[0]


def _module_file(module: str) -> Path | None:
    base = HANDLERS.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(module: str, tree: ast.Module) -> set[str]:
    package = module if (_module_file(module) or Path()).name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, node.module] if node.module else parts)
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if _module_file(name) is not None}


def module_closure(entry: str) -> set[str]:
    """The entry module and every module under handlers/ it imports, transitively."""
    seen: set[str] = set()
    pending = [entry]
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        path = _module_file(module)
        if path is None:
            raise FileNotFoundError(f"module {module!r} is not under {HANDLERS}")
        seen.add(module)
        tree = ast.parse(path.read_text(), filename=str(path))
        pending.extend(_imported_modules(module, tree) - seen)
        # A package's modules are reachable through its __init__ only if imported; parents are always loaded.
        parent = module.rpartition(".")[0]
        if parent and parent not in seen:
            pending.append(parent)
    return seen


@dataclass(frozen=True)
class AwsCall:
    module: str
    line: int
    method: str
    actions: frozenset[str]


def aws_calls(entry: str) -> list[AwsCall]:
    """Calls of boto3 client methods (``x.start_replication_task(...)``, ``get_paginator("...")``) in the closure."""
    table = operations_by_method()
    calls = []
    for module in sorted(module_closure(entry)):
        path = _module_file(module)
        assert path is not None
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            method = node.func.attr
            if method in {"get_paginator", "get_waiter"} and node.args and isinstance(node.args[0], ast.Constant):
                method = str(node.args[0].value)
            if method in table:
                calls.append(AwsCall(module=module, line=node.lineno, method=method, actions=table[method]))
    return calls
