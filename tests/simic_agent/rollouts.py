"""Synthetic rollouts for the Simic agent tests: random observations and masks, real policy sampling."""

from __future__ import annotations

import torch

from esper.leyline import HEAD_NAMES, LifecycleOp
from esper.simic.agent import PPOAgent, TamiyoRolloutBuffer

STATE_DIM = 77
"""23 base features + 3 slots x 18 (the tempo layout)."""


def random_masks(
    sizes: dict[str, int], batch: int, *, allow_germinate: bool = True, force_op: int | None = None
) -> dict[str, torch.Tensor]:
    """Random masks with at least one valid action per row; ``force_op`` leaves only that op valid."""
    masks: dict[str, torch.Tensor] = {}
    for name in HEAD_NAMES:
        mask = torch.rand(batch, sizes[name]) < 0.6
        mask[torch.arange(batch), torch.randint(sizes[name], (batch,))] = True
        masks[name] = mask
    if force_op is not None:
        masks["op"] = torch.zeros(batch, sizes["op"], dtype=torch.bool)
        masks["op"][:, force_op] = True
    elif not allow_germinate:
        masks["op"][:, LifecycleOp.GERMINATE] = False
        masks["op"][:, LifecycleOp.WAIT] = True
    return masks


def collect(
    agent: PPOAgent,
    num_envs: int = 4,
    steps: int = 25,
    *,
    episode_len: int | None = None,
    truncate_every: int | None = None,
    allow_germinate: bool = True,
    force_op: int | None = None,
    deterministic: bool = False,
) -> TamiyoRolloutBuffer:
    """Roll the agent's policy over synthetic data into a finished buffer.

    Episodes end (``done``) every ``episode_len`` steps; ``truncate_every`` cuts them (``truncated``, with the
    bootstrap value of the next observation). The hidden state is reset after each episode end.
    """
    buffer = agent.make_buffer(num_envs, steps)
    net = agent.network
    hidden = agent.initial_hidden(num_envs)
    obs = torch.randn(num_envs, net.state_dim)
    for t in range(steps):
        masks = random_masks(net.head_sizes, num_envs, allow_germinate=allow_germinate, force_op=force_op)
        actions, log_probs, values, new_hidden = agent.get_action(obs, hidden, masks, deterministic)
        rewards = torch.randn(num_envs)
        dones = torch.full((num_envs,), episode_len is not None and (t + 1) % episode_len == 0)
        truncated = torch.full((num_envs,), truncate_every is not None and (t + 1) % truncate_every == 0) & ~dones
        next_obs = torch.randn(num_envs, net.state_dim)
        bootstrap = None
        if truncate_every is not None:
            _, _, bootstrap, _ = agent.get_action(next_obs, new_hidden, random_masks(net.head_sizes, num_envs))
        buffer.add_batch(
            obs=obs, actions=actions, log_probs=log_probs, masks=masks, values=values, rewards=rewards,
            dones=dones, truncated=truncated, hidden=hidden, bootstrap_values=bootstrap,
        )
        hidden = net.reset_hidden(new_hidden, dones | truncated)
        obs = next_obs
    _, _, last_values, _ = agent.get_action(obs, hidden, random_masks(net.head_sizes, num_envs))
    buffer.finish(last_values)
    return buffer
