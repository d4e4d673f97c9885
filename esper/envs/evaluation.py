"""Evaluate an external policy on given host seeds (e.g. as one more row of a study next to Tamiyo).

A policy is any callable ``policy(obs, action_mask) -> action`` on :class:`~esper.envs.seed_env.SeedGymEnv`'s
spaces: ``obs`` float32 ``(23 + 18·slots,)``, ``action_mask`` bool ``(sum(nvec),)`` (per-head masks
concatenated in ``HEAD_NAMES`` order), ``action`` five ints in ``HEAD_NAMES`` order. :func:`masked_predictor`
adapts an sb3-contrib ``MaskablePPO`` (or any object with SB3's ``predict(obs, action_masks=..., deterministic=...)``).
Episode ``i`` runs on a host built from ``host_seeds[i]`` (``reset(seed=host_seeds[i])``), so two policies given the
same host seeds face the same hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from esper.envs.seed_env import Action, Observation, SeedGymEnv

ExternalPolicy = Callable[[Observation, NDArray[np.bool_]], Any]
"""``policy(obs, action_mask) -> action`` (array-like of five ints in ``HEAD_NAMES`` order)."""


class MaskedPredictor(Protocol):
    """What :func:`masked_predictor` needs: SB3's ``predict`` with sb3-contrib's ``action_masks`` keyword."""

    def predict(self, observation: Any, *, action_masks: Any = ..., deterministic: bool = ...) -> tuple[Any, Any]: ...


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    """One finished episode of an external policy (accuracies in percent)."""

    host_seed: int
    final_val_accuracy: float
    best_val_accuracy: float
    episode_return: float
    reward_components: dict[str, float] = field(default_factory=dict)
    """Sum over the episode of each reward component (and ``governor_penalty``, ``total``)."""
    seeds_germinated: int = 0
    seeds_fossilized: int = 0
    seeds_culled: int = 0
    rollbacks: int = 0
    actions_executed: int = 0
    """Steps whose action executed as chosen (the rest became WAIT)."""


def masked_predictor(model: MaskedPredictor, *, deterministic: bool = True) -> ExternalPolicy:
    """Adapt an SB3-style model with action masking (``MaskablePPO``) to an :data:`ExternalPolicy`."""

    def policy(obs: Observation, action_mask: NDArray[np.bool_]) -> Any:
        action, _ = model.predict(obs, action_masks=action_mask, deterministic=deterministic)
        return action

    return policy


def evaluate_external_policy(
    policy: ExternalPolicy, host_seeds: Sequence[int], env: SeedGymEnv | None = None, **env_kwargs: Any
) -> list[EpisodeResult]:
    """Run one episode of ``policy`` per host seed; returns the results in ``host_seeds`` order.

    ``env`` (optional) is reused; otherwise a :class:`SeedGymEnv` is built from ``env_kwargs`` (``task``,
    ``max_epochs``, ``max_seeds``, ``reward_mode``, ``data_dir``, ``device``). Raises ``TypeError`` for a
    non-callable policy, ``ValueError`` for an empty or invalid seed list, an action outside the action space,
    or ``env`` together with ``env_kwargs``.
    """
    if not callable(policy):
        raise TypeError(f"policy must be callable as policy(obs, action_mask) -> action, got {type(policy).__name__}")
    seeds = list(host_seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"host_seeds must be a non-empty sequence of ints >= 0, got {host_seeds!r}")
    if env is not None and env_kwargs:
        raise ValueError(f"pass either env or env_kwargs, not both (got env and {sorted(env_kwargs)})")
    gym_env = env if env is not None else SeedGymEnv(**env_kwargs)
    results: list[EpisodeResult] = []
    for host_seed in seeds:
        obs, info = gym_env.reset(seed=host_seed)
        totals: dict[str, float] = {}
        executed = 0
        terminated = truncated = False
        while not (terminated or truncated):
            action: Action = np.asarray(policy(obs, gym_env.action_masks()), dtype=np.int64).reshape(-1)
            obs, _, terminated, truncated, info = gym_env.step(action)
            executed += int(info["executed"])
            for name, value in info["reward_components"].items():
                totals[name] = totals.get(name, 0.0) + float(value)
        stats = gym_env.env.stats
        results.append(
            EpisodeResult(
                host_seed=host_seed,
                final_val_accuracy=float(info["val_accuracy"]),
                best_val_accuracy=float(gym_env.env.signals.best_val_accuracy),
                episode_return=totals.get("total", 0.0),
                reward_components=totals,
                seeds_germinated=stats.seeds_germinated,
                seeds_fossilized=stats.seeds_fossilized,
                seeds_culled=stats.seeds_culled,
                rollbacks=stats.rollbacks,
                actions_executed=executed,
            )
        )
    return results


__all__ = ["EpisodeResult", "ExternalPolicy", "MaskedPredictor", "evaluate_external_policy", "masked_predictor"]
