"""The load generator: closed-loop virtual users on asyncio Protocols and httptools."""

from benchaction.engine.closed_loop import LoadResult, Progress, run_closed_loop
from benchaction.engine.metrics import MIN_SAMPLES, trial_metrics
from benchaction.engine.plan import LoadPlan, plan_for, prepare_requests
from benchaction.engine.records import ErrorClass, Phase, Records

__all__ = [
    "MIN_SAMPLES",
    "ErrorClass",
    "LoadPlan",
    "LoadResult",
    "Phase",
    "Progress",
    "Records",
    "plan_for",
    "prepare_requests",
    "run_closed_loop",
    "trial_metrics",
]
