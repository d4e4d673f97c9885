"""``esper/SeedEnv-v0``: Esper's seed environment behind the Gymnasium API, for agents from other RL libraries.

One episode = one freshly initialised host trained for ``max_epochs`` epochs; one step = one epoch's decision.
It wraps :class:`esper.simic.training.environment.SeedEnv`, the environment Tamiyo trains on, so the transition,
the reward and the masks are exactly Tamiyo's:

- ``reset(seed=s)`` builds the host from torch seed ``s`` (weights and minibatch order, as
  ``SeedEnv.reset(seed=s)``), trains its first epoch and returns the observation. ``s`` is the **host seed**: two
  agents evaluated with the same ``s`` face the same host. Without a seed, the host seed is drawn from
  ``self.np_random``. ``info["host_seed"]`` reports it.
- ``step(action)`` executes the action (or WAIT when it cannot execute now: ``info["executed"]`` is then False and
  ``info["reason"]`` says why), advances every slot's lifecycle, computes the reward, then trains the next epoch.
  A governor rollback during that epoch adds its penalty to this step's reward (the action caused it), as in
  ``esper train``.
- ``terminated`` is True on the step that completes epoch ``max_epochs``; ``truncated`` is always False.

Spaces (``slots`` = the task host's slot count, 3 for the built-in tasks):

- action: ``MultiDiscrete([slots, NUM_BLUEPRINTS, NUM_BLENDS, NUM_TEMPO, NUM_OPS])``, one entry per head in
  :data:`esper.leyline.HEAD_NAMES` order (``slot, blueprint, blend, tempo, op``);
- observation: ``Box`` float32 of ``BASE_FEATURE_SIZE + slots * SLOT_FEATURE_SIZE`` = 23 + 18·slots features
  (:func:`esper.tamiyo.policy.features.observation_layout` names them), bounded by their declared bounds; raw,
  not normalised (Tamiyo normalises them with a running mean/std);
- :meth:`SeedGymEnv.action_masks`: sb3-contrib ``MaskablePPO``'s convention for ``MultiDiscrete``, the per-head
  bool masks concatenated in head order (length ``sum(nvec)``).

Torch randomness is isolated: the env keeps its own torch RNG state, so an agent drawing from torch's global
RNG between steps neither changes the host's training nor is reseeded by ``reset``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from numpy.typing import NDArray

from esper.data import build_host, load_task
from esper.kasmina.task_config import check_positive_int
from esper.leyline import HEAD_NAMES, FactoredAction, head_sizes
from esper.leyline.defaults import DEFAULT_MAX_EPOCHS, DEFAULT_MAX_SEEDS
from esper.simic.rewards import REWARD_MODES, RewardConfig
from esper.simic.training.environment import SeedEnv
from esper.tamiyo.policy.action_masks import compute_action_masks
from esper.tamiyo.policy.features import feature_bounds, observation_values

Observation = NDArray[np.float32]
Action = NDArray[np.int64]

HOST_SEED_BOUND = 2**31 - 1
"""Host seeds drawn by an unseeded ``reset()`` lie in ``[0, HOST_SEED_BOUND)``."""


class SeedGymEnv(gym.Env[Observation, Action]):
    """Gymnasium view of one :class:`~esper.simic.training.environment.SeedEnv` (see the module docstring).

    Args:
        task: a task name of :func:`esper.data.load_task` (``digits_blind``, ``digits``, ``text``, ``cifar10``...).
        max_epochs: epochs per episode (= steps per episode).
        max_seeds: germinations allowed per episode (the GERMINATE mask closes after that many).
        reward_mode: ``"shaped"`` or ``"sparse"`` (:data:`esper.simic.rewards.REWARD_MODES`).
        data_dir: dataset folder for tasks that need one (``cifar10``); nothing is downloaded.
        device: where the host trains.
        render_mode: only ``None`` (nothing to render).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        task: str = "digits_blind",
        max_epochs: int = DEFAULT_MAX_EPOCHS,
        max_seeds: int = DEFAULT_MAX_SEEDS,
        reward_mode: str = "shaped",
        data_dir: str | None = None,
        device: str | torch.device = "cpu",
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(task, str):
            raise TypeError(f"task must be a task name (str), got {type(task).__name__}")
        check_positive_int("max_epochs", max_epochs)
        check_positive_int("max_seeds", max_seeds)
        if reward_mode not in REWARD_MODES:
            raise ValueError(f"reward_mode {reward_mode!r} is unknown; valid: {list(REWARD_MODES)}")
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r} is not supported; valid: [None]")
        self.render_mode = render_mode
        self.device = torch.device(device)
        self.task = load_task(task, data_dir=data_dir, device=self.device)
        self.env = SeedEnv(
            0,
            self.task,
            max_epochs=max_epochs,
            max_seeds=max_seeds,
            reward_config=RewardConfig(mode=reward_mode),
            device=self.device,
        )
        with torch.random.fork_rng(devices=[]):  # building a throwaway host must not move the caller's RNG
            self.num_slots = len(build_host(self.task).injection_dims)
        self.head_sizes = head_sizes(self.num_slots)
        low, high = feature_bounds(self.num_slots)
        self.observation_space = spaces.Box(low=low.numpy(), high=high.numpy(), dtype=np.float32)
        self.action_space = spaces.MultiDiscrete(
            np.array([self.head_sizes[name] for name in HEAD_NAMES], dtype=np.int64), dtype=np.int64
        )
        self.host_seed: int | None = None
        self._torch_state: torch.Tensor | None = None
        self._cuda_state: torch.Tensor | None = None

    # --- Gymnasium API ---------------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Observation, dict[str, Any]]:
        """Start an episode on a fresh host built from ``seed`` (the host seed); returns ``(obs, info)``.

        ``info``: ``host_seed``, ``epoch`` (0), ``val_accuracy`` (percent, after the first epoch).
        """
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed must be an int >= 0 or None, got {seed!r}")
        super().reset(seed=seed)
        host_seed = seed if seed is not None else int(self.np_random.integers(HOST_SEED_BOUND))
        self.host_seed = host_seed
        self._torch_state = None
        with self._env_rng(fresh_seed=host_seed):
            self.env.reset(seed=host_seed, context={"host_seed": host_seed})
            if len(self.env.model.slot_ids) != self.num_slots:
                raise ValueError(
                    f"task {self.task.spec.name!r} builds {len(self.env.model.slot_ids)} slots, "
                    f"the spaces were sized for {self.num_slots}"
                )
            self.env.train_and_measure()
        return self._observation(), {"host_seed": host_seed, "epoch": 0, "val_accuracy": self.env.signals.val_accuracy}

    def step(self, action: Action) -> tuple[Observation, SupportsFloat, bool, bool, dict[str, Any]]:
        """Act for this epoch; returns ``(obs, reward, terminated, truncated, info)``.

        ``info``: ``reward_components`` (each component of the reward, their ``total``, and ``governor_penalty``),
        ``val_accuracy`` (percent, after the next epoch's training; the final accuracy on the last step),
        ``executed`` and ``reason``, ``epoch`` (epochs completed), ``host_seed``.
        """
        if self.host_seed is None:
            raise RuntimeError("reset() must be called before step()")
        if self.env.epoch >= self.env.max_epochs:
            raise RuntimeError("the episode has terminated; call reset() before step()")
        factored = self._factored(action)
        with self._env_rng():
            outcome = self.env.step(factored)
            terminated = self.env.epoch >= self.env.max_epochs
            penalty = 0.0
            if not terminated:
                rollback = self.env.train_and_measure()
                if rollback is not None:
                    penalty = rollback.penalty
                    stats = self.env.stats
                    stats.episode_return += penalty
                    stats.reward_components["governor_penalty"] = (
                        stats.reward_components.get("governor_penalty", 0.0) + penalty
                    )
        components = outcome.reward.to_dict()
        components["governor_penalty"] = penalty
        components["total"] = outcome.reward.total + penalty
        info: dict[str, Any] = {
            "reward_components": components,
            "val_accuracy": self.env.signals.val_accuracy,
            "executed": outcome.executed,
            "reason": outcome.reason,
            "epoch": self.env.epoch,
            "host_seed": self.host_seed,
        }
        return self._observation(), float(components["total"]), terminated, False, info

    def action_masks(self) -> NDArray[np.bool_]:
        """Valid actions now: per-head masks in ``HEAD_NAMES`` order, concatenated (``(sum(nvec),)`` bool).

        sb3-contrib's ``MaskablePPO`` reads this through ``env_method("action_masks")``.
        """
        if self.host_seed is None:
            raise RuntimeError("reset() must be called before action_masks()")
        masks = compute_action_masks(
            self.env.slot_reports,
            topology=self.task.spec.topology,
            seeds_germinated=self.env.seeds_germinated,
            max_seeds=self.env.max_seeds,
        )
        return np.concatenate([masks[name].numpy() for name in HEAD_NAMES]).astype(np.bool_)

    def render(self) -> None:
        """Nothing to render (``render_mode`` is always None)."""
        return None

    # --- internals -------------------------------------------------------------------------------------
    def _observation(self) -> Observation:
        return np.asarray(observation_values(self.env.signals, self.env.slot_reports), dtype=np.float32)

    def _factored(self, action: Action) -> FactoredAction:
        array = np.asarray(action)
        if array.shape != (len(HEAD_NAMES),) or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"action must be {len(HEAD_NAMES)} integers in HEAD_NAMES order {list(HEAD_NAMES)}, "
                f"got {array.dtype} {array.shape}"
            )
        if action not in self.action_space:
            raise ValueError(f"action {array.tolist()} is outside {self.action_space} ({list(HEAD_NAMES)})")
        return FactoredAction.from_indices(*(int(i) for i in array), num_slots=self.num_slots)

    @contextmanager
    def _env_rng(self, fresh_seed: int | None = None) -> Iterator[None]:
        """Run with the env's own torch RNG state (seeded from ``fresh_seed``), leaving the caller's untouched."""
        cuda = self.device.type == "cuda"
        with torch.random.fork_rng(devices=[self.device] if cuda else []):
            if fresh_seed is not None:
                torch.manual_seed(fresh_seed)
            elif self._torch_state is not None:
                torch.set_rng_state(self._torch_state)
                if cuda and self._cuda_state is not None:
                    torch.cuda.set_rng_state(self._cuda_state, self.device)
            yield
            self._torch_state = torch.get_rng_state()
            self._cuda_state = torch.cuda.get_rng_state(self.device) if cuda else None


__all__ = ["HOST_SEED_BOUND", "SeedGymEnv"]
