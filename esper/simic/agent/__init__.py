"""Simic agent: factored recurrent actor-critic, rollout buffer, PPO with causal head masks, checkpoints."""

from __future__ import annotations

from esper.simic.agent.advantages import CAUSAL_RELEVANCE, causal_head_masks, compute_per_head_advantages
from esper.simic.agent.checkpoint import (
    Checkpoint,
    CheckpointError,
    CheckpointFormatError,
    CheckpointIncompatibleError,
    PolicyLayout,
    load_checkpoint,
    save_checkpoint,
)
from esper.simic.agent.minibatch import SequenceBatch
from esper.simic.agent.network import FactoredRecurrentActorCritic
from esper.simic.agent.normalizer import RunningMeanStd
from esper.simic.agent.outputs import ActionEvaluation, ActionSample, Hidden, LSTMState
from esper.simic.agent.ppo import KL_STOP_FACTOR, PPOAgent, PPOConfig, default_entropy_coef_per_head
from esper.simic.agent.rollout_buffer import TamiyoRolloutBuffer

__all__ = [
    "ActionEvaluation",
    "ActionSample",
    "CAUSAL_RELEVANCE",
    "KL_STOP_FACTOR",
    "Checkpoint",
    "CheckpointError",
    "CheckpointFormatError",
    "CheckpointIncompatibleError",
    "FactoredRecurrentActorCritic",
    "Hidden",
    "LSTMState",
    "PPOAgent",
    "PPOConfig",
    "PolicyLayout",
    "RunningMeanStd",
    "SequenceBatch",
    "TamiyoRolloutBuffer",
    "causal_head_masks",
    "compute_per_head_advantages",
    "default_entropy_coef_per_head",
    "load_checkpoint",
    "save_checkpoint",
]
