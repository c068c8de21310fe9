"""DMS Serverless's words, read once: replication config ARNs, start types, the input, and what each status means.

A replication reports the same StopReason words as a task (botocore's model lists them for both), so the rule for
an error stop reason is the task's (``job_kinds.dms_task.rules.is_error_stop_reason``): one edit changes both.
Statuses are the API's spelling (terraform-provider-aws ``internal/service/dms/consts.go``): ``created`` before the
first run, seven provisioning phases (``initializing`` ... ``replication_starting``) before data moves, then
``running``, ``stopping``, ``stopped``, ``failed``.
"""

from __future__ import annotations

import re

from job_kinds.dms_task.rules import is_error_stop_reason, parse_dms_arn, parse_start_type, reject_unknown_fields
from waiting.domain import WorkOutcome, WorkRequest, WorkSnapshot
from waiting.errors import InvalidInputError

CONFIG_ARN_FIELD = "ReplicationConfigArn"
START_TYPE_FIELD = "StartReplicationType"
# Partition, region and account are checked; the resource id is whatever DMS generated (a recreated config's ARN ends
# in a generated resource id, not its identifier).
_CONFIG_ARN_PATTERN = re.compile(
    r"^arn:aws(-[a-z]+)*:dms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:replication-config:[A-Za-z0-9-]{1,255}$"
)

# The phases after an accepted StartReplication and before data moves (DMS User Guide, "AWS DMS Serverless
# components"): minutes to tens of minutes in which nothing is loaded. A wait keeps waiting through them.
PROVISIONING_STATUSES = frozenset(
    {
        "initializing",
        "preparing_metadata_resources",
        "testing_connection",
        "fetching_metadata",
        "calculating_capacity",
        "provisioning_capacity",
        "replication_starting",
    }
)
# DMS accepts StartReplication only from these (Apache Airflow's Amazon provider starts from them; "created" for a
# first run). A stopped replication that is deprovisioning its capacity refuses a start until that ends.
_STARTABLE_STATUSES = frozenset({"created", "stopped", "failed"})
# What DMS shows once it accepted a start and the run is under way: every provisioning phase, then the run itself.
_RUN_UNDER_WAY_STATUSES = PROVISIONING_STATUSES | {"running", "stopping"}


def parse_replication_config_arn(value: object, field: str = CONFIG_ARN_FIELD) -> str:
    """Return ``value`` if it is a DMS Serverless replication config ARN; otherwise raise naming ``field``."""
    return parse_dms_arn(
        value,
        field,
        _CONFIG_ARN_PATTERN,
        "DMS Serverless replication config ARN (arn:aws:dms:REGION:ACCOUNT:replication-config:ID)",
    )


def parse_replication_start_type(event: dict[str, object]) -> str:
    """StartReplication's ``StartReplicationType``: the task's three start types under the replication's field
    (botocore's model: only ``start-replication`` on a first run; ``resume-processing`` does not apply to full-load,
    which DMS refuses, not this parser)."""
    return parse_start_type(event, START_TYPE_FIELD)


def parse_replication_request(event: object) -> WorkRequest:
    """The replication input ``{"ReplicationConfigArn", "StartReplicationType"}``; errors name the field."""
    if not isinstance(event, dict):
        raise InvalidInputError(f"input must be a JSON object, got {type(event).__name__}")
    if CONFIG_ARN_FIELD not in event:
        raise InvalidInputError(f"{CONFIG_ARN_FIELD} is required")
    arn = parse_replication_config_arn(event[CONFIG_ARN_FIELD])
    start_type = parse_replication_start_type(event)
    reject_unknown_fields(event, {CONFIG_ARN_FIELD, START_TYPE_FIELD})
    return WorkRequest(key=arn, start_type=start_type, key_field=CONFIG_ARN_FIELD, start_type_field=START_TYPE_FIELD)


def classify_replication_state(status: str, stop_reason: str | None) -> WorkOutcome:
    """Is the replication's run done, and did it work?

    ``failed`` failed; ``stopped`` succeeded unless its stop reason names an error; every other status, the
    provisioning phases included, is a run still under way. An unknown status counts as running, as for a task:
    waiting (bounded by the maximum total wait) is safer than finishing a migration on a word we do not know.
    """
    normalized = status.strip().lower()
    if normalized == "failed":
        return WorkOutcome.FAILED
    if normalized == "stopped":
        return WorkOutcome.FAILED if is_error_stop_reason(stop_reason) else WorkOutcome.SUCCEEDED
    return WorkOutcome.RUNNING


def is_startable(snapshot: WorkSnapshot) -> bool:
    """Whether DMS would accept StartReplication for the replication in this state."""
    return snapshot.status.strip().lower() in _STARTABLE_STATUSES


def run_under_way(snapshot: WorkSnapshot) -> bool:
    """Whether DMS shows a run in progress (a start it accepted, provisioning or loading, not yet finished)."""
    return snapshot.status.strip().lower() in _RUN_UNDER_WAY_STATUSES
