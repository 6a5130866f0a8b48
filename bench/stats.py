"""Small, strict statistics: a figure from no samples is an error, never a zero."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


class NoSamples(ValueError):
    """A measurement produced nothing to summarise."""


def _checked(samples: Sequence[float]) -> Sequence[float]:
    if not samples:
        raise NoSamples("no samples")
    return samples


def median(samples: Sequence[float]) -> float:
    return float(statistics.median(_checked(samples)))


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(_checked(samples))
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def ratio(subject: Sequence[float], baseline: Sequence[float], q: float = 50) -> float:
    """subject's percentile over baseline's: how many floors the subject costs."""
    floor = percentile(baseline, q)
    if floor <= 0:
        raise NoSamples("baseline is zero")
    return percentile(subject, q) / floor
