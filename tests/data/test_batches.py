"""In-memory minibatch iterator."""

from __future__ import annotations

import pytest
import torch

from esper.data.batches import iterate_minibatches, num_minibatches


def _data(n: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.arange(n, dtype=torch.float32).unsqueeze(1), torch.arange(n)


def test_every_sample_once_per_epoch() -> None:
    x, y = _data(10)
    batches = list(iterate_minibatches(x, y, 3, generator=torch.Generator().manual_seed(1)))
    assert [len(b[1]) for b in batches] == [3, 3, 3, 1]
    seen = torch.cat([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(10))
    assert not torch.equal(seen, torch.arange(10))  # shuffled
    for bx, by in batches:
        assert torch.equal(bx.squeeze(1).long(), by)  # x and y stay paired


def test_seeded_generator_is_deterministic() -> None:
    x, y = _data(20)
    first = [b[1] for b in iterate_minibatches(x, y, 4, generator=torch.Generator().manual_seed(7))]
    second = [b[1] for b in iterate_minibatches(x, y, 4, generator=torch.Generator().manual_seed(7))]
    other = [b[1] for b in iterate_minibatches(x, y, 4, generator=torch.Generator().manual_seed(8))]
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_no_shuffle_and_drop_last() -> None:
    x, y = _data(10)
    batches = [b[1].tolist() for b in iterate_minibatches(x, y, 4, shuffle=False, drop_last=True)]
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert num_minibatches(10, 4, drop_last=True) == 2
    assert num_minibatches(10, 4) == 3


def test_bad_arguments() -> None:
    x, y = _data(10)
    with pytest.raises(ValueError, match="batch_size"):
        list(iterate_minibatches(x, y, 0))
    with pytest.raises(ValueError, match="same number of samples"):
        list(iterate_minibatches(x, y[:5], 2))
