"""The template's shape, read from template.yaml: what every function, table, queue and output must have.

Each rule is checked over every resource of its kind, so a function or table added later is held to it too.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

import pytest

from tests.sam_template import (
    HANDLERS,
    functions,
    handler_module,
    load_template,
    module_closure,
    referenced_logical_ids,
    resources,
)

RUNTIME = "python3.13"
MAX_EXECUTION_TIMEOUT = 31_622_400  # Lambda's limit for DurableConfig.ExecutionTimeout (366 days)
# Set by the template for libraries, not read by our code.
LIBRARY_VARIABLES = frozenset({"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"})


def _template() -> dict[str, Any]:
    return load_template()


def _durable() -> dict[str, dict[str, Any]]:
    return {name: p for name, p in functions(_template()).items() if "DurableConfig" in p}


def _event_bridge_targets() -> dict[str, dict[str, Any]]:
    return {
        name: p
        for name, p in functions(_template()).items()
        if any(e.get("Type") == "EventBridgeRule" for e in p.get("Events", {}).values())
    }


def _only_ref(value: Any) -> str | None:
    return str(value["Ref"]) if isinstance(value, Mapping) and set(value) == {"Ref"} else None


def test_every_function_runs_python_3_13_on_arm64() -> None:
    wrong = {
        name: (p.get("Runtime"), p.get("Architectures"))
        for name, p in functions(_template()).items()
        if p.get("Runtime") != RUNTIME or p.get("Architectures") != ["arm64"]
    }
    assert not wrong, f"functions not on {RUNTIME}/arm64: {wrong}"


@pytest.mark.parametrize("function", sorted(_durable()))
def test_a_durable_function_is_started_through_an_alias_the_stack_outputs(function: str) -> None:
    properties = _durable()[function]
    outputs = _template().get("Outputs", {})

    assert properties.get("AutoPublishAlias"), f"{function}: durable functions are invoked by a qualified ARN"
    alias_outputs = [o for o in outputs.values() if _only_ref(o.get("Value")) == f"{function}.Alias"]
    assert alias_outputs, f"{function}: no output gives its alias ARN (Value: !Ref {function}.Alias)"


@pytest.mark.parametrize("function", sorted(_durable()))
def test_the_execution_timeout_always_outlasts_the_maximum_wait(function: str) -> None:
    template = _template()
    config = _durable()[function]["DurableConfig"]
    allowed = {str(v) for v in template["Parameters"]["MaxWaitSeconds"]["AllowedValues"]}
    rows = template["Mappings"]["ExecutionTimeoutByMaxWait"]

    assert config["ExecutionTimeout"] == {
        "Fn::FindInMap": ["ExecutionTimeoutByMaxWait", {"Ref": "MaxWaitSeconds"}, "Seconds"]
    }
    assert set(rows) == allowed, f"mapping rows {sorted(rows)} != MaxWaitSeconds values {sorted(allowed)}"
    for max_wait, row in rows.items():
        assert int(max_wait) < int(row["Seconds"]) <= MAX_EXECUTION_TIMEOUT, f"{max_wait}: {row}"
    assert 1 <= int(config["RetentionPeriodInDays"]) <= 90


@pytest.mark.parametrize("function", sorted(functions(_template())))
def test_every_function_logs_to_its_own_log_group_with_retention(function: str) -> None:
    properties = functions(_template())[function]
    group = _only_ref(properties.get("LoggingConfig", {}).get("LogGroup"))
    log_groups = resources(_template(), "AWS::Logs::LogGroup")

    assert group in log_groups, f"{function}: LoggingConfig.LogGroup must !Ref a log group of this template"
    assert log_groups[group]["Properties"].get("RetentionInDays") == {"Ref": "LogRetentionDays"}


@pytest.mark.parametrize("function", sorted(_event_bridge_targets()))
def test_an_event_that_cannot_be_handled_lands_in_a_dead_letter_queue(function: str) -> None:
    template = _template()
    properties = _event_bridge_targets()[function]
    queues = resources(template, "AWS::SQS::Queue")
    on_failure = properties.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})

    # The function failed after Lambda's retries: the asynchronous invocation's on-failure destination.
    assert on_failure.get("Type") == "SQS", f"{function}: no SQS on-failure destination"
    assert referenced_logical_ids(on_failure.get("Destination")) <= set(queues)
    assert referenced_logical_ids(on_failure.get("Destination")), f"{function}: destination is not our queue"
    rules_by_queue: dict[frozenset[str], set[str]] = {}
    for event_name, event in properties["Events"].items():
        if event.get("Type") != "EventBridgeRule":
            continue
        # EventBridge could not invoke the function at all: the rule target's dead-letter queue.
        dead_letters = event["Properties"].get("DeadLetterConfig", {}).get("Arn")
        queue = referenced_logical_ids(dead_letters)
        assert queue, f"{function}/{event_name}: no DeadLetterConfig on the rule target"
        assert queue <= set(queues)
        # SAM's logical id for the generated AWS::Events::Rule.
        rules_by_queue.setdefault(frozenset(queue), set()).add(f"{function}{event_name}")
    for queue, rules in rules_by_queue.items():
        _assert_queue_accepts_only(template, set(queue), rules)


def _assert_queue_accepts_only(template: Mapping[str, Any], queue: set[str], rules: set[str]) -> None:
    """EventBridge may write to the queue for these rules (every one of them) and for no other source."""
    policies = [
        p["Properties"]
        for p in resources(template, "AWS::SQS::QueuePolicy").values()
        if any(referenced_logical_ids(q) & queue for q in p["Properties"]["Queues"])
    ]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    from_events = [s for s in statements if s.get("Principal", {}).get("Service") == "events.amazonaws.com"]
    assert from_events, f"no queue policy lets EventBridge write to {queue}"
    sources: set[str] = set()
    for statement in from_events:
        source = statement.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn")
        referenced = referenced_logical_ids(source)
        assert referenced, f"EventBridge may write to {queue} from any source: {statement}"
        assert referenced <= rules, f"EventBridge may write to {queue} for {source!r}, beyond the rules {rules}"
        sources |= referenced
    assert sources == rules, f"EventBridge may not write the dead letters of {sorted(rules - sources)} to {queue}"


@pytest.mark.parametrize("table", sorted(resources(_template(), "AWS::DynamoDB::Table")))
def test_every_table_is_on_demand_with_ttl_and_point_in_time_recovery(table: str) -> None:
    properties = resources(_template(), "AWS::DynamoDB::Table")[table]["Properties"]

    assert properties.get("BillingMode") == "PAY_PER_REQUEST"
    assert properties.get("TimeToLiveSpecification", {}).get("Enabled") is True
    assert properties.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True


@pytest.mark.parametrize("kind", ["AWS::DynamoDB::Table", "AWS::SQS::Queue"])
def test_every_table_and_queue_is_in_the_outputs(kind: str) -> None:
    outputs = _template().get("Outputs", {})
    referenced = {name for o in outputs.values() for name in referenced_logical_ids(o.get("Value"))}

    missing = sorted(set(resources(_template(), kind)) - referenced)
    assert not missing, f"{kind} without an output: {missing}"


def _string_constants(entry: str) -> set[str]:
    found: set[str] = set()
    for module in module_closure(entry):
        path = HANDLERS.joinpath(*module.split("."))
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        found.update(
            node.value
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        )
    return found


@pytest.mark.parametrize("function", sorted(functions(_template())))
def test_every_environment_variable_the_template_sets_is_one_the_code_reads(function: str) -> None:
    properties = functions(_template())[function]
    variables = set(properties.get("Environment", {}).get("Variables", {})) - LIBRARY_VARIABLES

    unread = sorted(variables - _string_constants(handler_module(properties)))
    assert not unread, f"{function}: the template sets {unread}, which no module of its handler names"


@pytest.mark.parametrize(
    "function", sorted(name for name, p in functions(_template()).items() if "FunctionUrlConfig" in p)
)
def test_a_function_url_is_on_the_alias_and_in_the_outputs(function: str) -> None:
    properties = functions(_template())[function]
    outputs = _template().get("Outputs", {})

    # SAM puts the URL on the alias when the function has one: each deploy's URL serves the code just published.
    assert properties.get("AutoPublishAlias"), f"{function}: a function URL should point at an alias"
    url_outputs = [o for o in outputs.values() if o.get("Value") == {"Fn::GetAtt": [f"{function}Url", "FunctionUrl"]}]
    assert url_outputs, f"{function}: no output gives its URL (Value: !GetAtt {function}Url.FunctionUrl)"


@pytest.mark.parametrize("secret", sorted(resources(_template(), "AWS::SecretsManager::Secret")))
def test_every_secret_is_generated_never_written_in_the_template(secret: str) -> None:
    properties = resources(_template(), "AWS::SecretsManager::Secret")[secret]["Properties"]

    assert "SecretString" not in properties, f"{secret}: a secret's value must not be in the template"
    assert properties.get("GenerateSecretString", {}).get("PasswordLength", 0) >= 32


# --- Protection: concurrency, encryption at rest, the optional customer-managed key, checkov's reviewed skips.

KEY_CONDITION = "UseCustomerManagedKey"
KEY = {"Ref": "KmsKeyArn"}


def _if_key(when_set: Any, otherwise: Any) -> dict[str, Any]:
    return {"Fn::If": [KEY_CONDITION, when_set, otherwise]}


def _public_url_functions() -> list[str]:
    return sorted(
        name for name, p in functions(_template()).items() if p.get("FunctionUrlConfig", {}).get("AuthType") == "NONE"
    )


@pytest.mark.parametrize("function", _public_url_functions())
def test_a_function_behind_a_public_url_is_capped_by_reserved_concurrency(function: str) -> None:
    """Given a function anyone can call through its URL, when a flood of requests comes, then Lambda throttles it at
    its reserved concurrency (a parameter) instead of letting it take the account's concurrency."""
    template = _template()
    properties = functions(template)[function]
    reserved = properties.get("ReservedConcurrentExecutions")

    assert reserved == {
        "Fn::If": ["CapCallbackApiConcurrency", {"Ref": "CallbackApiReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }, f"{function}: ReservedConcurrentExecutions is {reserved!r}"


def test_the_callback_api_concurrency_cap_defaults_to_20_and_0_lifts_it() -> None:
    template = _template()
    parameter = template["Parameters"]["CallbackApiReservedConcurrency"]

    assert parameter["Type"] == "Number"
    assert int(parameter["Default"]) == 20
    assert int(parameter["MinValue"]) == 0, "0 must stay allowed: an account with a small quota can reserve none"
    assert template["Conditions"]["CapCallbackApiConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CallbackApiReservedConcurrency"}, "0"]}]
    }


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        ("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", True),
        ("arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", True),
        ("arn:aws:kms:eu-west-1:123456789012:alias/migration-wait", False),
        ("1234abcd-12ab-34cd-56ef-1234567890ab", False),
    ],
)
def test_kms_key_arn_takes_nothing_or_a_key_arn(value: str, accepted: bool) -> None:
    """Given the optional KmsKeyArn, a key ARN or nothing is accepted; an alias or a bare key id is refused (IAM
    policies and CloudWatch Logs need the key's ARN)."""
    parameter = _template()["Parameters"]["KmsKeyArn"]

    assert parameter.get("Default") == ""
    assert bool(re.fullmatch(parameter["AllowedPattern"], value)) is accepted


def test_the_customer_managed_key_is_used_exactly_when_kms_key_arn_is_set() -> None:
    assert _template()["Conditions"][KEY_CONDITION] == {"Fn::Not": [{"Fn::Equals": [KEY, ""]}]}


@pytest.mark.parametrize("table", sorted(resources(_template(), "AWS::DynamoDB::Table")))
def test_every_table_is_encrypted_with_the_customer_managed_key_when_one_is_given(table: str) -> None:
    """Given KmsKeyArn, the table uses it (SSE type KMS); without it, DynamoDB's AWS owned key (SSEEnabled false)."""
    properties = resources(_template(), "AWS::DynamoDB::Table")[table]["Properties"]

    assert properties.get("SSESpecification") == {
        "SSEEnabled": _if_key(True, False),
        "SSEType": _if_key("KMS", {"Ref": "AWS::NoValue"}),
        "KMSMasterKeyId": _if_key(KEY, {"Ref": "AWS::NoValue"}),
    }, f"{table}: SSESpecification is {properties.get('SSESpecification')!r}"


@pytest.mark.parametrize("queue", sorted(resources(_template(), "AWS::SQS::Queue")))
def test_every_queue_is_encrypted_with_sse_sqs_or_the_customer_managed_key(queue: str) -> None:
    """Given no KmsKeyArn, the queue is encrypted with SQS-managed keys (SSE-SQS); given one, with that key. Never
    unencrypted, never the AWS managed key aws/sqs (EventBridge could not write dead letters to it)."""
    properties = resources(_template(), "AWS::SQS::Queue")[queue]["Properties"]

    assert properties.get("SqsManagedSseEnabled") == _if_key(False, True)
    assert properties.get("KmsMasterKeyId") == _if_key(KEY, {"Ref": "AWS::NoValue"})


@pytest.mark.parametrize(
    "resource",
    sorted(
        name for kind in ("AWS::Logs::LogGroup", "AWS::SecretsManager::Secret") for name in resources(_template(), kind)
    ),
)
def test_every_log_group_and_secret_uses_the_customer_managed_key_when_one_is_given(resource: str) -> None:
    properties = resources(_template())[resource]["Properties"]

    assert properties.get("KmsKeyId") == _if_key(KEY, {"Ref": "AWS::NoValue"})


def _checkov_skips() -> list[tuple[str, Mapping[str, Any]]]:
    return [
        (name, skip)
        for name, resource in resources(_template()).items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


def test_the_template_skips_checkov_checks_only_in_resource_metadata() -> None:
    assert _checkov_skips(), "no checkov skip found: the test reads Metadata.checkov.skip"


@pytest.mark.parametrize(("resource", "skip"), _checkov_skips(), ids=lambda v: v if isinstance(v, str) else v["id"])
def test_every_checkov_skip_names_a_check_and_gives_its_reason(resource: str, skip: Mapping[str, Any]) -> None:
    """Given a checkov finding the template accepts, the skip names the check and says why it does not apply here
    (a sentence, not a placeholder); every function or alarm the reason names exists."""
    comment = " ".join(str(skip.get("comment", "")).split())
    named = set(re.findall(r"\b[A-Z][A-Za-z]+(?:Function|Alarm)\b", comment))

    assert re.fullmatch(r"CKV2?_AWS_\d+", str(skip.get("id", ""))), f"{resource}: skip id {skip.get('id')!r}"
    assert len(comment) >= 40, f"{resource}/{skip.get('id')}: the reason {comment!r} is too short to say why"
    assert named <= set(resources(_template())), f"{resource}/{skip['id']}: names {sorted(named)}, not all exist"


@pytest.mark.parametrize("resource", sorted({name for name, _ in _checkov_skips()}))
def test_a_resource_skips_each_checkov_check_once(resource: str) -> None:
    ids = [skip["id"] for name, skip in _checkov_skips() if name == resource]

    assert len(ids) == len(set(ids)), f"{resource}: {ids}"
