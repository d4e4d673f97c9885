"""Reward configuration: mode and weights (defaults documented in spec/decisions/rewards_nissa.md)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from esper.leyline import LifecycleOp
from esper.leyline.defaults import DEFAULT_GAMMA, GOVERNOR_PENALTY

#: Reward modes: ``"growth"`` (issue 10: growth pays when it improves the final result, per parameter added;
#: spec/decisions/reward.md), ``"shaped"`` (the first design, DEC.rewards_nissa.3) and ``"sparse"`` (terminal +
#: governor penalty only).
REWARD_MODES: tuple[str, ...] = ("shaped", "sparse", "growth")

#: Weights that must be finite and >= 0 (costs and penalties are magnitudes; the reward subtracts them).
_NON_NEGATIVE = (
    "contribution_weight",
    "contribution_clip",
    "proxy_weight",
    "shaping_weight",
    "rent_weight",
    "wait_cost",
    "germinate_cost",
    "cull_cost",
    "fossilize_cost",
    "invalid_penalty",
    "auto_cull_penalty",
    "governor_penalty",
    "terminal_accuracy_weight",
    "fossilized_bonus",
    "param_price_points",
)


@dataclass(frozen=True, slots=True)
class RewardConfig:
    """How :func:`~esper.simic.rewards.compute_reward` turns a step into a reward.

    Accuracy is in percentage points. Costs and penalties are non-negative magnitudes that are subtracted.
    """

    mode: str = "shaped"
    contribution_weight: float = 0.1
    """Reward per accuracy point of the acted-on seed's counterfactual contribution."""
    contribution_clip: float = 10.0
    """The contribution is clipped to ``[-clip, clip]`` points before weighting."""
    proxy_weight: float = 0.02
    """Before a counterfactual exists (GERMINATED/TRAINING seed): reward per point of positive accuracy delta."""
    shaping_weight: float = 0.1
    """Scale of the stage potential (see :mod:`esper.simic.rewards.potentials`)."""
    gamma: float = DEFAULT_GAMMA
    """Discount of the potential-based shaping; must equal PPO's gamma for policy invariance."""
    rent_weight: float = 0.5
    """Parameter rent ``-rent_weight * log(1 + seed_params / host_params)`` per step."""
    wait_cost: float = 0.0
    germinate_cost: float = 0.02
    cull_cost: float = 0.01
    fossilize_cost: float = 0.0
    invalid_penalty: float = 0.1
    """Extra penalty when the chosen op could not be executed (it ran as WAIT and pays WAIT's cost)."""
    auto_cull_penalty: float = 0.2
    """Penalty per seed that the lifecycle culled on its own this epoch."""
    governor_penalty: float = -GOVERNOR_PENALTY
    """Penalty for a step that caused a governor rollback (magnitude of ``GOVERNOR_PENALTY``)."""
    terminal_accuracy_weight: float = 0.05
    """Terminal reward per point of final validation accuracy."""
    fossilized_bonus: float = 0.2
    """Terminal bonus per fossilized seed whose contribution is at least ``G5_MIN_CONTRIBUTION`` (not in ``growth``)."""
    param_price_points: float = 1.0
    """``growth`` mode: accuracy points the final model must gain per host-size of seed parameters it carries."""

    def __post_init__(self) -> None:
        if self.mode not in REWARD_MODES:
            raise ValueError(f"mode {self.mode!r} is unknown; valid: {list(REWARD_MODES)}")
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "mode":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{f.name} must be a float, got {type(value).__name__} {value!r}")
            if not math.isfinite(value):
                raise ValueError(f"{f.name} must be finite, got {value!r}")
            if f.name in _NON_NEGATIVE and value < 0:
                raise ValueError(f"{f.name} must be >= 0 (it is a magnitude), got {value!r}")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma!r}")

    def action_cost(self, op: LifecycleOp) -> float:
        """Cost (>= 0) of executing ``op``."""
        costs = {
            LifecycleOp.WAIT: self.wait_cost,
            LifecycleOp.GERMINATE: self.germinate_cost,
            LifecycleOp.CULL: self.cull_cost,
            LifecycleOp.FOSSILIZE: self.fossilize_cost,
        }
        if not isinstance(op, LifecycleOp):
            raise TypeError(f"op must be a LifecycleOp ({[o.name for o in LifecycleOp]}), got {op!r}")
        return costs[op]

    def to_dict(self) -> dict[str, str | float]:
        """Primitive dict (for ``config.json``)."""
        return dict(asdict(self))


__all__ = ["REWARD_MODES", "RewardConfig"]
