"""CallbackFunction: claims a DMS replication task or Serverless replication, starts it and waits for its event."""

from job_kinds.dms_inputs import dms_input
from waiting.entry_points.callback import callback_function

handler = callback_function(dms_input)
