"""Small statistics for the study: mean with a Student-t 95 % confidence interval (no SciPy needed)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

#: Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom (standard tables).
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_quantile_975(df: int) -> float:
    """``t_{0.975, df}``: exact table for df <= 30, then the Cornish-Fisher expansion around 1.95996."""
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"df must be an int >= 1, got {df!r}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True, slots=True)
class MeanCI:
    """Mean of ``n`` values with the half-width of its 95 % t-interval (``half_width`` 0 for one value)."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def overlaps(self, other: MeanCI) -> bool:
        return self.low <= other.high and other.low <= self.high

    def to_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "low": self.low, "high": self.high}

    def __str__(self) -> str:
        return f"{self.mean:.1f} ± {self.half_width:.1f}"


def mean_ci(values: Sequence[float]) -> MeanCI:
    """Mean and 95 % Student-t interval half-width ``t_{0.975,n-1} · s / sqrt(n)`` (sample std ``s``)."""
    if not values:
        raise ValueError("values must be non-empty")
    n = len(values)
    mean = statistics.fmean(values)
    if n == 1:
        return MeanCI(mean, 0.0, 1)
    return MeanCI(mean, t_quantile_975(n - 1) * statistics.stdev(values) / math.sqrt(n), n)


__all__ = ["MeanCI", "mean_ci", "t_quantile_975"]
