"""Issue 13 item 4: the masked-logit fill fits the dtype; masked log-prob/entropy are exact in fp16 and bf16."""

from __future__ import annotations

import pytest
import torch

from esper.leyline import HEAD_NAMES
from esper.leyline.defaults import MASKED_LOGIT
from esper.simic.agent.distributions import apply_mask, entropy_of, log_probs_of, masked_logit
from esper.simic.agent.network import FactoredRecurrentActorCritic

pytestmark = pytest.mark.req("ISSUE.13.66", "DEC.validation.7")

HALF_DTYPES = (torch.float16, torch.bfloat16)


def test_fill_fits_every_floating_dtype() -> None:
    assert masked_logit(torch.float32) == masked_logit(torch.float64) == masked_logit(torch.bfloat16) == MASKED_LOGIT
    assert masked_logit(torch.float16) == -torch.finfo(torch.float16).max / 2
    for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        filled = apply_mask(torch.zeros(3, dtype=dtype), torch.tensor([True, False, True]))
        assert filled.dtype == dtype and bool(torch.isfinite(filled).all())
    with pytest.raises(TypeError, match="floating dtype"):
        masked_logit(torch.int64)


@pytest.mark.parametrize("dtype", HALF_DTYPES)
@pytest.mark.parametrize("autocast", [False, True])
def test_masked_log_prob_and_entropy_equal_the_valid_only_values_bit_for_bit(dtype: torch.dtype, autocast: bool) -> None:
    logits = (torch.randn(64, 7) * 4).to(dtype)
    mask = torch.rand(64, 7) > 0.4
    mask[:, 2] = True
    actions = torch.full((64,), 2)
    with torch.autocast("cpu", dtype=dtype, enabled=autocast):
        masked = apply_mask(logits, mask)
        log_probs, entropy = log_probs_of(masked, actions), entropy_of(masked, mask)
        for i in range(64):
            valid = logits[i][mask[i]].unsqueeze(0)
            index = torch.tensor([int(mask[i][:2].sum())])
            assert torch.equal(log_probs[i], log_probs_of(valid, index)[0])
            assert torch.equal(entropy[i], entropy_of(valid)[0])
    assert bool(torch.isfinite(log_probs).all()) and bool(torch.isfinite(entropy).all())


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_masked_rows_have_finite_gradients_in_half_precision(dtype: torch.dtype) -> None:
    logits = (torch.randn(16, 5) * 3).to(dtype).requires_grad_()
    mask = torch.rand(16, 5) > 0.5
    mask[:, 0] = True
    masked = apply_mask(logits, mask)
    loss = -(log_probs_of(masked, torch.zeros(16, dtype=torch.long)).sum() + entropy_of(masked, mask).sum())
    loss.backward()
    assert logits.grad is not None and bool(torch.isfinite(logits.grad).all())
    assert bool((logits.grad[~mask] == 0).all())  # a masked entry gets exactly no gradient


@pytest.mark.parametrize("dtype", HALF_DTYPES)
def test_network_runs_under_half_precision_autocast(dtype: torch.dtype) -> None:
    net = FactoredRecurrentActorCritic(10, hidden_dim=16)
    obs = torch.randn(3, 4, 10)
    masks = {name: torch.rand(3, 4, n) > 0.5 for name, n in net.head_sizes.items()}
    for m in masks.values():
        m[..., 0] = True
    actions = {name: torch.zeros(3, 4, dtype=torch.long) for name in HEAD_NAMES}
    with torch.autocast("cpu", dtype=dtype):
        log_probs, entropy, values = net.evaluate_actions(obs, actions, None, masks)
        acted, acted_lp, acted_values, _ = net.get_action(obs[:, 0], None, {n: m[:, 0] for n, m in masks.items()})
    for name in HEAD_NAMES:
        assert bool(torch.isfinite(log_probs[name]).all()) and bool(torch.isfinite(entropy[name]).all())
        assert bool(masks[name][:, 0].gather(-1, acted[name].unsqueeze(-1)).all())  # never samples a masked action
        assert bool(torch.isfinite(acted_lp[name]).all())
    assert bool(torch.isfinite(values).all()) and bool(torch.isfinite(acted_values).all())
    # The masked log-probs equal a float32 reference over the valid entries, to the autocast dtype's rounding.
    reference, _, _ = net.evaluate_actions(obs, actions, None, masks)
    tol = 2e-2 if dtype == torch.float16 else 1e-1
    for name in HEAD_NAMES:
        assert torch.allclose(log_probs[name].float(), reference[name], atol=tol)
