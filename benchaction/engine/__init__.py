"""The load generator: closed- and open-loop users on asyncio Protocols and httptools."""

from benchaction.engine.loop import Progress
from benchaction.engine.plan import LoadPlan, plan_for, prepare_requests
from benchaction.engine.records import ErrorClass, Events, Flag, Phase, Records
from benchaction.engine.result import LoadResult, WorkerStats
from benchaction.engine.steady import (
    SteadyWarmup,
    Window,
    steady_after,
    warm_until_steady,
    warmup_record,
)
from benchaction.engine.trial_metrics import MIN_SAMPLES, trial_metrics
from benchaction.engine.workers import run_load

__all__ = [
    "MIN_SAMPLES",
    "ErrorClass",
    "Events",
    "Flag",
    "LoadPlan",
    "LoadResult",
    "Phase",
    "Progress",
    "Records",
    "SteadyWarmup",
    "Window",
    "WorkerStats",
    "plan_for",
    "prepare_requests",
    "run_load",
    "steady_after",
    "trial_metrics",
    "warm_until_steady",
    "warmup_record",
]
