"""DEC.kasmina.15: TRAINING seeds learn through a proximal straight-through term and stay bounded."""

from __future__ import annotations

import torch

import pytest

from esper.kasmina.slot import SeedSlot, SeedStage
from esper.kasmina.straight_through import proximal_straight_through
from esper.leyline.defaults import SEED_PROXIMAL_STRENGTH


@pytest.mark.req("DEC.kasmina.15")
def test_value_is_the_host_and_seed_gradient_is_task_plus_pull() -> None:
    torch.manual_seed(0)
    h = torch.randn(4, 3, requires_grad=True)
    s = torch.randn(4, 3, requires_grad=True)
    upstream = torch.randn(4, 3)
    out = proximal_straight_through(h, s, h.detach(), 2.0)
    assert torch.equal(out, h)
    out.backward(upstream)
    assert s.grad is not None and h.grad is not None
    torch.testing.assert_close(s.grad, upstream + 2.0 * (s.detach() - h.detach()) / 4)  # (B, C): 4 positions


@pytest.mark.req("DEC.kasmina.15", "DEC.seedhealth.1")
def test_pull_is_averaged_over_every_position() -> None:
    """CNN maps (B, C, H, W) average over B*H*W; sequences (B, T, D) over B*T (channel_dim=-1)."""
    torch.manual_seed(0)
    for shape, channel_dim, n in (((2, 3, 4, 5), 1, 2 * 4 * 5), ((2, 7, 6), -1, 2 * 7)):
        h = torch.randn(shape, requires_grad=True)
        s = torch.randn(shape, requires_grad=True)
        out = proximal_straight_through(h, s, h.detach(), 1.5, channel_dim=channel_dim)
        assert torch.equal(out, h)
        upstream = torch.randn(shape)
        out.backward(upstream)
        assert s.grad is not None
        torch.testing.assert_close(s.grad, upstream + 1.5 * (s.detach() - h.detach()) / n)
    with pytest.raises(ValueError, match="channel_dim"):
        proximal_straight_through(h, s, h.detach(), 1.0, channel_dim=3)
    torch.testing.assert_close(h.grad, upstream)


def _training_slot() -> SeedSlot:
    slot = SeedSlot(slot_id="r0c0", channels=8, device="cpu")
    slot.germinate(blueprint_id="conv_small", seed_id="s")
    slot.step_epoch()
    assert slot.state is not None and slot.state.stage == SeedStage.TRAINING
    return slot


@pytest.mark.req("DEC.kasmina.15")
def test_seed_residual_converges_under_a_constant_task_gradient() -> None:
    """With a fixed upstream gradient the plain straight-through drifts linearly; the proximal one converges."""
    torch.manual_seed(0)
    slot = _training_slot()
    x = torch.randn(16, 8, 4, 4)
    upstream = torch.randn_like(x) / x.shape[0]
    opt = torch.optim.SGD(slot.seed_parameters(), lr=0.1)
    norms = []
    for _ in range(300):
        opt.zero_grad()
        out = slot(x)
        assert torch.equal(out, x)
        out.backward(upstream)
        opt.step()
        with torch.no_grad():
            norms.append(float((slot.seed(x) - x).norm()))
    assert abs(norms[-1] - norms[-50]) < 1e-3 * max(1.0, norms[-1])  # converged
    # A plain straight-through under the same gradient keeps growing.
    torch.manual_seed(0)
    plain = _training_slot()
    opt = torch.optim.SGD(plain.seed_parameters(), lr=0.1)
    for _ in range(300):
        opt.zero_grad()
        s = plain.seed(x)
        (x + (s - s.detach())).backward(upstream)
        opt.step()
    with torch.no_grad():
        assert float((plain.seed(x) - x).norm()) > 5 * norms[-1]
    assert SEED_PROXIMAL_STRENGTH == 1.0
