"""Typed returns of the policy network: the LSTM state, one acting step, and an evaluation of stored actions.

They are ``NamedTuple``\\ s (as Stable-Baselines3's rollout samples), so the plan's tuple unpacking still works::

    actions, log_probs, value, hidden = net.get_action(obs, hidden, masks)      # plan Task 8.4
    log_probs, entropies, value = net.evaluate_actions(obs, actions, hidden, masks)  # plan Task 8.5

and fields can also be read by name (``step.actions["tempo"]``, ``evaluation.entropy["op"]``, ``hidden.h``).
Per-head dicts are keyed and ordered by :data:`esper.leyline.HEAD_NAMES`.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

Hidden = tuple[torch.Tensor, torch.Tensor]
"""Any LSTM state ``(h, c)`` accepted as input (a plain tuple or an :class:`LSTMState`), each ``(B, hidden_dim)``."""


class LSTMState(NamedTuple):
    """Recurrent state of Tamiyo's ``LSTMCell``: hidden ``h`` and cell ``c``, each ``(B, hidden_dim)``."""

    h: torch.Tensor
    c: torch.Tensor


class ActionSample(NamedTuple):
    """What :meth:`FactoredRecurrentActorCritic.get_action` returns (plan Task 8.4 order).

    With ``obs`` ``(B, D)``: ``actions[head]`` ``(B,)`` int64 and ``log_probs[head]`` ``(B,)`` (log-probability of
    that action under the masked policy), ``value`` ``(B,)``; with ``obs`` ``(B, T, D)`` every field keeps ``T``.
    ``hidden`` is the state after the last step of ``obs`` (feed it to the next call).
    """

    actions: dict[str, torch.Tensor]
    log_probs: dict[str, torch.Tensor]
    value: torch.Tensor
    hidden: LSTMState


class ActionEvaluation(NamedTuple):
    """What :meth:`FactoredRecurrentActorCritic.evaluate_actions` returns (plan Task 8.5 order).

    For ``obs`` ``(B, T, D)``: ``log_probs[head]`` ``(B, T)`` of the given actions, ``entropy[head]`` ``(B, T)``
    (nats, over the valid actions only), ``value`` ``(B, T)``. All keep their autograd graph.
    """

    log_probs: dict[str, torch.Tensor]
    entropy: dict[str, torch.Tensor]
    value: torch.Tensor


__all__ = ["ActionEvaluation", "ActionSample", "Hidden", "LSTMState"]
