"""Arrival schedules for open-loop load: seeded, reproducible, generated in blocks.

Block b of the schedule draws its gaps from a generator seeded with (seed, b), so the schedule
is the same whatever the block size a reader asks for, whichever worker reads it, and however
long the run: memory stays one block.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

__all__ = ["BLOCK", "arrival_offsets", "payload_block", "payload_indexes"]

BLOCK = 1 << 14
_NS = 1e9
_PAYLOAD_STREAM = 0x5EED


def _gaps(rate: float, distribution: str, seed: int, block: int) -> npt.NDArray[np.float64]:
    if distribution == "constant":
        return np.full(BLOCK, _NS / rate)
    rng = np.random.default_rng([seed, block])
    return rng.exponential(_NS / rate, BLOCK)


def arrival_offsets(rate: float, distribution: str, seed: int) -> Iterator[npt.NDArray[np.int64]]:
    """Arrival times in ns after the start, block after block: t_0 = 0, t_i = t_(i-1) + gap_i.

    Poisson gaps are exponential with mean 1/rate; constant gaps are exactly 1/rate.
    The running sum is kept in float64 from the start, so a block boundary adds no rounding.
    """
    base = 0.0
    block = 0
    while True:
        gaps = _gaps(rate, distribution, seed, block)
        if block == 0:
            gaps[0] = 0.0
        times = base + np.cumsum(gaps)
        base = float(times[-1])
        yield times.astype(np.int64)
        block += 1


def payload_indexes(n: int, order: str, seed: int, stream: int = 0) -> Iterator[int]:
    """Which prepared request each successive send uses: cycled in order, or sampled with a seed."""
    if n == 1:
        while True:
            yield 0
    if order == "cycle":
        i = 0
        while True:
            yield i
            i = i + 1 if i + 1 < n else 0
    block = 0
    while True:
        rng = np.random.default_rng([seed, _PAYLOAD_STREAM, stream, block])
        yield from rng.integers(0, n, BLOCK).tolist()
        block += 1


def payload_block(n: int, order: str, seed: int, block: int) -> npt.NDArray[np.int64]:
    """The request index of every arrival in schedule block `block` (global, so shards agree)."""
    if order == "cycle" or n == 1:
        return (np.arange(BLOCK, dtype=np.int64) + block * BLOCK) % n
    rng = np.random.default_rng([seed, _PAYLOAD_STREAM, block])
    return rng.integers(0, n, BLOCK).astype(np.int64)
