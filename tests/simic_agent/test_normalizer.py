"""Unit tests: RunningMeanStd."""

from __future__ import annotations

import pytest
import torch

from esper.simic.agent import RunningMeanStd


def test_validation_and_state_dict() -> None:
    with pytest.raises(ValueError, match="dim must be an int >= 1"):
        RunningMeanStd(0)
    norm = RunningMeanStd(3)
    with pytest.raises(ValueError, match=r"observations must have shape \(..., 3\), got \(2, 4\)"):
        norm.update(torch.zeros(2, 4))
    norm.update(torch.randn(10, 3))
    other = RunningMeanStd(3)
    other.load_state_dict(norm.state_dict())
    assert torch.equal(other.mean, norm.mean) and torch.equal(other.count, norm.count)
    with pytest.raises(ValueError, match="normaliser state is for dim 3, this normaliser has dim 4"):
        RunningMeanStd(4).load_state_dict(norm.state_dict())
    with pytest.raises(ValueError, match="normaliser state must have keys"):
        other.load_state_dict({"mean": norm.mean})


def test_empty_batch_is_a_no_op_and_sequences_are_accepted() -> None:
    norm = RunningMeanStd(2)
    norm.update(torch.zeros(0, 2))
    assert float(norm.count) == pytest.approx(1e-4)
    norm.update(torch.ones(4, 5, 2))  # (B, T, dim)
    assert float(norm.count) == pytest.approx(20.0001)
    assert norm.normalize(torch.ones(3, 2)).shape == (3, 2)
