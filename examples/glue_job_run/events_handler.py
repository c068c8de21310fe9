"""GlueEventsFunction: a Glue job run ended; complete the callback of the execution waiting for its job."""

from glue_job_run.work import glue_event_sources
from waiting.entry_points.completer import completer_function

handler = completer_function(glue_event_sources)
