"""``esper study``: multi-seed PPO training, held-out evaluation against the heuristic and no-growth (issue 10)."""

from __future__ import annotations

from esper.simic.study.config import DEFAULT_EVAL_SEED, STUDY_PRESETS, StudyConfig, get_study_preset
from esper.simic.study.external import GymStudyPolicy, StudyPolicy, eval_host_seeds
from esper.simic.study.runner import run_study
from esper.simic.study.stats import MeanCI, mean_ci

__all__ = [
    "DEFAULT_EVAL_SEED",
    "STUDY_PRESETS",
    "GymStudyPolicy",
    "StudyPolicy",
    "eval_host_seeds",
    "MeanCI",
    "StudyConfig",
    "get_study_preset",
    "mean_ci",
    "run_study",
]
