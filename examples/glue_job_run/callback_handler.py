"""GlueCallbackFunction: claims a Glue job, starts a run and waits for its event with a durable callback."""

from glue_job_run.work import job_run_input
from waiting.entry_points.callback import callback_function

handler = callback_function(job_run_input)
