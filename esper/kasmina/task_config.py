"""Per-task settings that Kasmina's lifecycle reads (topology, ramp fallback, episode length)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from esper.leyline import check_topology
from esper.leyline.validation import check_int
from esper.leyline.defaults import (
    DEFAULT_BLENDING_TOTAL_STEPS,
    DEFAULT_MAX_EPOCHS,
    PROBATION_FRACTION_OF_EPISODE,
    PROBATION_MIN_EPOCHS,
)


def probation_timeout_epochs(max_epochs: int = DEFAULT_MAX_EPOCHS) -> int:
    """Epochs a seed may stay undecided in PROBATIONARY: ``max(5, ceil(10% of max_epochs))``."""
    check_int("max_epochs", max_epochs, low=1)
    # The tiny epsilon keeps float noise (0.1 * 30 = 3.0000000000000004) from rounding up.
    fraction = math.ceil(max_epochs * PROBATION_FRACTION_OF_EPISODE - 1e-9)
    return max(PROBATION_MIN_EPOCHS, fraction)


@dataclass(frozen=True, slots=True)
class TaskConfig:
    """Task settings seen by slots.

    ``topology`` selects blueprints and gradient isolation, ``blending_steps`` is the ramp length used only when
    no tempo was stored at germination, ``max_epochs`` is the episode length (sets the probation timeout).
    """

    topology: str = "cnn"
    blending_steps: int = DEFAULT_BLENDING_TOTAL_STEPS
    max_epochs: int = DEFAULT_MAX_EPOCHS

    def __post_init__(self) -> None:
        if not isinstance(self.topology, str):
            raise TypeError(f"topology must be a str, got {type(self.topology).__name__}")
        check_topology(self.topology)
        check_int("blending_steps", self.blending_steps, low=1)
        check_int("max_epochs", self.max_epochs, low=1)

    @property
    def probation_timeout(self) -> int:
        """Probation timeout in epochs for this task's episode length."""
        return probation_timeout_epochs(self.max_epochs)


__all__ = ["TaskConfig", "probation_timeout_epochs"]
