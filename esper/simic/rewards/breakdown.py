"""The reward of one step, one named field per component; ``total`` is their sum."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

from esper.leyline.validation import check_float

#: Component names in field order (telemetry keys ``reward_<name>``).
REWARD_COMPONENTS: tuple[str, ...] = (
    "contribution",
    "stage_shaping",
    "param_rent",
    "action_cost",
    "invalid_penalty",
    "auto_cull_penalty",
    "governor_penalty",
    "terminal",
)


REWARD_COMPONENT_LIMIT = 1.0e12
"""Largest magnitude of one component: finite components within it always sum to a finite ``total``
(issue 13: ``1e308 + 1e308`` would be inf)."""


@dataclass(frozen=True, slots=True)
class RewardBreakdown:
    """Reward components of one step (signed: costs and penalties are <= 0)."""

    contribution: float = 0.0
    stage_shaping: float = 0.0
    param_rent: float = 0.0
    action_cost: float = 0.0
    invalid_penalty: float = 0.0
    auto_cull_penalty: float = 0.0
    governor_penalty: float = 0.0
    terminal: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = check_float(
                f"reward component {f.name}", getattr(self, f.name), low=-REWARD_COMPONENT_LIMIT, high=REWARD_COMPONENT_LIMIT
            )
            object.__setattr__(self, f.name, value)

    @property
    def total(self) -> float:
        """Sum of all components."""
        return float(sum(self.components()))

    def components(self) -> tuple[float, ...]:
        """Component values in :data:`REWARD_COMPONENTS` order."""
        return tuple(float(v) for v in astuple(self))

    def to_dict(self) -> dict[str, float]:
        """``{component: value, ..., "total": sum}``."""
        out = dict(zip(REWARD_COMPONENTS, self.components(), strict=True))
        out["total"] = self.total
        return out

    def __add__(self, other: object) -> RewardBreakdown:
        """Component-wise sum (e.g. an episode's return per component)."""
        if not isinstance(other, RewardBreakdown):
            return NotImplemented
        return RewardBreakdown(*(a + b for a, b in zip(self.components(), other.components(), strict=True)))


__all__ = ["REWARD_COMPONENTS", "REWARD_COMPONENT_LIMIT", "RewardBreakdown"]
