"""DmsEventsFunction: a DMS task or Serverless replication stopped or failed; complete its waiting callback."""

from job_kinds.dms_event_sources import dms_event_sources
from waiting.entry_points.completer import completer_function

handler = completer_function(dms_event_sources)
