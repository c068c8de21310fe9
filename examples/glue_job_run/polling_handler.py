"""GluePollingFunction: starts a Glue job run and polls it with wait_for_condition until it ends."""

from glue_job_run.work import job_run_input
from waiting.entry_points.polling import polling_function

handler = polling_function(job_run_input)
