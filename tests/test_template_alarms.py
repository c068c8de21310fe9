"""The alarms, read from template.yaml: what each watches, when it fires, whom it tells and what it asks of a reader.

Each rule is checked over every alarm, or every function of a kind, so an alarm or a function added later is held
to it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from tests.sam_template import functions, load_template, resources

ALARM = "AWS::CloudWatch::Alarm"
NO_VALUE = {"Ref": "AWS::NoValue"}
TOPIC_ACTIONS = {"Fn::If": ["NotifyAlarmTopic", [{"Ref": "AlarmTopicArn"}], NO_VALUE]}
DURABLE_FAILURE_METRICS = frozenset({"DurableExecutionFailed", "DurableExecutionTimedOut"})


def _template() -> dict[str, Any]:
    return load_template()


def _alarms() -> dict[str, dict[str, Any]]:
    return {name: alarm["Properties"] for name, alarm in resources(_template(), ALARM).items()}


@dataclass(frozen=True)
class Watched:
    """One metric an alarm reads (directly, or as a term of its metric math)."""

    alarm: str
    namespace: str
    metric: str
    dimensions: Mapping[str, Any]
    statistic: str
    period: int


def _watched(name: str, alarm: Mapping[str, Any]) -> list[Watched]:
    if "MetricName" in alarm:
        return [
            Watched(
                alarm=name,
                namespace=alarm["Namespace"],
                metric=alarm["MetricName"],
                dimensions={d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
                statistic=alarm["Statistic"],
                period=int(alarm["Period"]),
            )
        ]
    found = []
    for query in alarm.get("Metrics", []):
        if "MetricStat" not in query:
            continue
        metric = query["MetricStat"]["Metric"]
        found.append(
            Watched(
                alarm=name,
                namespace=metric["Namespace"],
                metric=metric["MetricName"],
                dimensions={d["Name"]: d["Value"] for d in metric.get("Dimensions", [])},
                statistic=query["MetricStat"]["Stat"],
                period=int(query["MetricStat"]["Period"]),
            )
        )
    return found


def _alarms_on(namespace: str, metric: str, dimensions: Mapping[str, Any]) -> list[Watched]:
    return [
        watched
        for name, alarm in _alarms().items()
        for watched in _watched(name, alarm)
        if (watched.namespace, watched.metric) == (namespace, metric) and dict(watched.dimensions) == dict(dimensions)
    ]


def _fires_on_the_first_occurrence(alarm: Mapping[str, Any]) -> bool:
    return (
        alarm.get("ComparisonOperator") == "GreaterThanThreshold"
        and float(alarm.get("Threshold", -1)) == 0
        and int(alarm.get("EvaluationPeriods", 0)) == 1
    )


def test_the_template_has_alarms() -> None:
    assert _alarms(), "template.yaml declares no AWS::CloudWatch::Alarm"


@pytest.mark.parametrize("alarm", sorted(_alarms()))
def test_an_alarm_without_data_stays_ok(alarm: str) -> None:
    """Given a metric that reports nothing while nothing goes wrong (Errors, Url5xxCount, the durable metrics),
    when a period has no data point, then the alarm does not fire."""
    assert _alarms()[alarm].get("TreatMissingData") == "notBreaching"


@pytest.mark.parametrize("alarm", sorted(_alarms()))
def test_an_alarm_fires_on_the_first_occurrence(alarm: str) -> None:
    properties = _alarms()[alarm]

    assert _fires_on_the_first_occurrence(properties), (
        f"{alarm}: expected > 0 over one period, got {properties.get('ComparisonOperator')} "
        f"{properties.get('Threshold')} over {properties.get('EvaluationPeriods')} period(s)"
    )


@pytest.mark.parametrize("alarm", sorted(_alarms()))
def test_an_alarm_notifies_the_topic_only_when_one_is_given(alarm: str) -> None:
    """Given AlarmTopicArn empty, the alarm has no action (it still shows its state); given a topic, it notifies
    the topic when it fires and when it clears."""
    template = _template()
    properties = _alarms()[alarm]

    assert template["Conditions"]["NotifyAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    assert template["Parameters"]["AlarmTopicArn"].get("Default") == ""
    assert properties.get("AlarmActions") == TOPIC_ACTIONS, f"{alarm}: AlarmActions {properties.get('AlarmActions')}"
    assert properties.get("OKActions") == TOPIC_ACTIONS, f"{alarm}: OKActions {properties.get('OKActions')}"


@pytest.mark.parametrize("alarm", sorted(_alarms()))
def test_an_alarm_description_tells_the_reader_where_to_look_and_what_to_do(alarm: str) -> None:
    description = str(_alarms()[alarm].get("AlarmDescription", ""))

    assert 100 <= len(description) <= 1024, f"{alarm}: a description of {len(description)} characters"
    assert "log group" in description, f"{alarm}: the description names no log group to read"


def test_a_message_in_the_dead_letter_queue_raises_an_alarm() -> None:
    watched = _alarms_on(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        {"QueueName": {"Fn::GetAtt": ["DmsEventsDeadLetterQueue", "QueueName"]}},
    )

    assert len(watched) == 1, f"alarms on the dead-letter queue's depth: {watched}"
    assert watched[0].statistic == "Maximum"


@pytest.mark.parametrize("function", ["DmsEventsFunction", "CallbackApiFunction"])
def test_an_error_of_a_function_that_serves_callers_raises_an_alarm(function: str) -> None:
    """Given the completer (DMS events) or the callback endpoint (the third party), when an invocation fails
    (an unhandled error or a timeout), then an alarm on its Errors fires."""
    watched = _alarms_on("AWS/Lambda", "Errors", {"FunctionName": {"Ref": function}})

    assert len(watched) == 1, f"{function}: alarms on Errors: {watched}"
    assert watched[0].statistic == "Sum"


def test_a_5xx_answer_of_the_callback_url_raises_an_alarm() -> None:
    """Given the public callback URL, when it answers 5xx (a handled 500 or 503, or Lambda's own 502), then an
    alarm on Lambda's function URL metric Url5xxCount fires (AWS/Lambda, FunctionName: every alias's URL)."""
    url_functions = [name for name, p in functions(_template()).items() if "FunctionUrlConfig" in p]

    assert url_functions == ["CallbackApiFunction"]
    watched = _alarms_on("AWS/Lambda", "Url5xxCount", {"FunctionName": {"Ref": "CallbackApiFunction"}})
    assert len(watched) == 1, f"alarms on Url5xxCount: {watched}"
    assert watched[0].statistic == "Sum"


@pytest.mark.parametrize("function", sorted(name for name, p in functions(_template()).items() if "DurableConfig" in p))
def test_a_durable_execution_that_fails_or_times_out_raises_its_functions_alarm(function: str) -> None:
    """Given a durable function, when one of its executions fails (DurableExecutionFailed) or times out
    (DurableExecutionTimedOut), then one alarm fires: their sum, each filled with 0 where it has no data point,
    so that one reporting alone still counts."""
    metrics = {
        metric: _alarms_on("AWS/Lambda", metric, {"FunctionName": {"Ref": function}})
        for metric in DURABLE_FAILURE_METRICS
    }
    alarms = {watched.alarm for found in metrics.values() for watched in found}

    assert all(len(found) == 1 for found in metrics.values()), f"{function}: {metrics}"
    assert len(alarms) == 1, f"{function}: failures and timeouts are watched by {sorted(alarms)}, expected one alarm"
    queries = _alarms()[alarms.pop()]["Metrics"]
    ids = {q["MetricStat"]["Metric"]["MetricName"]: q["Id"] for q in queries if "MetricStat" in q}
    returned = [q for q in queries if q.get("ReturnData", True)]
    assert len(returned) == 1, f"{function}: the alarm must return one time series"
    assert (
        returned[0].get("Expression")
        == f"FILL({ids['DurableExecutionFailed']}, 0) + FILL({ids['DurableExecutionTimedOut']}, 0)"
    )
    assert all(w.statistic == "Sum" for found in metrics.values() for w in found)
