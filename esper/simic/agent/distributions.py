"""Masked categorical distributions with plain tensor ops (no ``torch.distributions``).

Masked entries get the large finite logit :data:`~esper.leyline.defaults.MASKED_LOGIT` (or, where it does not
fit the logits' dtype, :func:`masked_logit`), so their probability underflows to exactly 0: they are never sampled, their entropy terms are exactly 0 and
no ``-inf``/NaN ever enters a value or a gradient. Everything here is traceable by ``torch.compile`` without
graph breaks; the data-dependent check :func:`check_mask_rows` is separate and runs only in eager mode.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from esper.leyline.defaults import MASKED_LOGIT


def masked_logit(dtype: torch.dtype) -> float:
    """The fill of masked logits for ``dtype``: ``MASKED_LOGIT`` (-1e9) where it fits (float32, float64,
    bfloat16), else ``-finfo(dtype).max / 2`` (float16: -32752), which keeps headroom for ``log_softmax``'s
    ``x - max`` in that dtype. Either way ``exp(fill - max)`` is exactly 0, so masked entries change no
    log-probability or entropy of the valid ones (issue 13 item 4)."""
    if not dtype.is_floating_point:
        raise TypeError(f"logits must have a floating dtype, got {dtype}")
    limit = torch.finfo(dtype).max
    return MASKED_LOGIT if -MASKED_LOGIT < limit / 2 else -limit / 2


def apply_mask(logits: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Logits with invalid entries (``mask == False``) replaced by :func:`masked_logit` of the logits' dtype
    (``MASKED_LOGIT`` for float32); ``None`` keeps all."""
    if mask is None:
        return logits
    return torch.where(mask, logits, masked_logit(logits.dtype))


def log_probs_of(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Log-probability of ``actions`` (shape ``logits.shape[:-1]``) under ``softmax(logits)``."""
    log_p = F.log_softmax(logits, dim=-1)
    return log_p.gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def entropy_of(logits: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Entropy ``-sum p log p``; masked entries contribute exactly 0 (value and gradient)."""
    return _entropy_of_log_probs(F.log_softmax(logits, dim=-1), mask)


def _entropy_of_log_probs(log_p: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``-sum p log p`` from normalised log-probabilities. Masked entries are not exponentiated (their log-prob,
    about ``masked_logit``, would underflow through subnormals: ~8x slower ``exp`` on x86) and contribute 0."""
    if mask is None:
        return -(log_p.exp() * log_p).sum(dim=-1)
    probs = torch.where(mask, log_p, 0.0).exp()
    return -torch.where(mask, probs * log_p, 0.0).sum(dim=-1)


def log_probs_and_entropy(
    logits: torch.Tensor, actions: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log_probs_of(logits, actions), entropy_of(logits, mask))`` from one ``log_softmax`` (same values)."""
    log_p = F.log_softmax(logits, dim=-1)
    return log_p.gather(-1, actions.unsqueeze(-1)).squeeze(-1), _entropy_of_log_probs(log_p, mask)


def sample(logits: torch.Tensor, deterministic: bool = False) -> torch.Tensor:
    """Sample one index per row (``torch.multinomial``, seeded by ``torch.manual_seed``) or take the argmax."""
    if deterministic:
        return logits.argmax(dim=-1)
    probs = F.softmax(logits, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    return torch.multinomial(flat, 1).reshape(probs.shape[:-1])


def check_mask_rows(head: str, mask: torch.Tensor) -> None:
    """Raise ``ValueError`` if any row of ``mask`` allows no action (one host sync; eager mode only)."""
    empty = ~mask.any(dim=-1)
    if bool(empty.any()):
        first = [int(i) for i in empty.nonzero()[0].tolist()]
        raise ValueError(
            f"masks[{head!r}] has a row with no valid action at index {first}; every row must allow at least "
            "one action (an all-False row is an error, not a uniform distribution)"
        )


def check_actions(head: str, actions: torch.Tensor, num_actions: int, mask: torch.Tensor | None) -> None:
    """Raise ``ValueError`` if ``actions`` are out of ``[0, num_actions)`` or forbidden by ``mask`` (eager only)."""
    bad_range = (actions < 0) | (actions >= num_actions)
    if bool(bad_range.any()):
        value = int(actions[bad_range][0])
        raise ValueError(f"actions[{head!r}] contains {value}; valid range: [0, {num_actions - 1}]")
    if mask is not None:
        allowed = mask.gather(-1, actions.unsqueeze(-1)).squeeze(-1)
        if not bool(allowed.all()):
            where = [int(i) for i in (~allowed).nonzero()[0].tolist()]
            raise ValueError(f"actions[{head!r}] at index {where} was taken although masks[{head!r}] forbids it")


__all__ = [
    "apply_mask",
    "check_actions",
    "check_mask_rows",
    "entropy_of",
    "log_probs_and_entropy",
    "log_probs_of",
    "masked_logit",
    "sample",
]
