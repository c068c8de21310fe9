"""ThirdPartyJobFunction: a third party runs the migration and calls back a signed URL; wait with a durable callback."""

from job_kinds.third_party_job.work import third_party_input
from waiting.domain import Variant
from waiting.entry_points.callback import callback_function

handler = callback_function(third_party_input, Variant.THIRD_PARTY)
