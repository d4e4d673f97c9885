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
    check_device,
    check_float,
    check_int,
    check_str,
    dataclass_from_dict,
)
from esper.simic.agent.ppo import MAX_LR
from esper.simic.rewards.config import REWARD_MODES

PolicyName = Literal["ppo", "heuristic", "baseline"]
POLICIES: tuple[str, ...] = get_args(PolicyName)
_POLICY_BY_NAME: dict[str, PolicyName] = {"ppo": "ppo", "heuristic": "heuristic", "baseline": "baseline"}


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
    reward_mode: str = "shaped"
    ppo_epochs: int = 4
    n_minibatches: int = 2
    lr: float = 3.0e-4
    entropy_coef: float = 0.05
    hidden_dim: int = 128
    tensorboard: bool = False
    """Also write TensorBoard scalars to ``<run>/tensorboard`` (needs the optional ``esper[tensorboard]`` extra)."""
    checkpoint_every: int = 1
    """Write a checkpoint every this many PPO batches (and always after the last)."""
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Every field is validated (issue 13): wrong type -> TypeError, wrong value -> ValueError.
        check_str("policy", self.policy, POLICIES)
        check_str("task", self.task, task_names())
        for name in ("episodes", "n_envs", "max_epochs", "max_seeds", "ppo_epochs", "n_minibatches", "checkpoint_every"):
            check_int(name, getattr(self, name), low=1, high=MAX_COUNT)
        check_int("hidden_dim", self.hidden_dim, low=1, high=MAX_COUNT)
        check_int("seed", self.seed, low=0, high=MAX_COUNT)
        if self.n_minibatches > self.n_envs:
            raise ValueError(f"n_minibatches ({self.n_minibatches}) must be <= n_envs ({self.n_envs}): minibatches are env sequences")
        check_str("device", self.device)
        check_device("device", self.device)
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
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> "TrainingConfig":
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{path}: config must be a JSON object")
        try:
            return dataclass_from_dict(cls, data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from exc
