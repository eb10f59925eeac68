"""What a person sees while a benchmark runs: where the run stands among its planned phases and
when it should end, live on a terminal and as plain lines in CI logs."""

from benchaction.progress.display import ProgressDisplay
from benchaction.progress.eta import (
    Phase,
    PhaseClock,
    Remaining,
    format_eta,
    plan_phases,
    remaining_s,
)

__all__ = [
    "Phase",
    "PhaseClock",
    "ProgressDisplay",
    "Remaining",
    "format_eta",
    "plan_phases",
    "remaining_s",
]
