"""Gymnasium environments (optional extra ``esper[gym]``, needs ``gymnasium``).

Importing this package registers ``esper/SeedEnv-v0``::

    import gymnasium
    import esper.envs  # registers the id

    env = gymnasium.make("esper/SeedEnv-v0", task="digits_blind", max_epochs=25)
    obs, info = env.reset(seed=7)          # seed 7 = the host seed
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

(``gymnasium.make("esper.envs:esper/SeedEnv-v0")`` imports and registers in one call.) See
:mod:`esper.envs.seed_env` for the spaces, reward, masks and seeding, and :func:`evaluate_external_policy` to
score an external agent on given host seeds.
"""

from __future__ import annotations

try:
    import gymnasium
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("esper.envs needs gymnasium: pip install 'esper[gym]'") from exc

from esper.envs.evaluation import (
    EpisodeResult,
    ExternalPolicy,
    MaskedPredictor,
    evaluate_external_policy,
    masked_predictor,
)
from esper.envs.seed_env import HOST_SEED_BOUND, SeedGymEnv

ENV_ID = "esper/SeedEnv-v0"
"""Gymnasium id of :class:`SeedGymEnv`."""

if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="esper.envs.seed_env:SeedGymEnv")

__all__ = [
    "ENV_ID",
    "HOST_SEED_BOUND",
    "EpisodeResult",
    "ExternalPolicy",
    "MaskedPredictor",
    "SeedGymEnv",
    "evaluate_external_policy",
    "masked_predictor",
]
