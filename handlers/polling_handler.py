"""PollingFunction: starts a DMS replication task or Serverless replication and polls it until it finishes."""

from job_kinds.dms_inputs import dms_input
from waiting.entry_points.polling import polling_function

handler = polling_function(dms_input)
