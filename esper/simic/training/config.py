"""Configuration of a training run (PPO, heuristic or no-growth baseline)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, get_args

from esper.data import task_names
from esper.leyline import TempoAction
from esper.leyline.defaults import DEFAULT_MAX_EPOCHS, DEFAULT_MAX_SEEDS, DEFAULT_N_ENVS
from esper.leyline.validation import (
    MAX_COUNT,
    check_bool,
    check_float,
    check_int,
    check_str,
    dataclass_from_dict,
)
from esper.simic.agent.ppo import MAX_LR
from esper.simic.atomic import atomic_write_text
from esper.simic.devices import check_available_device
from esper.simic.rewards.config import REWARD_MODES

PolicyName = Literal["ppo", "heuristic", "baseline"]
POLICIES: tuple[str, ...] = get_args(PolicyName)
#: Evaluation modes of a trained PPO policy (``TrainingConfig.evaluate``).
EVAL_MODES: tuple[str, ...] = ("greedy", "sampled")
_POLICY_BY_NAME: dict[str, PolicyName] = {"ppo": "ppo", "heuristic": "heuristic", "baseline": "baseline"}
MAX_SEED = 2**32 - 1
"""Largest run seed (numpy's range): episode seeds ``seed * 1_000_003 + episode`` stay far inside int64."""


def parse_policy(name: str) -> PolicyName:
    """``name`` as a :data:`PolicyName`; unknown names raise ``ValueError`` listing the policies."""
    if name not in _POLICY_BY_NAME:
        raise ValueError(f"policy {name!r} is unknown; valid: {list(POLICIES)}")
    return _POLICY_BY_NAME[name]


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    """Everything a run needs. ``episodes`` is rounded up to whole batches of ``n_envs`` episodes."""

    policy: PolicyName = "ppo"
    task: str = "digits_blind"
    episodes: int = 48
    n_envs: int = DEFAULT_N_ENVS
    max_epochs: int = DEFAULT_MAX_EPOCHS
    device: str = "cpu"
    seed: int = 0
    data_dir: str | None = None
    max_seeds: int = DEFAULT_MAX_SEEDS
    force_tempo: str | None = None
    """Rollback quick fix (plan): execute every GERMINATE with this tempo (e.g. "STANDARD"), whatever the policy chose."""
    reward_mode: str = "growth"
    ppo_epochs: int = 4
    n_minibatches: int = 2
    lr: float = 3.0e-4
    entropy_coef: float = 0.05
    hidden_dim: int = 128
    tensorboard: bool = False
    """Also write TensorBoard scalars to ``<run>/tensorboard`` (needs the optional ``esper[tensorboard]`` extra)."""
    checkpoint_every: int = 1
    """Write a checkpoint every this many PPO batches (and always after the last)."""
    world_size: int = 1
    """Processes the run's envs are split over (``torchrun``); recorded, set by the trainer from its context. It
    may change on resume: a run gives the same episodes and policy on any number of processes."""
    tags: dict[str, str] = field(default_factory=dict)
    evaluate: str | None = None
    """Evaluation-only run of a trained PPO policy: ``"greedy"`` (argmax) or ``"sampled"``; no PPO updates, the
    observation normaliser is frozen and nothing but telemetry/progress is written. Needs ``policy_checkpoint``."""
    policy_checkpoint: str | None = None
    """Checkpoint of the trained policy that an ``evaluate`` run acts with."""
    threads: int = 1
    """torch intra-op CPU threads (``torch.set_num_threads``); results depend on it, so resume refuses a change."""

    def __post_init__(self) -> None:
        # Every field is validated (issue 13): wrong type -> TypeError, wrong value -> ValueError.
        check_str("policy", self.policy, POLICIES)
        check_str("task", self.task, task_names())
        names = ("episodes", "n_envs", "max_epochs", "max_seeds", "ppo_epochs", "n_minibatches", "checkpoint_every", "threads",
                 "world_size")
        for name in names:
            check_int(name, getattr(self, name), low=1, high=MAX_COUNT)
        check_int("hidden_dim", self.hidden_dim, low=1, high=MAX_COUNT)
        check_int("seed", self.seed, low=0, high=MAX_SEED)
        if self.n_minibatches > self.n_envs:
            raise ValueError(f"n_minibatches ({self.n_minibatches}) must be <= n_envs ({self.n_envs}): minibatches are env sequences")
        if self.world_size > self.n_envs:
            raise ValueError(f"world_size ({self.world_size}) must be <= n_envs ({self.n_envs}): every process steps an env")
        check_available_device("device", self.device, present=False)
        if self.data_dir is not None:
            check_str("data_dir", self.data_dir)
        if self.force_tempo is not None:
            check_str("force_tempo", self.force_tempo, list(TempoAction.__members__))
        check_str("reward_mode", self.reward_mode, REWARD_MODES)
        object.__setattr__(self, "lr", check_float("lr", self.lr, low=0.0, low_open=True, high=MAX_LR))
        object.__setattr__(self, "entropy_coef", check_float("entropy_coef", self.entropy_coef, low=0.0))
        check_bool("tensorboard", self.tensorboard)
        if not isinstance(self.tags, dict):
            raise TypeError(f"tags must be a dict of str to str, got {type(self.tags).__name__}")
        for key, value in self.tags.items():
            check_str("tags key", key)
            check_str(f"tags[{key!r}]", value)
        if self.evaluate is not None:
            check_str("evaluate", self.evaluate, EVAL_MODES)
            if self.policy != "ppo" or self.policy_checkpoint is None:
                raise ValueError("evaluate needs policy='ppo' and a policy_checkpoint (the trained policy to act with)")
        if self.policy_checkpoint is not None:
            check_str("policy_checkpoint", self.policy_checkpoint)

    @property
    def batches(self) -> int:
        """Number of batches (each = ``n_envs`` episodes side by side)."""
        return -(-self.episodes // self.n_envs)

    @property
    def forced_tempo(self) -> TempoAction | None:
        return None if self.force_tempo is None else TempoAction[self.force_tempo]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def write(self, path: Path) -> None:
        """Write as JSON, atomically (a killed run never leaves a torn ``config.json``)."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> "TrainingConfig":
        """Inverse of :meth:`write`; ``ValueError`` naming ``path`` for invalid JSON or an invalid config."""
        try:
            data: object = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}: not valid JSON ({exc}); the run's config is corrupt") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: config must be a JSON object")
        try:
            return dataclass_from_dict(cls, data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: invalid config: {exc}") from None
