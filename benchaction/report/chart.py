"""Geometry of the dashboard's server-rendered SVG charts: scales, ticks, paths and markers.

The page's script (assets/dashboard.js) repeats `nice_ticks` and the y mapping when a filter
hides runs, so both must stay in step; the numbers here are what a reader sees without script.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Frame", "nice_ticks", "polyline", "x_ticks"]

_MANTISSAS = (1.0, 2.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Frame:
    """The plot area inside an SVG viewBox, and the number of runs spread along x."""

    width: int = 640
    height: int = 230
    left: int = 58
    right: int = 14
    top: int = 26
    bottom: int = 40
    runs: int = 1

    @property
    def y_top(self) -> int:
        return self.top

    @property
    def y_bottom(self) -> int:
        return self.height - self.bottom

    def x(self, run: int) -> float:
        """The x of the run-th run of a config (runs are equally spaced, oldest left)."""
        span = self.width - self.left - self.right
        if self.runs <= 1:
            return self.left + span / 2
        return round(self.left + span * run / (self.runs - 1), 1)

    def y(self, value: float, lo: float, hi: float) -> float:
        """The y of a value on a y axis running from lo (bottom) to hi (top)."""
        frac = (value - lo) / (hi - lo)
        return round(self.y_bottom - frac * (self.y_bottom - self.y_top), 1)


def nice_ticks(lo: float, hi: float, target: int = 5) -> tuple[list[float], int]:
    """Round tick values covering [lo, hi] (about `target` of them) and their decimals.

    The axis runs from the first to the last tick, so the data never touches the frame edge
    without a labelled gridline there.
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"chart values must be finite numbers, got the range {lo!r}..{hi!r}")
    if hi - lo <= 1e-9 * max(abs(lo), abs(hi), 1e-9):  # flat, or too close to tell apart
        pad = abs(lo) * 0.05 or 1.0
        lo, hi = (lo - pad if lo - pad >= 0 or lo < 0 else 0.0), hi + pad  # a flat 0 % stays >= 0
    raw = (hi - lo) / (target - 1)
    exp = math.floor(math.log10(raw))
    mag = 10.0**exp
    mantissa = next(m for m in _MANTISSAS if m * mag >= raw * (1 - 1e-9))
    step = mantissa * mag
    start = math.floor(lo / step + 1e-9) * step
    count = math.ceil((hi - start) / step - 1e-9)
    ticks = [start + i * step for i in range(count + 1)]
    if mantissa == 10.0:
        decimals = max(0, -(exp + 1))
    elif mantissa == 2.5:
        decimals = max(0, 1 - exp)
    else:
        decimals = max(0, -exp)
    return ticks, decimals


def x_ticks(runs: int, most: int = 6) -> list[int]:
    """Run indices to label on the x axis: the first, the last and evenly spaced between."""
    if runs <= most:
        return list(range(runs))
    step = (runs - 1) / (most - 1)
    return sorted({round(i * step) for i in range(most)})


def polyline(coords: Sequence[tuple[float, float]]) -> str:
    """An SVG `points` attribute for a line through the coordinates."""
    return " ".join(f"{x:g},{y:g}" for x, y in coords)
