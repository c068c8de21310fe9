"""The Lambda handlers every kind of work needs, one module each, built from the kind's input function or events.

An entry module is then one line: ``handler = polling_function(my_input)``. ``my_input`` turns the execution input
into the request and the work it names (raising ``InvalidInputError`` naming the field, before any AWS call); it runs
on every invocation (replays included), so it builds clients lazily and calls nothing. Each builder sits in its own
module so that a function imports only the adapters it uses (its IAM policy is checked against what it can reach).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from waiting.domain import WorkRequest
    from waiting.work_start import WaitedWork

InputParser = Callable[[Any], tuple["WorkRequest", "WaitedWork"]]
DurableHandler = Callable[[Any, Any], Any]
