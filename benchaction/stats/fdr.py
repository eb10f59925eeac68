"""Benjamini-Hochberg control of the false discovery rate across all tests of one comparison."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

__all__ = ["bh_adjust"]


def bh_adjust(p_values: Sequence[float]) -> list[float]:
    """BH-adjusted p-values (q-values): q_(i) = min over j >= i of m/j * p_(j), capped at 1."""
    if not p_values:
        return []
    adjusted = stats.false_discovery_control(np.asarray(p_values, dtype=float), method="bh")
    return [float(q) for q in adjusted]
