"""Unit tests: masked categorical helpers."""

from __future__ import annotations

import math

import pytest
import torch

from esper.leyline.defaults import MASKED_LOGIT
from esper.simic.agent.distributions import apply_mask, entropy_of, log_probs_of, sample


def test_apply_mask() -> None:
    logits = torch.tensor([[1.0, 2.0, 3.0]])
    assert apply_mask(logits, None) is logits
    masked = apply_mask(logits, torch.tensor([[True, False, True]]))
    assert masked.tolist() == [[1.0, MASKED_LOGIT, 3.0]]


def test_entropy_of_uniform_and_masked() -> None:
    logits = torch.zeros(2, 4)
    assert entropy_of(logits).tolist() == pytest.approx([math.log(4)] * 2)
    mask = torch.tensor([[True, True, False, False], [True, False, False, False]])
    assert entropy_of(apply_mask(logits, mask), mask).tolist() == pytest.approx([math.log(2), 0.0])


def test_log_probs_of() -> None:
    logits = torch.log(torch.tensor([[0.2, 0.3, 0.5]]))
    assert log_probs_of(logits, torch.tensor([2])).tolist() == pytest.approx([math.log(0.5)])


def test_sample_frequencies_follow_probabilities() -> None:
    torch.manual_seed(0)
    probs = torch.tensor([0.1, 0.6, 0.3])
    draws = sample(probs.log().expand(20000, 3))
    freq = torch.bincount(draws, minlength=3).float() / 20000
    assert torch.allclose(freq, probs, atol=0.015)
    assert sample(probs.log().unsqueeze(0), deterministic=True).tolist() == [1]
    torch.manual_seed(5)
    first = sample(torch.zeros(8, 5))
    torch.manual_seed(5)
    assert torch.equal(first, sample(torch.zeros(8, 5)))  # respects torch.manual_seed
