"""Extension point: one more policy row in a study, e.g. an external agent acting through ``esper/SeedEnv-v0``.

A study calls ``policy.run(eval_config, out_dir)`` for every :class:`StudyPolicy` it is given. The policy must
play ``eval_config`` (the study's held-out set: ``task``, ``seed``, ``episodes``, ``max_epochs``, ``max_seeds``; the
host of episode ``e`` is built from host seed :func:`eval_host_seeds` ``[e]`` = ``seed * 1_000_003 + e``, as in the
vectorized loop) and leave a run folder in ``out_dir``: ``config.json`` and ``telemetry.jsonl`` with one
``episode_completed`` event per episode (standard fields: ``final_val_accuracy``, ``best_val_accuracy``,
``seeds_germinated``, ``seeds_fossilized``, ``seeds_culled``, ``params_added``), plus ``seed_germinated`` events if it
grows. The study reports it like the built-in policies, under ``policy.name``.

:class:`GymStudyPolicy` is the ready adapter for issue 14's external policies (``policy(obs, action_mask) ->
action`` on :class:`esper.envs.SeedGymEnv`, e.g. ``masked_predictor(MaskablePPO)``): it plays the same host seeds
through :func:`esper.envs.evaluate_external_policy` (needs the ``esper[gym]`` extra).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from esper.leyline import TelemetryEvent, TelemetryEventType
from esper.nissa.jsonl import JsonlSink
from esper.simic.training.config import TrainingConfig

HOST_SEED_STRIDE = 1_000_003
"""Host seed of episode ``e`` of a run with seed ``s``: ``s * HOST_SEED_STRIDE + e`` (the vectorized loop's rule)."""


def eval_host_seeds(eval_config: TrainingConfig) -> list[int]:
    """Host seeds of the evaluation episodes, in episode order."""
    episodes = eval_config.batches * eval_config.n_envs
    return [eval_config.seed * HOST_SEED_STRIDE + e for e in range(episodes)]


@runtime_checkable
class StudyPolicy(Protocol):
    """A policy evaluated by a study besides PPO, the heuristic and no-growth."""

    @property
    def name(self) -> str:
        """Row label in study.md / key in study.json (letters, digits, ``_``, ``-``)."""
        ...

    def run(self, eval_config: TrainingConfig, out_dir: Path) -> None:
        """Play the evaluation set described by ``eval_config`` and write a run folder into ``out_dir``."""
        ...


@dataclass(frozen=True)
class GymStudyPolicy:
    """A study row for a gymnasium-side policy ``policy(obs, action_mask) -> action`` (issue 14's ExternalPolicy)."""

    name: str
    policy: Callable[[Any, Any], Any]

    def run(self, eval_config: TrainingConfig, out_dir: Path) -> None:
        from esper.envs import SeedGymEnv, evaluate_external_policy  # optional extra: esper[gym]

        env = SeedGymEnv(
            task=eval_config.task,
            max_epochs=eval_config.max_epochs,
            max_seeds=eval_config.max_seeds,
            reward_mode=eval_config.reward_mode,
            data_dir=eval_config.data_dir,
            device=eval_config.device,
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.json").write_text(json.dumps({"policy": self.name, "task": eval_config.task}) + "\n")
        sink = JsonlSink(out_dir / "telemetry.jsonl", append=False)
        try:
            for episode, host_seed in enumerate(eval_host_seeds(eval_config)):
                (result,) = evaluate_external_policy(self.policy, [host_seed], env=env)
                data: dict[str, float | int | str | bool | None] = {
                    "policy": self.name,
                    "episode": episode,
                    "host_seed": host_seed,
                    "final_val_accuracy": result.final_val_accuracy,
                    "best_val_accuracy": result.best_val_accuracy,
                    "episode_return": result.episode_return,
                    "seeds_germinated": result.seeds_germinated,
                    "seeds_fossilized": result.seeds_fossilized,
                    "seeds_culled": result.seeds_culled,
                    "params_added": env.env.params_added(),
                }
                sink.emit(TelemetryEvent(event_type=TelemetryEventType.EPISODE_COMPLETED, data=data))
        finally:
            sink.close()


__all__ = ["HOST_SEED_STRIDE", "GymStudyPolicy", "StudyPolicy", "eval_host_seeds"]
