"""The comparison, the main job: scenario matrix, measurements, cost model, modelled Step Functions, reports."""
