"""Toy tasks that prove the PPO machinery learns (SB3 identity-env / sb3-contrib memory-test style, issue 10).

Both drive the real :class:`~esper.simic.agent.PPOAgent` (its :class:`FactoredRecurrentActorCritic` and
:class:`TamiyoRolloutBuffer`) through the same ``get_action`` → ``add_batch`` → ``finish`` → ``update`` cycle as
the vectorized training loop, on observations built here instead of a host network.

- :func:`train_bandit`: a factored contextual bandit over the five heads (one-step episodes).
- :func:`train_recall`: a cue shown at the first step must be answered at the last; needs the LSTM state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from esper.leyline import HEAD_NAMES, LifecycleOp, head_sizes
from esper.simic.agent import PPOAgent, PPOConfig
from esper.simic.agent.network import Hidden

SIZES = head_sizes(3)
NUM_TEMPO = SIZES["tempo"]


def _full_masks(batch: int, lead: tuple[int, ...] = ()) -> dict[str, torch.Tensor]:
    return {name: torch.ones(*lead, batch, SIZES[name], dtype=torch.bool) for name in HEAD_NAMES}


def _entropy(probs: torch.Tensor) -> float:
    return float(-(probs * probs.clamp_min(1e-12).log()).sum(-1).mean())


# --- (a) factored contextual bandit -------------------------------------------------------------------------
BANDIT_OBS = 1 + NUM_TEMPO
"""Observation: ``[grow, onehot(target tempo)]``."""


@dataclass(frozen=True)
class BanditSpec:
    """Reward of the bandit.

    ``grow == 1``: GERMINATE pays 1 if the tempo matches the context's target tempo, else 0; other ops pay 0.
    ``grow == 0``: WAIT pays 1, every other op 0 (tempo irrelevant: the tempo head is causally masked out).
    ``spurious_tempo`` (control): on *non-GERMINATE* steps a further ``+1`` is paid whenever the sampled tempo
    index equals this value. The tempo had no effect on those steps, so causal masking must ignore it.
    ``germinate_allowed=False`` masks GERMINATE out of the op head, so the tempo never matters.
    """

    spurious_tempo: int | None = None
    germinate_allowed: bool = True


def bandit_contexts(batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``(obs (B, BANDIT_OBS), target tempo (B,))``; half the contexts ask for growth."""
    grow = torch.randint(0, 2, (batch,), generator=generator)
    target = torch.randint(0, NUM_TEMPO, (batch,), generator=generator)
    obs = torch.cat([grow.unsqueeze(1).float(), torch.nn.functional.one_hot(target, NUM_TEMPO).float()], dim=1)
    return obs, target


def bandit_reward(obs: torch.Tensor, target: torch.Tensor, actions: dict[str, torch.Tensor], spec: BanditSpec) -> torch.Tensor:
    grow = obs[:, 0] > 0.5
    op, tempo = actions["op"], actions["tempo"]
    germinate = op == LifecycleOp.GERMINATE
    reward = torch.where(grow, (germinate & (tempo == target)).float(), (op == LifecycleOp.WAIT).float())
    if spec.spurious_tempo is not None:
        reward = reward + (~germinate & (tempo == spec.spurious_tempo)).float()
    return reward


def bandit_optimal(obs: torch.Tensor, target: torch.Tensor, actions: dict[str, torch.Tensor]) -> torch.Tensor:
    """True where the action is optimal: GERMINATE at the target tempo when growth is asked for, else WAIT."""
    grow = obs[:, 0] > 0.5
    good_grow = (actions["op"] == LifecycleOp.GERMINATE) & (actions["tempo"] == target)
    return torch.where(grow, good_grow, actions["op"] == LifecycleOp.WAIT)


@dataclass
class BanditHistory:
    optimal_fraction: list[float] = field(default_factory=list)
    """Greedy policy's fraction of optimal actions on a fixed evaluation batch, after each update."""
    tempo_entropy: list[float] = field(default_factory=list)
    """Mean tempo-head entropy (nats) on the growth contexts of the evaluation batch, before update 1, then after each."""
    wait_tempo_probs: list[torch.Tensor] = field(default_factory=list)
    """Mean tempo distribution on the no-growth contexts, before update 1, then after each."""


def bandit_agent(seed: int, hidden_dim: int = 32) -> PPOAgent:
    torch.manual_seed(seed)
    config = PPOConfig(lr=3e-3, entropy_coef=0.01, ppo_epochs=4, n_minibatches=4, gamma=0.99, gae_lambda=0.95)
    return PPOAgent(BANDIT_OBS, config, hidden_dim=hidden_dim)


def _bandit_masks(batch: int, spec: BanditSpec) -> dict[str, torch.Tensor]:
    masks = _full_masks(batch)
    if not spec.germinate_allowed:
        masks["op"][:, LifecycleOp.GERMINATE] = False
    return masks


def evaluate_bandit(agent: PPOAgent, obs: torch.Tensor, target: torch.Tensor, spec: BanditSpec) -> tuple[float, float, torch.Tensor]:
    """Greedy optimal fraction, tempo entropy on growth contexts, mean tempo distribution on no-growth contexts."""
    masks = _bandit_masks(obs.shape[0], spec)
    actions, _, _, _ = agent.get_action(obs, None, masks, deterministic=True)
    with torch.no_grad():
        out = agent.network(obs, None, masks)
    tempo_probs = torch.softmax(out["tempo_logits"], dim=-1)
    grow = obs[:, 0] > 0.5
    optimal = float(bandit_optimal(obs, target, actions).float().mean())
    return optimal, _entropy(tempo_probs[grow]), tempo_probs[~grow].mean(0)


def train_bandit(updates: int, spec: BanditSpec = BanditSpec(), *, batch: int = 64, seed: int = 0) -> tuple[PPOAgent, BanditHistory]:
    """``updates`` PPO updates, each on ``batch`` one-step episodes (sampled actions); deterministic for ``seed``."""
    agent = bandit_agent(seed)
    data_gen = torch.Generator().manual_seed(seed + 1)
    eval_obs, eval_target = bandit_contexts(256, torch.Generator().manual_seed(seed + 2))
    history = BanditHistory()
    _, entropy, wait_probs = evaluate_bandit(agent, eval_obs, eval_target, spec)
    history.tempo_entropy.append(entropy)
    history.wait_tempo_probs.append(wait_probs)
    buffer = agent.make_buffer(batch, 1)
    for _ in range(updates):
        buffer.reset()
        obs, target = bandit_contexts(batch, data_gen)
        masks = _bandit_masks(batch, spec)
        hidden = agent.initial_hidden(batch)
        actions, log_probs, values, _ = agent.get_action(obs, hidden, masks)
        rewards = bandit_reward(obs, target, actions, spec)
        dones = torch.ones(batch, dtype=torch.bool)
        buffer.add_batch(obs, actions, log_probs, masks, values, rewards, dones, torch.zeros_like(dones), hidden)
        buffer.finish()
        agent.update(buffer)
        optimal, entropy, wait_probs = evaluate_bandit(agent, eval_obs, eval_target, spec)
        history.optimal_fraction.append(optimal)
        history.tempo_entropy.append(entropy)
        history.wait_tempo_probs.append(wait_probs)
    return agent, history


# --- (b) recall: cue at the first step, paid at the last --------------------------------------------------
RECALL_CUES = 4
"""Cue values; the answer is the op index (4 ops), so a memoryless policy is right 1 time in 4."""
RECALL_OBS = 1 + RECALL_CUES + 1
"""Observation: ``[cue shown, onehot(cue) (zero after step 0), is last step]``."""


def recall_obs(cues: torch.Tensor, step: int, length: int) -> torch.Tensor:
    batch = cues.shape[0]
    obs = torch.zeros(batch, RECALL_OBS)
    if step == 0:
        obs[:, 0] = 1.0
        obs[:, 1 : 1 + RECALL_CUES] = torch.nn.functional.one_hot(cues, RECALL_CUES).float()
    if step == length - 1:
        obs[:, -1] = 1.0
    return obs


@dataclass
class RecallHistory:
    success: list[float] = field(default_factory=list)
    """Greedy policy's fraction of correct answers on a fixed evaluation batch, after each update."""


def _recall_rollout(
    agent: PPOAgent, cues: torch.Tensor, length: int, reset_every_step: bool, deterministic: bool
) -> tuple[list[tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor], torch.Tensor, Hidden]], torch.Tensor]:
    """One episode for every cue; returns per-step ``(obs, actions, log_probs, values, hidden before)`` and the answer."""
    batch = cues.shape[0]
    masks = _full_masks(batch)
    hidden = agent.initial_hidden(batch)
    steps = []
    for t in range(length):
        if reset_every_step:
            hidden = agent.initial_hidden(batch)
        obs = recall_obs(cues, t, length)
        actions, log_probs, values, new_hidden = agent.get_action(obs, hidden, masks, deterministic=deterministic)
        steps.append((obs, actions, log_probs, values, hidden))
        hidden = new_hidden
    return steps, steps[-1][1]["op"]


def train_recall(
    updates: int, *, reset_every_step: bool, length: int = 4, batch: int = 64, seed: int = 0
) -> tuple[PPOAgent, RecallHistory]:
    """Recall task: reward 1 at the last step iff the op index equals the cue shown at step 0.

    ``reset_every_step=True`` zeroes the LSTM state before every step (acting) and marks every step as an
    episode boundary in the buffer (so the update replays the same memoryless policy): the control that must fail.
    """
    torch.manual_seed(seed)
    config = PPOConfig(lr=3e-3, entropy_coef=0.01, ppo_epochs=4, n_minibatches=4, gamma=0.99, gae_lambda=0.95)
    agent = PPOAgent(RECALL_OBS, config, hidden_dim=32)
    data_gen = torch.Generator().manual_seed(seed + 1)
    eval_cues = torch.arange(256) % RECALL_CUES
    history = RecallHistory()
    buffer = agent.make_buffer(batch, length)
    for _ in range(updates):
        buffer.reset()
        cues = torch.randint(0, RECALL_CUES, (batch,), generator=data_gen)
        steps, answer = _recall_rollout(agent, cues, length, reset_every_step, deterministic=False)
        for t, (obs, actions, log_probs, values, hidden) in enumerate(steps):
            last = t == length - 1
            reward = (answer == cues).float() if last else torch.zeros(batch)
            dones = torch.full((batch,), last or reset_every_step, dtype=torch.bool)
            buffer.add_batch(obs, actions, log_probs, _full_masks(batch), values, reward, dones, torch.zeros_like(dones), hidden)
        buffer.finish()
        agent.update(buffer)
        _, greedy = _recall_rollout(agent, eval_cues, length, reset_every_step, deterministic=True)
        history.success.append(float((greedy == eval_cues).float().mean()))
    return agent, history


LN3 = math.log(3.0)

__all__ = [
    "BANDIT_OBS",
    "LN3",
    "RECALL_CUES",
    "BanditHistory",
    "BanditSpec",
    "RecallHistory",
    "train_bandit",
    "train_recall",
]
