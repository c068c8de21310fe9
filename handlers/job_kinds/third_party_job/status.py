"""The third party's job status document: how its words are classified.

By this project's contract (``jobs_api.py``) the third party reports its job in DMS's words (``Status``,
``StopReason``), so its outcome is DMS's rule. A third party with another vocabulary changes this one function.
"""

from __future__ import annotations

from job_kinds.dms_task.rules import classify_task_state
from waiting.domain import WorkOutcome


def classify_job_status(status: str, stop_reason: str | None) -> WorkOutcome:
    return classify_task_state(status, stop_reason)
