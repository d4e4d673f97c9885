"""Named training and lifecycle defaults shared by every subsystem (see spec/decisions/leyline.md)."""

from __future__ import annotations

from typing import Final

# --- Episode / loop -------------------------------------------------------
DEFAULT_MAX_EPOCHS: Final = 25
DEFAULT_N_ENVS: Final = 4
DEFAULT_MAX_SEEDS: Final = 6
"""Seed budget: germinations allowed per episode (all slots together)."""

# --- Lifecycle gates --------------------------------------------------------
DEFAULT_BLENDING_TOTAL_STEPS: Final = 5
G2_MIN_IMPROVEMENT: Final = 0.5
"""Accuracy points gained since TRAINING began, required to start blending."""
G2_MIN_EPOCHS: Final = 3
G2_MIN_GRAD_RATIO: Final = 0.1
SEED_MAX_GRAD_RATIO: Final = 100.0
"""Health: a seed gradient-norm ratio above this (or non-finite) is a divergence, never a pass (DEC.seedhealth.2)."""
SEED_MAX_RESIDUAL_RATIO: Final = 3.0
"""Health: a relative residual |s(x) - x| / |x| above this (or non-finite) is a divergence (DEC.seedhealth.2)."""
G3_MIN_BLEND_EPOCHS: Final = 3
G3_MIN_ALPHA: Final = 0.95
G5_MIN_CONTRIBUTION: Final = 1.0
"""Counterfactual contribution (accuracy points) required to fossilize."""
PROBATION_MIN_EPOCHS: Final = 5
PROBATION_FRACTION_OF_EPISODE: Final = 0.10
EMBARGO_EPOCHS: Final = 5
SEED_PROXIMAL_STRENGTH: Final = 1.0
"""Strength of the proximal pull on a TRAINING seed's residual, per position (esper/kasmina/straight_through.py)."""
MIN_CULL_AGE: Final = 1
"""A seed must have lived this many epochs before Tamiyo may cull it."""

# --- Observation ----------------------------------------------------------
TEMPO_FEATURE_SCALE: Final = 12.0
"""Tempo feature = blend_tempo_epochs / 12 (plan Task 13)."""

# --- Policy / PPO -----------------------------------------------------------
DEFAULT_HIDDEN_DIM: Final = 128
DEFAULT_HEAD_HIDDEN: Final = 64
MASKED_LOGIT: Final = -1.0e9
"""Large finite negative used for masked logits (never -inf)."""
DEFAULT_GAMMA: Final = 0.995
DEFAULT_GAE_LAMBDA: Final = 0.97
DEFAULT_CLIP_RATIO: Final = 0.2
DEFAULT_LR: Final = 3.0e-4
DEFAULT_ADAM_EPS: Final = 1.0e-5
DEFAULT_VALUE_COEF: Final = 0.5
DEFAULT_MAX_GRAD_NORM: Final = 0.5
DEFAULT_ENTROPY_COEF: Final = 0.05
DEFAULT_ENTROPY_FLOOR: Final = 0.02
DEFAULT_ENTROPY_FLOOR_COEF: Final = 0.1
DEFAULT_PPO_EPOCHS: Final = 4
DEFAULT_N_MINIBATCHES: Final = 2
DEFAULT_TARGET_KL: Final = 0.03

# --- Governor -----------------------------------------------------------------
GOVERNOR_HISTORY: Final = 10
GOVERNOR_SPIKE_FACTOR: Final = 3.0
GOVERNOR_PENALTY: Final = -5.0
