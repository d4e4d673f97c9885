"""Extension point: one more policy row in a study (e.g. an external agent acting through a gymnasium env).

A study calls ``policy.run(eval_config, out_dir)`` for every :class:`ExternalPolicy` it is given. The policy must
play ``eval_config`` (the study's held-out set: ``task``, ``seed``, ``episodes``, ``n_envs``, ``max_epochs``; the
host of episode ``e`` is initialised from ``seed * 1_000_003 + e``, as in :class:`~esper.simic.training.environment.SeedEnv`)
and leave a run folder in ``out_dir``: ``telemetry.jsonl`` with one ``episode_completed`` event per episode (the
standard fields: ``final_val_accuracy``, ``best_val_accuracy``, ``seeds_germinated``, ``seeds_fossilized``,
``seeds_culled``, ``params_added``), and ``seed_germinated`` events if it grows. The study then reports it like the
built-in policies, under ``policy.name``. The simplest conforming implementation drives
:func:`~esper.simic.training.vectorized.run_training` or :class:`~esper.simic.training.environment.SeedEnv` itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from esper.simic.training.config import TrainingConfig


@runtime_checkable
class ExternalPolicy(Protocol):
    """A policy evaluated by a study besides PPO, the heuristic and no-growth."""

    @property
    def name(self) -> str:
        """Row label in study.md / key in study.json (letters, digits, ``_``, ``-``)."""
        ...

    def run(self, eval_config: TrainingConfig, out_dir: Path) -> None:
        """Play the evaluation set described by ``eval_config`` and write a run folder into ``out_dir``."""
        ...


__all__ = ["ExternalPolicy"]
