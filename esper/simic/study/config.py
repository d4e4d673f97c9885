"""What a study runs: training seeds, episodes, the evaluation set (issue 10, ``esper study``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from esper.leyline.validation import MAX_COUNT, check_int, check_str
from esper.simic.rewards import REWARD_MODES
from esper.simic.training.config import TrainingConfig, parse_policy

DEFAULT_EVAL_SEED = 1_000
"""Run seed of the evaluation set. Episode ``e`` of a run with seed ``s`` initialises its host from
``s * 1_000_003 + e``, so evaluation hosts never coincide with the hosts of training seeds ``0 .. train_seeds-1``."""


@dataclass(frozen=True, slots=True)
class StudyConfig:
    """A multi-seed study: PPO trained with ``train_seeds`` seeds, then every policy evaluated on one held-out set.

    ``train_episodes`` are PPO episodes per training seed; ``eval_episodes`` evaluation episodes per policy (and,
    for PPO, per training seed and mode). Both are rounded up to whole batches of ``n_envs``.
    """

    task: str = "digits_blind"
    train_seeds: int = 5
    train_episodes: int = 100
    eval_episodes: int = 20
    n_envs: int = 4
    max_epochs: int = 25
    eval_seed: int = DEFAULT_EVAL_SEED
    device: str = "cpu"
    data_dir: str | None = None
    reward_mode: str = "growth"
    hidden_dim: int = 128
    threads: int = 1
    """torch intra-op CPU threads of every run (``TrainingConfig.threads``)."""

    def __post_init__(self) -> None:
        for name in ("train_seeds", "train_episodes", "eval_episodes", "n_envs", "max_epochs", "hidden_dim", "threads"):
            check_int(name, getattr(self, name), low=1, high=MAX_COUNT)
        # eval_seed >= train_seeds: evaluation hosts are never trained on.
        check_int("eval_seed", self.eval_seed, low=self.train_seeds, high=MAX_COUNT)
        check_str("reward_mode", self.reward_mode, REWARD_MODES)

    def training(self, seed: int) -> TrainingConfig:
        """The PPO training run of training seed ``seed``."""
        return TrainingConfig(
            policy="ppo",
            task=self.task,
            episodes=self.train_episodes,
            n_envs=self.n_envs,
            max_epochs=self.max_epochs,
            device=self.device,
            seed=seed,
            data_dir=self.data_dir,
            reward_mode=self.reward_mode,
            hidden_dim=self.hidden_dim,
            n_minibatches=min(2, self.n_envs),
            threads=self.threads,
        )

    def evaluation(self, policy: str, *, mode: str | None = None, checkpoint: Path | None = None) -> TrainingConfig:
        """An evaluation run on the held-out set (same hosts for every policy)."""
        base = self.training(self.eval_seed)
        return replace(
            base,
            policy=parse_policy(policy),
            episodes=self.eval_episodes,
            evaluate=mode,
            policy_checkpoint=None if checkpoint is None else str(checkpoint),
        )

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> StudyConfig:
        data = json.loads(path.read_text())
        known = {f.name for f in fields(cls)}
        if not isinstance(data, dict) or set(data) - known:
            raise ValueError(f"{path}: not a study config (valid keys: {sorted(known)})")
        return cls(**data)


#: Named study sizes (``esper study --preset``); flags override them. ``tiny`` is a seconds-long plumbing check
#: (2 training seeds); the others follow the issue's >= 5 training seeds; ``digits_blind`` trains each for the plan's 500 episodes.
STUDY_PRESETS: dict[str, StudyConfig] = {
    "tiny": StudyConfig(task="digits_blind", train_seeds=2, train_episodes=2, eval_episodes=2, n_envs=2, max_epochs=2, hidden_dim=16),
    "digits_blind": StudyConfig(task="digits_blind", train_seeds=5, train_episodes=500, eval_episodes=20),
    "digits": StudyConfig(task="digits", train_seeds=5, train_episodes=100, eval_episodes=20),
    "text": StudyConfig(task="text", train_seeds=5, train_episodes=40, eval_episodes=8, n_envs=2),
}


def get_study_preset(name: str) -> StudyConfig:
    if name not in STUDY_PRESETS:
        raise ValueError(f"study preset {name!r} is unknown; valid: {list(STUDY_PRESETS)}")
    return STUDY_PRESETS[name]


__all__ = ["DEFAULT_EVAL_SEED", "STUDY_PRESETS", "StudyConfig", "get_study_preset"]
