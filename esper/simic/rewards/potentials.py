"""Potential-based shaping on the lifecycle stage (Ng, Harada & Russell 1999).

The potential of a state is the sum over slots of a per-stage potential ``phi``:

* ``phi`` is 0 for an empty slot and for every stage that leads back to one (DORMANT, CULLED, EMBARGOED,
  RESETTING, UNKNOWN), and positive and increasing along the productive path
  GERMINATED < TRAINING < BLENDING < PROBATIONARY < FOSSILIZED.
* Shaping ``F = gamma * Phi(s') - Phi(s)``; at the end of an episode ``Phi(s') = 0``.

Because ``phi >= 0`` and ``phi = 0`` for every empty or cooling-down slot, a germinate -> ... -> cull cycle
(whatever it passes through) earns cumulative shaping ``<= 0`` for any discount ``gamma_eval`` in
``[gamma, 1]``: the sum telescopes to ``(gamma - gamma_eval) * sum(gamma_eval^(t-1) Phi_t) + gamma_eval^(T-1)
gamma Phi_T - Phi_0``, where ``Phi_0 = Phi_T = 0`` and the middle terms are ``<= 0``. The cull step itself
hands back all shaping the seed had earned (``F = -phi(stage)``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from esper.leyline import SeedStage, SeedStateReport

#: Per-slot potential of each lifecycle stage (before ``shaping_weight``).
STAGE_POTENTIALS: Mapping[SeedStage, float] = MappingProxyType(
    {
        SeedStage.UNKNOWN: 0.0,
        SeedStage.DORMANT: 0.0,
        SeedStage.GERMINATED: 1.0,
        SeedStage.TRAINING: 2.0,
        SeedStage.BLENDING: 3.0,
        SeedStage.PROBATIONARY: 4.0,
        SeedStage.FOSSILIZED: 5.0,
        SeedStage.CULLED: 0.0,
        SeedStage.EMBARGOED: 0.0,
        SeedStage.RESETTING: 0.0,
    }
)


def stage_potential(stage: SeedStage | None) -> float:
    """``phi(stage)``; ``None`` (empty slot) has potential 0."""
    if stage is None:
        return 0.0
    if not isinstance(stage, SeedStage):
        raise TypeError(f"stage must be a SeedStage or None, got {stage!r}; valid: {[s.name for s in SeedStage]}")
    return STAGE_POTENTIALS[stage]


def slots_potential(slots: Sequence[SeedStateReport | None]) -> float:
    """``Phi(s)``: the sum of stage potentials over all slots (``None`` = empty slot)."""
    return sum(stage_potential(None if report is None else report.stage) for report in slots)


def shaping_term(phi_before: float, phi_after: float, gamma: float, *, terminal: bool = False) -> float:
    """``F = gamma * Phi(s') - Phi(s)`` with ``Phi(s') = 0`` when ``terminal``."""
    return gamma * (0.0 if terminal else phi_after) - phi_before


__all__ = ["STAGE_POTENTIALS", "shaping_term", "slots_potential", "stage_potential"]
